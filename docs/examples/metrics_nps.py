"""Metrics: the worked NPS example of the metrics page, asked overall and by month."""

# --8<-- [start:program]
from datetime import UTC, datetime

from advokit import Program

program = Program(name="shop", database_url="sqlite:///shop.db")
program.migrate()
# --8<-- [end:program]

#: Answers per month from January to June (promoters, passives, detractors): 50, 30, 20.
MONTHS = [(5, 5, 7), (7, 5, 5), (8, 5, 4), (9, 5, 2), (10, 5, 1), (11, 5, 1)]


def answer_surveys(program):
    """One answer per customer, more promoters and fewer detractors each month."""
    from advokit import Action, Advocate

    answers = [
        (datetime(2026, month, 10, tzinfo=UTC), score)
        for month, counts in enumerate(MONTHS, start=1)
        for score, count in zip((10, 8, 3), counts, strict=True)
        for _ in range(count)
    ]
    program.enroll_many(Advocate(external_id=f"c-{n}") for n in range(len(answers)))
    program.record_many(
        Action(
            kind="survey.answered",
            advocate=f"c-{n}",
            key=f"nps-{n}",
            data={"score": score},
            occurred_at=when,
        )
        for n, (when, score) in enumerate(answers)
    )


answer_surveys(program)

# --8<-- [start:ask]
nps = program.score("nps")
print(nps.value, nps.margin, nps.counts)  # 30.0 15.31 {'promoters': 50, ...}
monthly = program.score(
    "nps",
    by="month",
    window=(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
)
for month in monthly.periods:
    print(month.period, month.value, month.interval)
print(monthly.trend)  # NPS points per month: 14.47
# --8<-- [end:ask]

assert (nps.value, round(nps.margin, 2), nps.n) == (30.0, 15.31, 100)
assert nps.counts == {"promoters": 50, "passives": 30, "detractors": 20}
assert len(monthly.periods) == 6
assert round(monthly.trend, 2) == 14.47  # the least-squares slope of the six monthly values
