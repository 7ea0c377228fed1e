"""Metrics: advocacy velocity on a generated half-year of a shop."""

# --8<-- [start:program]
from datetime import UTC, datetime

from advokit import Program
from advokit.plugins.scoring import Scoring

program = Program(
    name="shop",
    database_url="sqlite:///shop.db",
    plugins=[Scoring(advocacy_kinds={"review.posted", "share.posted", "referral.invited"})],
)
program.migrate()
# --8<-- [end:program]


def the_shop_recorded_a_half_year():
    from _shop import record_history

    record_history(program)


the_shop_recorded_a_half_year()

# --8<-- [start:ask]
first_half = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
speed = program.score("time_to_advocacy", window=first_half, by="month")
print(speed.value, speed.details.get("p25"), speed.details.get("p75"), speed.counts)
for cohort in speed.periods:  # one per enrolment month
    print(cohort.period, cohort.value, cohort.counts["started"])
print(speed.trend)  # days per month: negative is faster

buyers = program.score("time_to_advocacy", start="first_purchase")
conversion = program.score("advocacy_conversion", within_days=30, population="promoters")
print(conversion.value, conversion.interval, conversion.details.get("incomplete"))
reach = program.score("amplification", by="month")
print(reach.value, reach.counts, reach.missing)
# --8<-- [end:ask]

assert speed.n > 10
assert speed.details["p25"] <= speed.value <= speed.details["p75"]  # the median
assert len(speed.periods) == 6
assert sum(cohort.counts["started"] for cohort in speed.periods) == speed.counts["started"]
assert buyers.n > 0
assert conversion.n > 0
assert 0 <= conversion.value <= 100
assert reach.value > 0
