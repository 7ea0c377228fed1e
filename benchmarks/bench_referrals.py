"""Referrals at scale on SQLite: what screening and referral evaluation add to recording.

Run::

    python benchmarks/bench_referrals.py [--referrers R] [--referrals F] [--friends M]
        [--batch B] [--rounds N]

A database with R referrers (each with a code) and F prior referrals is built
once in SQL (each referred friend is an advocate too, so it holds R + F + M
advocates); the referrals are spread over their lifecycle, and every referrer
has a browser fingerprint. Each round copies it twice and records, with
``record_many`` in batches of B, the same M new friends' signups (each with a
referrer's code) and then their first purchases (each with the buyer's
address), on:

* the baseline: points only (a purchase earns points), with the same schema and
  action kinds but no referral logic;
* the referral program: the same points plus ``Referrals`` (attribution,
  conversion, the address kept as a digest for the velocity per address) and
  ``Fraud`` (every signup scored: inboxes, fingerprints, velocity, cycles).

Each copy is on disk before its program is timed (see :func:`settled_copy`);
the two programs record batch by batch in turn (see :func:`interleaved`); the
time is the wall-clock time of ``record_many``, the ratio the median of the
rounds' ratios.

Target: per conversion (a friend's first purchase), the referral program takes
at most 2x the baseline's time (median of N rounds); signups are reported too.
Exit status 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from advokit import Action, Program, hookimpl
from advokit.plugins.fraud import Fraud
from advokit.plugins.fraud.plugin import MIGRATIONS as FRAUD_MIGRATIONS
from advokit.plugins.points import Points, PointsRule
from advokit.plugins.referrals import KINDS, Referrals
from advokit.plugins.referrals.digests import digest
from advokit.plugins.referrals.plugin import MIGRATIONS as REFERRALS_MIGRATIONS

PROGRAM = "bench"
TARGET = 2.0  # referral program / points-only time per conversion, at most
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
BROWSER = "Mozilla/5.0 Firefox/131.0"


class SameSchema:
    """The baseline's plugin: the referral tables and kinds, none of their logic."""

    plugin_name = "same_schema"

    @hookimpl
    def advokit_register_action_kinds(self, register: Any) -> None:
        for kind in KINDS:
            register(kind)

    @hookimpl
    def advokit_register_migrations(self, register: Any) -> None:
        register(REFERRALS_MIGRATIONS, name="referrals")
        register(FRAUD_MIGRATIONS, name="fraud")


def points() -> Points:
    return Points(PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100))


def referral_plugins() -> list[Any]:
    return [
        Referrals(referrer_points=150, friend_points=100, refund_window=timedelta(days=14)),
        Fraud(),
    ]


def build(path: Path, plugins: list[Any]) -> Program:
    return Program(
        name=PROGRAM,
        database_url=f"sqlite:///{path}",
        plugins=plugins,
        load_entrypoints=False,
        clock=lambda: NOW,
    )


# --------------------------------------------------------------------------- the database


