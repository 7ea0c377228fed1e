"""The first program of Getting started: points for purchases and reviews, a treat to redeem."""

# --8<-- [start:program]
from datetime import timedelta

from advokit import Action, Advocate, IdempotencyConflict, Program
from advokit.plugins.points import Cap, Multiplier, Points, PointsRule, redemption

program = Program(
    name="bakery",
    database_url="sqlite:///bakery.db",
    plugins=[
        Points(
            PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100),
            PointsRule("review.posted", points=50, cooldown=timedelta(days=7)),
            reversals={"purchase.refunded": "purchase_key"},
        )
    ],
    policies=[Multiplier(2, kinds={"review.posted"}), Cap(300, per="day")],
)
program.migrate()
program.enroll(Advocate(external_id="c-1", name="Ada", email="ada@example.com"))

program.record(
    Action(
        kind="purchase.completed",
        advocate="c-1",
        key="order-1",
        data={"order_id": "1", "total_cents": 4200},
    )
)
program.record(Action(kind="review.posted", advocate="c-1", key="review-1"))
program.record(redemption("c-1", 100, key="croissant-1"))

print(program.balance("c-1"))  # 42 + 2 x 50 - 100 = 42
print(program.leaderboard(limit=3))
# --8<-- [end:program]
assert program.balance("c-1") == 42

# --8<-- [start:retry]
again = program.record(Action(kind="review.posted", advocate="c-1", key="review-1"))
print(again.replayed, program.balance("c-1"))  # True 42: the first outcome, nothing applied
# --8<-- [end:retry]
assert again.replayed
assert program.balance("c-1") == 42

# --8<-- [start:conflict]
try:
    program.record(
        Action(
            kind="purchase.completed",
            advocate="c-1",
            key="order-1",
            data={"order_id": "1", "total_cents": 9900},  # the same key, other data
        )
    )
except IdempotencyConflict as error:
    print(error)
# --8<-- [end:conflict]
else:
    raise AssertionError("the same key with other data was accepted")

# --8<-- [start:history]
for entry in program.history("c-1"):
    print(entry.delta, entry.reason, entry.action_key)
# --8<-- [end:history]
assert [e.delta for e in program.history("c-1")] == [-100, 100, 42]
