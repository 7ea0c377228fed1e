"""Metrics at scale: NPS by month over a million answers, CAS over ten million actions.

Run::

    python benchmarks/bench_scoring.py [--answers N] [--advocates M] [--actions A]
        [--rounds R] [--backends sqlite,postgresql] [--postgres-url URL]

For each backend, two databases are filled with rows written straight to the
tables (recording ten million actions through the pipeline would take hours,
and what is timed here is reading them):

1. **NPS by month** over N ``survey.answered`` actions (scores 0-10 spread
   over 24 months, some naming the survey, some not) of M/10 advocates:
   ``program.score("nps", by="month")`` against a hand-written SQL aggregate
   of the same figure (one GROUP BY month with the same filters), run in the
   same process on the same database. Both must give the same counts per
   month. Target: the scorer within 2x of the hand-written SQL.
2. **CAS for M advocates over A actions** (purchases, reviews, shares with
   reach, UGC, community posts, referral shares and invitations, NPS answers):
   ``program.score("cas")`` (every advocate's Customer Advocacy Score, their
   mean, its distribution and each component's contribution) against a
   hand-written SQL computation of the same mean: reported, no target.

Each figure is the median of R runs after one warm-up. Targets are printed as
PASS/FAIL lines; the exit status is 1 when one fails, 2 when a scorer's
figure differs from the hand-written SQL's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from advokit import Program
from advokit.core.clock import ManualClock

NOW = datetime(2026, 6, 1, tzinfo=UTC)
START = NOW - timedelta(days=730)
ADVOCACY = ("review.posted", "share.posted", "ugc.submitted", "community.post")
MIX = (
    ("purchase.completed", 30),
    ("survey.answered", 10),
    ("review.posted", 10),
    ("share.posted", 20),
    ("ugc.submitted", 5),
    ("community.post", 15),
    ("referral.shared", 5),
    ("referral.invited", 5),
)


def _median_seconds(run: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    result = run()  # warm-up: caches, the schema check, the planner
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


# --------------------------------------------------------------------------- filling


def _stamp(seconds: float, backend: str) -> Any:
    when = START + timedelta(seconds=seconds)
    if backend == "sqlite":
        return when.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return when


def _advocate_rows(count: int, backend: str) -> Iterator[tuple[Any, ...]]:
    enrolled = _stamp(0, backend)
    for n in range(count):
        yield (n + 1, "bench", f"adv-{n}", "customer", "en", "UTC", "{}", "{}", enrolled, enrolled)


def _action_data(kind: str, rng: random.Random, n: int) -> str:
    if kind == "survey.answered":
        data: dict[str, Any] = {"score": rng.randint(0, 10)}
        if rng.random() < 0.5:
            data["survey"] = "nps"
    elif kind == "purchase.completed":
        data = {"order_id": f"o{n}", "total_cents": rng.randint(500, 20000)}
    elif kind == "share.posted":
        data = {"reach": rng.randint(10, 5000)}
    else:
        data = {}
    return json.dumps(data)


def _action_rows(
    count: int, advocates: int, kinds: list[str], backend: str, seed: int
) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    span = (NOW - START).total_seconds()
    recorded = _stamp(span, backend)
    for n in range(count):
        kind = kinds[n % len(kinds)]
        yield (
            n + 1,
            "bench",
            f"k{n:09d}",
            kind,
            rng.randrange(advocates) + 1,
            _stamp(rng.uniform(0, span - 1), backend),
            recorded,
            _action_data(kind, rng, n),
            "",
            "applied",
            "[]",
            "[]",
        )


ADVOCATE_COLUMNS = (
    "id, program, external_id, kind, locale, timezone, attributes, consent, enrolled_at, updated_at"
)
ACTION_COLUMNS = (
    "id, program, key, kind, advocate_id, occurred_at, recorded_at, data, fingerprint, "
    "status, reasons, effects"
)


def _fill(url: str, advocates: int, actions: int, kinds: list[str], seed: int) -> float:
    """Write the rows straight to the program's tables; returns the seconds it took."""
    started = time.perf_counter()
    backend = sa.make_url(url).get_backend_name()
    if backend == "sqlite":
        conn = sqlite3.connect(sa.make_url(url).database)
        conn.execute("PRAGMA synchronous=OFF")
        with conn:
            conn.executemany(
                f"INSERT INTO advokit_advocates ({ADVOCATE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                _advocate_rows(advocates, backend),
            )
            conn.executemany(
                f"INSERT INTO advokit_actions ({ACTION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                _action_rows(actions, advocates, kinds, backend, seed),
            )
        conn.execute("ANALYZE")
        conn.close()
    else:
        import psycopg

        plain = sa.make_url(url).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(plain) as conn:
            with conn.cursor() as cur:
                with cur.copy(f"COPY advokit_advocates ({ADVOCATE_COLUMNS}) FROM STDIN") as copy:
                    for row in _advocate_rows(advocates, backend):
                        copy.write_row(row)
                with cur.copy(f"COPY advokit_actions ({ACTION_COLUMNS}) FROM STDIN") as copy:
                    for row in _action_rows(actions, advocates, kinds, backend, seed):
                        copy.write_row(row)
                cur.execute(
                    "SELECT setval(pg_get_serial_sequence('advokit_actions', 'id'), %s)",
                    (actions + 1,),
                )
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE advokit_actions")
            conn.execute("VACUUM ANALYZE advokit_advocates")
    return time.perf_counter() - started