def stamp(at: datetime) -> str:
    """A datetime as advokit stores it on SQLite (naive UTC text)."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", timespec="microseconds")


def referrer_of(i: int) -> str:
    return f"ref-{i:07d}"


def build_database(path: Path, referrers: int, referrals: int, friends: int, seed: int) -> float:
    """The prior state, written in SQL; returns the seconds it took."""
    started = time.perf_counter()
    program = build(path, [points(), *referral_plugins()])
    program.migrate()
    program.close()
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    now = stamp(NOW)
    people = (
        [referrer_of(i) for i in range(referrers)]
        + [f"old-{i:08d}" for i in range(referrals)]
        + [f"new-{i:07d}" for i in range(friends)]
    )
    conn.executemany(
        "INSERT INTO advokit_advocates (id, program, external_id, kind, name, email, locale,"
        " timezone, attributes, consent, enrolled_at, updated_at)"
        " VALUES (?, ?, ?, 'customer', ?, ?, 'en', 'UTC', '{}', '{}', ?, ?)",
        (
            (n + 1, PROGRAM, name, name.title(), f"{name}@example.com", now, now)
            for n, name in enumerate(people)
        ),
    )
    conn.executemany(
        "INSERT INTO referrals_codes (program, code, advocate_id, vanity, created_at)"
        " VALUES (?, ?, ?, 1, ?)",
        ((PROGRAM, f"R{i:07d}", i + 1, now) for i in range(referrers)),
    )
    conn.executemany(
        "INSERT INTO fraud_fingerprints (advocate_id, kind, value, program, seen, last_seen_at)"
        " VALUES (?, 'ip_user_agent', ?, ?, 1, ?)",
        (
            (
                i + 1,
                digest(f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}\n{BROWSER}"),
                PROGRAM,
                now,
            )
            for i in range(referrers)
        ),
    )
    conn.executemany(
        "INSERT INTO referrals_referrals (friend_id, program, version, referrer_id, code, source,"
        " state, attributed_at, order_id, amount_cents, converted_at, hold_until, rewarded_at,"
        " reward_key, voided_at, void_reason) VALUES"
        " (?, ?, 1, ?, ?, 'code', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (prior_referral(rng, referrers, referrers + i + 1) for i in range(referrals)),
    )
    conn.commit()
    conn.close()
    return time.perf_counter() - started


def prior_referral(rng: random.Random, referrers: int, friend_id: int) -> tuple[Any, ...]:
    referrer = rng.randrange(referrers)
    attributed = NOW - timedelta(days=30 + rng.randrange(700))
    state = rng.choices(["rewarded", "voided", "pending", "signed_up"], [5, 1, 1, 3])[0]
    converted = attributed + timedelta(days=2) if state != "signed_up" else None
    order = f"old-order-{friend_id}" if converted else None
    rewarded = attributed + timedelta(days=20) if state == "rewarded" else None
    voided = attributed + timedelta(days=5) if state == "voided" else None
    return (
        friend_id,
        PROGRAM,
        referrer + 1,
        f"R{referrer:07d}",
        state,
        stamp(attributed),
        order,
        2000 if converted else None,
        stamp(converted) if converted else None,
        stamp(converted + timedelta(days=15)) if converted else None,
        stamp(rewarded) if rewarded else None,
        f"referral.approved>{friend_id}" if rewarded else None,
        stamp(voided) if voided else None,
        "refunded" if voided else None,
    )


# --------------------------------------------------------------------------- recording


def workload(referrers: int, friends: int, seed: int) -> tuple[list[Action], list[Action]]:
    rng = random.Random(seed)
    signups, purchases = [], []
    for i in range(friends):
        friend = f"new-{i:07d}"
        referrer = rng.randrange(referrers)
        signups.append(
            Action(
                kind="referral.signed_up",
                advocate=friend,
                key=f"signup-{friend}",
                data={
                    "code": f"r{referrer:07d}",
                    "ip": f"192.0.2.{rng.randrange(256)}",
                    "user_agent": BROWSER,
                },
            )
        )
        purchases.append(
            Action(
                kind="purchase.completed",
                advocate=friend,
                key=f"order-{friend}",
                data={
                    "order_id": f"order-{friend}",
                    "total_cents": rng.randrange(500, 5000),
                    "ip": f"198.51.100.{rng.randrange(256)}",  # kept for the velocity per address
                },
            )
        )
    return signups, purchases


def batches(items: Sequence[Action], size: int) -> Iterator[Sequence[Action]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def interleaved(
    programs: dict[str, Program], actions: Sequence[Action], size: int
) -> dict[str, tuple[float, list[str]]]:
    """Record ``actions`` on every program, batch by batch in turn; each one's time and statuses.

    Taking turns per batch (the first to go alternating) gives both programs
    the same machine: a slow spell of a shared VM lands on both, not on
    whichever happened to run then.
    """
    seconds = dict.fromkeys(programs, 0.0)
    statuses: dict[str, list[str]] = {name: [] for name in programs}
    names = list(programs)
    for number, batch in enumerate(batches(actions, size)):
        for name in names if number % 2 == 0 else reversed(names):
            start = time.perf_counter()
            outcomes = programs[name].record_many(batch)
            seconds[name] += time.perf_counter() - start
            statuses[name].extend(o.status.value for o in outcomes)
    return {name: (seconds[name], statuses[name]) for name in programs}


def settled_copy(base: Path, copy: Path) -> None:
    """Copy the database and wait until it is on disk.

    Otherwise the kernel writes the copy's hundreds of megabytes back while
    one of the programs is being timed, and whichever it is looks slower.
    """
    shutil.copyfile(base, copy)
    with open(copy, "rb+") as file:
        os.fsync(file.fileno())
    gc.collect()  # each round starts without the garbage of the one before


def run_round(base: Path, workdir: Path, args: argparse.Namespace, number: int) -> dict[str, Any]:
    signups, purchases = workload(args.referrers, args.friends, args.seed + number)
    programs = {}
    for name, plugins in (
        ("points", [points(), SameSchema()]),
        ("referrals", [points(), *referral_plugins()]),
    ):
        copy = workdir / f"{name}-{number}.db"
        settled_copy(base, copy)
        programs[name] = build(copy, plugins)
    found: dict[str, Any] = {}
    signed = interleaved(programs, signups, args.batch)
    bought = interleaved(programs, purchases, args.batch)
    for name, program in programs.items():
        found[f"{name} signups"], found[f"{name} purchases"] = signed[name][0], bought[name][0]
        found[f"{name} statuses"] = (signed[name][1], bought[name][1])
        program.close()
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrers", type=int, default=100_000)
    parser.add_argument("--referrals", type=int, default=1_000_000, help="prior referrals")
    parser.add_argument("--friends", type=int, default=10_000, help="M new friends recorded")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if min(args.referrers, args.friends, args.batch, args.rounds) < 1 or args.referrals < 0:
        parser.error("counts must be positive")
    print(
        f"advokit referrals benchmark: Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="advokit-bench-") as tmp:
        workdir = Path(tmp)
        base = workdir / "base.db"
        seconds = build_database(base, args.referrers, args.referrals, args.friends, args.seed)
        print(
            f"{args.referrers:,} referrers, {args.referrals:,} prior referrals, "
            f"{args.friends:,} new friends (built in {seconds:.0f} s); batches of {args.batch}"
        )
        conversion, signup = [], []
        for number in range(1, args.rounds + 1):
            found = run_round(base, workdir, args, number)
            per = {k: 1e6 * v / args.friends for k, v in found.items() if "statuses" not in k}
            conversion.append(per["referrals purchases"] / per["points purchases"])
            signup.append(per["referrals signups"] / per["points signups"])
            signed, bought = found["referrals statuses"]
            print(
                f"round {number}: per conversion {per['points purchases']:.0f} µs points only, "
                f"{per['referrals purchases']:.0f} µs with referrals + fraud "
                f"({conversion[-1]:.2f}x); per signup {per['points signups']:.0f} µs -> "
                f"{per['referrals signups']:.0f} µs ({signup[-1]:.2f}x); signups "
                f"{summary(signed)}, purchases {summary(bought)}"
            )
        ratio = statistics.median(conversion)
        ok = ratio <= TARGET
        print(
            f"{'PASS' if ok else 'FAIL'} referral program / points only per conversion "
            f"{ratio:.2f}x (target <= {TARGET}x); per signup {statistics.median(signup):.2f}x"
        )
    return 0 if ok else 1


def summary(statuses: list[str]) -> str:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{n:,} {status}" for status, n in sorted(counts.items()))


if __name__ == "__main__":
    raise SystemExit(main())
