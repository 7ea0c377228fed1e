"""Rewards: a catalogue to redeem points for, approvals and a budget."""

# --8<-- [start:program]
from advokit import Program, Reward
from advokit.plugins.points import Points
from advokit.plugins.rewards import Budget, CatalogueItem, Rewards

program = Program(
    name="bakery",
    plugins=[
        Points(),
        Rewards(
            CatalogueItem(name="coffee", cost=150, reward=Reward(kind="coupon")),
            CatalogueItem(name="cake", cost=500, reward=Reward(kind="swag"), stock=20),
            CatalogueItem(name="mug", cost=300, reward=Reward(kind="swag"), per_advocate=1),
            approve_above=5000,  # an amount over 50.00 waits for a person
            approve_kinds={"cash"},
            budgets=[Budget(name="monthly", per="month", amount=100_000, currency="EUR")],
        ),
    ],
)
# --8<-- [end:program]

if __name__ == "__main__":
    from advokit import Advocate
    from advokit.plugins.points import adjustment

    program.migrate()
    program.enroll(Advocate(external_id="ana"))
    program.record(adjustment("ana", 1000, reason="welcome", key="welcome-ana"))
    # --8<-- [start:redeem]
    outcome = program.redeem("ana", "coffee", key="order-77-coffee")
    # --8<-- [end:redeem]
    assert outcome.status == "applied"
    assert program.redeem("ana", "coffee", key="order-77-coffee").replayed  # a retry
    assert program.balance("ana") == 850
    assert program.redeem("ana", "mug", key="mug-1").status == "applied"
    second_mug = program.redeem("ana", "mug", key="mug-2")
    assert (second_mug.status, second_mug.reasons) == ("rejected", ("reward.limit_reached",))
    assert program.balance("ana") == 550