@contextlib.contextmanager
def _database(backend: str, postgres_url: str, directory: Path, name: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{directory / (name + '.db')}"
        return
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    database = f"advokit_bench_{name}_{os.getpid()}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    try:
        yield sa.make_url(postgres_url).set(database=database).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


def _program(url: str) -> Program:
    program = Program(
        name="bench", database_url=url, clock=ManualClock(NOW), load_entrypoints=False
    )
    program.migrate()
    return program


# --------------------------------------------------------------------------- hand-written SQL


def _nps_sql(backend: str) -> str:
    if backend == "sqlite":
        score, survey, month = (
            "json_extract(data, '$.score')",
            "coalesce(json_extract(data, '$.survey'), 'nps')",
            "substr(occurred_at, 1, 7)",
        )
    else:
        score, survey, month = (
            "(data->>'score')::int",
            "coalesce(data->>'survey', 'nps')",
            "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM')",
        )
    return (
        f"SELECT {month} AS month, count(*), "
        f"sum(CASE WHEN {score} >= 9 THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN {score} <= 6 THEN 1 ELSE 0 END) "
        "FROM advokit_actions WHERE program = 'bench' AND kind = 'survey.answered' "
        f"AND status = 'applied' AND {survey} = 'nps' GROUP BY month ORDER BY month"
    )


def bench_nps(backend: str, url: str, args: argparse.Namespace) -> bool:
    program = _program(url)
    filled = _fill(url, max(args.advocates // 10, 1), args.answers, ["survey.answered"], seed=1)
    print(f"  filled {args.answers:,} answers in {filled:.1f} s")
    engine = program.engine
    sql = _nps_sql(backend)

    def by_hand() -> list[tuple[str, int, int, int]]:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql).all()]

    def scorer() -> Any:
        return program.score("nps", by="month")

    hand_seconds, hand = _median_seconds(by_hand, args.rounds)
    score_seconds, score = _median_seconds(scorer, args.rounds)
    ours = [
        (p.period.strftime("%Y-%m"), p.n, p.counts["promoters"], p.counts["detractors"])
        for p in score.periods
    ]
    if ours != hand:
        print(f"  MISMATCH: scorer {ours}, SQL {hand}", file=sys.stderr)
        sys.exit(2)  # a wrong figure is a bug, not a missed target
    ratio = score_seconds / hand_seconds
    print(
        f"  NPS by month over {args.answers:,} answers ({len(ours)} months, NPS "
        f"{score.value:.1f} ±{score.margin:.2f}): scorer {score_seconds:.3f} s, "
        f"hand-written SQL {hand_seconds:.3f} s, scorer / SQL {ratio:.2f}x"
    )
    verdict = ratio <= 2.0
    print(f"  {'PASS' if verdict else 'FAIL'}: NPS within 2x of hand-written SQL ({ratio:.2f}x)")
    program.close()
    return verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--advocates", type=int, default=100_000)
    parser.add_argument("--actions", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "ADVOKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args(argv)
    verdicts = []
    with tempfile.TemporaryDirectory() as directory:
        for backend in args.backends.split(","):
            print(f"=== {backend} ===")
            with _database(backend, args.postgres_url, Path(directory), "nps") as url:
                verdicts.append(bench_nps(backend, url, args))
            with _database(backend, args.postgres_url, Path(directory), "cas") as url:
                verdicts.append(bench_cas(backend, url, args))
    return 0 if all(verdicts) else 1


def _cas_sql(backend: str) -> str:
    """The mean Customer Advocacy Score with the default weights, written by hand
    (the program has no referrals plugin: those two components are 0)."""
    advocacy = "('review.posted', 'share.posted', 'ugc.submitted', 'community.post', " + (
        "'referral.shared', 'referral.invited')"
    )
    if backend == "sqlite":
        score, survey = "json_extract(data, '$.score')", "json_extract(data, '$.survey')"
        days = "julianday('2026-06-01 00:00:00') - julianday(last_at)"
        least, greatest = "min", "max"
    else:
        score, survey = "(data->>'score')::int", "data->>'survey'"
        days = "extract(epoch from timestamptz '2026-06-01 00:00:00+00' - last_at) / 86400"
        least, greatest = "least", "greatest"
    counted = ", ".join(
        f"sum(CASE WHEN kind = '{kind}' THEN 1 ELSE 0 END) AS {name}"
        for name, kind in (
            ("reviews", "review.posted"),
            ("shares", "share.posted"),
            ("ugc", "ugc.submitted"),
            ("community", "community.post"),
        )
    )
    return f"""
        WITH activity AS (
            SELECT advocate_id, {counted},
                   max(CASE WHEN kind IN {advocacy} THEN occurred_at END) AS last_at
            FROM advokit_actions
            WHERE program = 'bench' AND status = 'applied' AND kind IN {advocacy}
            GROUP BY advocate_id
        ), ranked AS (
            SELECT advocate_id, {score} AS score,
                   row_number() OVER (PARTITION BY advocate_id
                                      ORDER BY occurred_at DESC, id DESC) AS rank
            FROM advokit_actions
            WHERE program = 'bench' AND kind = 'survey.answered' AND status = 'applied'
              AND coalesce({survey}, 'nps') = 'nps'
        )
        SELECT count(*), avg(
              25 * coalesce(r.score, 0) / 10.0
            + 15 * {least}(coalesce(reviews, 0) / 3.0, 1)
            + 10 * {least}(coalesce(shares, 0) / 10.0, 1)
            + 10 * {least}(coalesce(ugc, 0) / 3.0, 1)
            + 5 * {least}(coalesce(community, 0) / 10.0, 1)
            + 10 * CASE WHEN last_at IS NULL THEN 0
                        ELSE {greatest}(0, {least}(1, 1 - ({days}) / 180.0)) END
        )
        FROM advokit_advocates a
        LEFT JOIN activity ON activity.advocate_id = a.id
        LEFT JOIN ranked r ON r.advocate_id = a.id AND r.rank = 1
        WHERE a.program = 'bench'
    """


def bench_cas(backend: str, url: str, args: argparse.Namespace) -> bool:
    program = _program(url)
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    random.Random(2).shuffle(kinds)
    filled = _fill(url, args.advocates, args.actions, kinds, seed=2)
    print(f"  filled {args.advocates:,} advocates and {args.actions:,} actions in {filled:.1f} s")
    engine = program.engine
    sql = _cas_sql(backend)

    def by_hand() -> tuple[int, float]:
        with engine.connect() as conn:
            count, mean = conn.exec_driver_sql(sql).one()
            return count, float(mean)

    hand_seconds, (count, mean) = _median_seconds(by_hand, args.rounds)
    score_seconds, score = _median_seconds(lambda: program.score("cas"), args.rounds)
    if score.n != count or abs(score.value - mean) > 1e-6:
        print(f"  MISMATCH: scorer {score.n} {score.value}, SQL {count} {mean}", file=sys.stderr)
        sys.exit(2)
    ratio = score_seconds / hand_seconds
    print(
        f"  CAS for {score.n:,} advocates over {args.actions:,} actions (mean "
        f"{score.value:.2f}): scorer {score_seconds:.3f} s, hand-written SQL "
        f"{hand_seconds:.3f} s, scorer / SQL {ratio:.2f}x"
    )
    program.close()
    return True  # reported: the 2x target is NPS's


if __name__ == "__main__":
    sys.exit(main())
