"""Metrics: referral economics, holdout groups, lift and ROI on a generated half-year."""

# --8<-- [start:program]
from datetime import UTC, datetime

from advokit import Program
from advokit.plugins.referrals import Referrals
from advokit.plugins.scoring import (
    Costs,
    Economics,
    Holdout,
    Scoring,
    Segment,
    advocate_kind,
    holdout_group,
)

spring = Holdout("spring-2026", share=0.1, eligible=advocate_kind("customer"))
program = Program(
    name="shop",
    database_url="sqlite:///shop.db",
    plugins=[
        Referrals(referrer_points=1000, friend_points=500),
        Scoring(
            economics=Economics(
                costs=Costs(fixed_cents=0, monthly_cents=50_000, per_reward_cents=200),
                points_value_cents=1,  # one point costs the shop one cent
                currency="EUR",
                holdouts=(spring,),
            ),
            segments=[Segment("held_out", holdout_group("spring-2026", "holdout"))],
        ),
    ],
)
program.migrate()
# --8<-- [end:program]


def the_shop_recorded_a_half_year():
    from _shop import record_history

    record_history(program)


the_shop_recorded_a_half_year()

# --8<-- [start:ask]
assigned = program.assign_holdout("spring-2026")
print(assigned)  # HoldoutCounts(name='spring-2026', assigned=136, held_out=16, treated=120)

may = (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
for month in program.score("referral_funnel", by="month").periods:
    print(month.period, dict(month.counts))  # 2026-01-01 {'attributed': 2, 'converted': 2, ...}
print(program.score("k_factor", window=may).details)
print(program.score("ltv", compare="referred").interval)
print(program.score("referral_cac", window=may).details["cost"])
lift = program.score("lift", holdout="spring-2026", outcome="revenue")
print(lift.value, lift.interval, lift.details["relative_lift_percent"])
print(
    program.score("roi", method="naive"),
    program.score("roi", method="holdout", holdout="spring-2026"),
)
# --8<-- [end:ask]

again = program.assign_holdout("spring-2026")  # assigned once: nobody changes group
assert (again.assigned, again.held_out) == (0, assigned.held_out)
assert 0 < assigned.held_out < assigned.assigned / 5  # about 10%
funnel = program.score("referral_funnel")
assert funnel.counts["attributed"] > 0
assert funnel.counts["converted"] <= funnel.counts["attributed"]
assert program.score("nps", segment="held_out").n <= program.score("nps").n
