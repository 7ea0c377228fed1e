"""Metrics: advocacy scores and advocate types on a generated half-year of a shop."""

# --8<-- [start:program]
from advokit import Program
from advokit.plugins.referrals import Referrals
from advokit.plugins.scoring import Scoring, Segment, advocate_type
from advokit.plugins.scoring.advocacy import AdvocacyWeights, BrandWeights
from advokit.plugins.scoring.types import AdvocateType, performed_at_least

program = Program(
    name="shop",
    database_url="sqlite:///shop.db",
    plugins=[
        Referrals(),
        Scoring(
            advocacy=AdvocacyWeights(
                nps=0.4,
                shares=0.05,
                caps={"shares": 20},
                brand=BrandWeights(active_days=30),  # the BAI's "recently active"
            ),
            types=[AdvocateType("social_sharer", performed_at_least("share.posted", 5))],
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
ann = program.advocacy_score("ann")  # "why is Ann at 25.5?"
print(ann.value)
for part in ann.details["contributions"]:
    print(part.component, part.raw, part.normalised, part.weight, part.points)
print(program.advocacy_scores(limit=10))  # [('c23', 64.8), ('c52', 49.2), ...]

cas = program.score("cas")  # the mean, and its distribution
print(cas.value, cas.n, cas.details["distribution"])
print(program.score("bai").value)
print(program.score("advocate_types").counts)  # {'loyal_customer': 55, ...}
print(program.advocate_types_of("c23"))  # frozenset({'passionate_enthusiast', ...})
sharers = Segment("sharers", advocate_type("social_sharer"))
print(program.score("nps", segment=sharers))
# --8<-- [end:ask]

# "why is Ann at ...?": the contributions add up to her score
assert round(sum(part.points for part in ann.details["contributions"]), 6) == round(ann.value, 6)
top = program.advocacy_scores(limit=10)
assert [value for _, value in top] == sorted((value for _, value in top), reverse=True)
assert cas.n == len(program.advocacy_scores(limit=1000))  # every advocate counts
assert 0 <= program.score("bai").value <= 100
