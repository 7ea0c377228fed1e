"""What if a review had earned 25 points rather than 10? A backtest of May, from Python.

The bakery records two weeks of reviews and purchases (bakery.db, in the current
directory) under its rules of May; the same program with the new rule replays them
in a throwaway database: the bakery's own database is only read.
"""

from datetime import UTC, datetime, timedelta

from advokit import Action, Advocate, ManualClock, Program
from advokit.core.simulation import simulate
from advokit.plugins.points import Cap, Points, PointsRule


def bakery(review_points: int, clock: ManualClock | None = None) -> Program:
    return Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        clock=clock or ManualClock(datetime(2026, 6, 1, tzinfo=UTC)),
        load_entrypoints=False,
        plugins=[
            Points(
                PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100),
                PointsRule("review.posted", points=review_points),
            )
        ],
        policies=[Cap(50, per="day")],  # at most 50 points a day, whatever the rules
    )


# May: each customer buys and reviews every day, recorded as it happens
clock = ManualClock(datetime(2026, 5, 4, tzinfo=UTC))
with bakery(10, clock) as may:
    may.migrate()
    may.enroll_many(Advocate(external_id=f"c{n}") for n in range(3))
    for day in range(14):
        for n in range(3):
            at = datetime(2026, 5, 4, 9 + n, tzinfo=UTC) + timedelta(days=day)
            clock.set(at)
            order = {"order_id": f"{day}-{n}", "total_cents": 1200 * (n + 1)}
            may.record(
                Action(kind="purchase.completed", advocate=f"c{n}", key=f"o-{day}-{n}", data=order)
            )
            may.record(Action(kind="review.posted", advocate=f"c{n}", key=f"r-{day}-{n}"))

with bakery(25) as june:  # the rule as it would be
    backtest = simulate(june, datetime(2026, 5, 11, tzinfo=UTC), datetime(2026, 5, 18, tzinfo=UTC))

actual, simulated = backtest.actual.totals["points"], backtest.simulated.totals["points"]
print(f"points awarded that week: {actual['awarded']}, with the new rule: {simulated['awarded']}")
for reason, points in backtest.simulated.points["points"].items():
    print(f"  {reason}: {backtest.actual.points['points'][reason]} -> {points}")
# c0: 12 + 10 = 22 a day, then 12 + 25 = 37; c1: 24 + 10 = 34, then 24 + 25 = 49;
# c2: 36 + 10 = 46, then 36 + 14 = 50 (the cap), 7 days of each
assert actual["awarded"] == 7 * (22 + 34 + 46)
assert simulated["awarded"] == 7 * (37 + 49 + 50)
assert (backtest.replay.actions, backtest.replay.in_window) == (84, 42)  # the week before too
