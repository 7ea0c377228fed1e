"""Built-in plugins, composed: points, tiers, badges, a challenge, a board, rewards."""

# --8<-- [start:program]
from datetime import timedelta

from advokit import Program, Reward
from advokit.plugins.badges import Badge, Badges, Count
from advokit.plugins.challenges import Challenge, Challenges, Step
from advokit.plugins.leaderboards import Board, Leaderboards
from advokit.plugins.occasions import Occasions
from advokit.plugins.points import Points, PointsRule
from advokit.plugins.rewards import CatalogueItem, Rewards
from advokit.plugins.tiers import CalendarYear, Tier, Tiers

program = Program(
    name="coffee",
    database_url="sqlite:///coffee.db",
    plugins=[
        Points(
            PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100),
            PointsRule("review.posted", points=25),
            PointsRule("advocate.birthday", points=50),
        ),
        Tiers(
            Tier("bronze", 0),
            Tier("silver", 500, retain=400),
            Tier("gold", 2000, retain=1500, multiplier=1.5),
            window=CalendarYear(),
            grace=timedelta(days=30),
        ),
        Badges(Badge("critic", Count("review.posted", levels=(1, 5, 10)), title="Critic")),
        Challenges(
            Challenge("monthly_reviews", (Step("review.posted", 2),), every="month", points=100)
        ),
        Leaderboards(Board("points")),
        Occasions(),
        Rewards(CatalogueItem(name="coffee", cost=150, reward=Reward(kind="coupon"))),
    ],
    policies=["tier_multiplier"],  # gold earns 1.5x
)
# --8<-- [end:program]

if __name__ == "__main__":
    from advokit import Action, Advocate

    program.migrate()
    program.enroll(Advocate(external_id="ann", name="Ann"))
    program.record(
        Action(
            kind="purchase.completed",
            advocate="ann",
            key="order-1",
            data={"order_id": "1", "total_cents": 60_000},
        )
    )
    for n in (1, 2):
        program.record(Action(kind="review.posted", advocate="ann", key=f"review-{n}"))
    # 600 + 2 x 25 for the reviews + 100 for the month's challenge
    assert program.balance("ann") == 750
    assert program.tier("ann").tier.name == "silver"
    assert [(b.badge.name, b.level) for b in program.badges("ann")] == [("critic", 1)]
    assert [s.advocate for s in program.board("points", window="month")] == ["ann"]
    assert program.redeem("ann", "coffee", key="coffee-1").status == "applied"
    assert program.balance("ann") == 600
