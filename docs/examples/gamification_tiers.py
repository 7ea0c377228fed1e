"""Gamification: tiers qualified on points earned in a rolling year, with a multiplier."""

# --8<-- [start:program]
from datetime import timedelta

from advokit import Program
from advokit.plugins.points import Points, PointsRule
from advokit.plugins.tiers import Rolling, Tier, Tiers

program = Program(
    name="coffee",
    plugins=[
        Points(PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100)),
        Tiers(
            Tier("bronze", 0),
            Tier("silver", 500, retain=400, multiplier=1.25),
            Tier("gold", 2000, retain=1500, multiplier=1.5, benefits={"free_drink": "large"}),
            window=Rolling(365),
            grace=timedelta(days=30),
        ),
    ],
    policies=["tier_multiplier"],  # before caps, so that caps bound multiplied points
)
# --8<-- [end:program]

if __name__ == "__main__":
    from advokit import Action, Advocate

    def purchase(order, cents):
        data = {"order_id": order, "total_cents": cents}
        return program.record(
            Action(kind="purchase.completed", advocate="ann", key=f"order-{order}", data=data)
        )

    program.migrate()
    program.enroll(Advocate(external_id="ann"))
    assert program.tier("ann").tier.name == "bronze"
    assert purchase("1", 60_000).points == 600  # earned as bronze
    status = program.tier("ann")
    assert (status.tier.name, status.next_tier.name, status.to_next) == ("silver", "gold", 1400)
    assert purchase("2", 10_000).points == 125  # silver earns 1.25x
