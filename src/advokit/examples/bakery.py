"""A bakery's advocacy program: points for purchases, reviews and shares.

* a purchase earns 1 point per euro spent; a refund takes those points back;
* a review earns 50 points, at most once every 7 days;
* a share on social media earns 10 points;
* nobody earns more than 150 points a day (calendar day, in their time zone);
* 100 points buy a free croissant (``points.redeemed``).

``advokit demo`` runs :func:`run_demo` on a fresh SQLite file. The program
works from the command line too::

    advokit --program advokit.examples.bakery:build_program db upgrade
    advokit --program advokit.examples.bakery:build_program \\
        record review.posted --advocate c001 --key review-1 --data '{"rating": 5}'
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from advokit import Action, Advocate, AwardPoints, DeductPoints, Program
from advokit.plugins.points import Cap, Points, PointsRule, redemption

__all__ = ["DEMO_DATABASE_URL", "build_program", "format_summary", "run_demo"]

DEMO_DATABASE_URL = "sqlite:///advokit-demo.db"
CROISSANT = 100  # points
DAYS = 28
_START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # a Monday, opening time
_NAMES = ("Amelie", "Bruno", "Chloe", "Dmitri", "Emma", "Farid", "Giulia", "Hugo", "Ines", "Mei")
_ZONES = ("Europe/Paris", "Europe/Brussels", "Europe/Berlin", "Europe/Lisbon")


def build_program(database_url: str = DEMO_DATABASE_URL, **options: Any) -> Program:
    """The bakery program; ``options`` go to :class:`~advokit.Program` (``clock=``...)."""
    points = Points(
        PointsRule("purchase.completed", points=lambda a: a.data.get("total_cents", 0) // 100),
        PointsRule("review.posted", points=50, cooldown=timedelta(days=7)),
        PointsRule("share.posted", points=10),
        reversals={"purchase.refunded": "purchase_key"},
    )
    options.setdefault("policies", [Cap(150, per="day")])
    return Program(name="bakery", database_url=database_url, plugins=[points], **options)


def _action(rng: random.Random, who: str, key: str, refundable: list[str]) -> Action:
    """One customer action: mostly purchases, some reviews, shares, croissants, refunds."""
    roll = rng.random()
    if roll < 0.04 and refundable:
        order = refundable.pop(rng.randrange(len(refundable)))
        data: dict[str, Any] = {"order_id": order, "purchase_key": order}
        return Action(kind="purchase.refunded", advocate=who, key=key, data=data)
    if roll < 0.12:
        return redemption(who, CROISSANT, key=key, memo="free croissant")
    if roll < 0.24:
        data = {"rating": rng.choice((3, 4, 5, 5, 5)), "platform": "google"}
        return Action(kind="review.posted", advocate=who, key=key, data=data)
    if roll < 0.40:
        data = {"channel": rng.choice(("instagram", "facebook"))}
        return Action(kind="share.posted", advocate=who, key=key, data=data)
    catering = rng.random() < 0.04  # a big order now and then: the daily cap trims it
    cents = rng.randrange(8_000, 25_000) if catering else rng.randrange(250, 2_500)
    data = {"order_id": key, "total_cents": cents, "currency": "EUR"}
    return Action(kind="purchase.completed", advocate=who, key=key, data=data)


def run_demo(program: Program, advocates: int = 50, actions: int = 2000, seed: int = 1) -> dict:
    """Enroll customers and record ``actions`` over four weeks, one batch a day.

    The same settings give the same actions with the same keys: running the
    demo twice on one database replays the second time instead of applying.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    people = [
        Advocate(
            external_id=f"c{n:03d}",
            name=f"{rng.choice(_NAMES)} {chr(65 + rng.randrange(26))}.",
            timezone=rng.choice(_ZONES),
        )
        for n in range(1, advocates + 1)
    ]
    program.enroll_many(people)
    regulars = [1 / rank**0.9 for rank in range(1, advocates + 1)]  # a few come every day
    rng.shuffle(regulars)
    per_day = Counter(rng.randrange(DAYS) for _ in range(actions))
    refundable: dict[str, list[str]] = {}  # purchases of earlier days, per customer
    run = f"demo{seed}.{advocates}.{actions}"  # other settings make other actions: other keys
    outcomes = []
    for day in range(DAYS):
        batch = []
        for n in range(per_day[day]):
            who = rng.choices(people, regulars)[0].external_id
            action = _action(rng, who, f"{run}-{day:02d}-{n:04d}", refundable.get(who, []))
            when = _START + timedelta(days=day, minutes=rng.randrange(12 * 60))
            batch.append(attrs.evolve(action, occurred_at=when))
        outcomes += program.record_many(sorted(batch, key=lambda a: a.occurred_at))
        for action in batch:
            if action.kind == "purchase.completed":
                refundable.setdefault(action.advocate, []).append(action.key)

    effects = [e for o in outcomes for e in o.effects]
    board = program.leaderboard(limit=10_000)
    awarded = sum(e.points for e in effects if isinstance(e, AwardPoints))
    redeemed = sum(e.points for e in effects if isinstance(e, DeductPoints))
    balance = sum(standing.value for standing in board)
    return {
        "program": program.name,
        "advocates": advocates,
        "actions": len(outcomes),
        "status": dict(Counter(o.status.value for o in outcomes)),
        "replayed": sum(o.replayed for o in outcomes),
        "kinds": dict(Counter(o.kind for o in outcomes).most_common()),
        "points": {
            "awarded": awarded,
            "redeemed": redeemed,
            "reversed": awarded - redeemed - balance,
            "balance": balance,
        },
        "leaderboard": [
            {"rank": s.rank, "advocate": s.advocate, "name": s.name, "points": s.value}
            for s in board[:10]
        ],
        "seconds": round(time.perf_counter() - started, 2),
    }


def format_summary(summary: dict) -> str:
    """The summary of :func:`run_demo` as a short report with a top-10 table."""
    status, points = summary["status"], summary["points"]
    lines = [
        f"Recorded {summary['actions']:,} actions for {summary['advocates']} advocates "
        f"of program {summary['program']!r} in {summary['seconds']:.2f} s",
        f"  applied {status.get('applied', 0):,}, rejected {status.get('rejected', 0):,} "
        f"(not enough points), held {status.get('held', 0):,}, "
        f"replayed {summary['replayed']:,} (recorded before)",
        *(f"  {count:>6,}  {kind}" for kind, count in summary["kinds"].items()),
        f"Points: {points['awarded']:,} awarded, {points['redeemed']:,} redeemed, "
        f"{points['reversed']:,} reversed by refunds, {points['balance']:,} outstanding",
        "",
        "Top 10 by points balance",
        f"  {'rank':>4}  {'advocate':<8}  {'name':<12}  {'points':>7}",
    ]
    for row in summary["leaderboard"]:
        name = row["name"] or ""
        lines.append(f"  {row['rank']:>4}  {row['advocate']:<8}  {name:<12}  {row['points']:>7,}")
    return "\n".join(lines)


def main() -> None:
    """Run the demo on :data:`DEMO_DATABASE_URL` in the current directory."""
    from pathlib import Path

    for suffix in ("", "-wal", "-shm"):
        Path(f"advokit-demo.db{suffix}").unlink(missing_ok=True)
    with build_program(DEMO_DATABASE_URL) as program:
        program.migrate()
        print(format_summary(run_demo(program)))


if __name__ == "__main__":
    main()
