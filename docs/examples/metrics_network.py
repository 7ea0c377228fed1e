"""Metrics: sentiment and the referral network on a generated half-year of a shop."""

# --8<-- [start:program]
from advokit import Program
from advokit.plugins.referrals import Referrals

program = Program(name="shop", database_url="sqlite:///shop.db", plugins=[Referrals()])
program.migrate()
# --8<-- [end:program]


def the_shop_recorded_a_half_year():
    from _shop import record_history

    record_history(program)


the_shop_recorded_a_half_year()

# --8<-- [start:ask]
program.score_sentiment()  # score the new texts once, store them
mood = program.score("sentiment", by="month")
print(mood.value, mood.counts, mood.details["negative_share"])
print(program.sentiment_of("ann").value)  # one advocate's mean

network = program.score("referral_network")
print(network.value, network.details["max_depth"])
for advocate in program.super_advocates(limit=5):
    print(advocate.advocate, advocate.influence, advocate.referrals, advocate.reach)
graph = program.referral_graph()  # a networkx.DiGraph, to explore further
# --8<-- [end:ask]

assert program.score_sentiment() == 0  # a second run scores only what is new: nothing
assert -1 <= mood.value <= 1
assert mood.n > 0
assert network.details["max_depth"] >= 2  # friends referred friends
assert graph.number_of_edges() == program.score("referral_funnel").counts["attributed"]
