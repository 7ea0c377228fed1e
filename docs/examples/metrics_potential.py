"""Metrics: advocacy potential and promoters at risk on a generated half-year of a shop."""

# --8<-- [start:program]
from advokit import Program
from advokit.plugins.scoring import (
    PotentialSettings,
    Scoring,
    Segment,
    at_risk_above,
    potential_above,
    top_potential,
)

program = Program(
    name="shop",
    database_url="sqlite:///shop.db",
    plugins=[
        Scoring(
            potential=PotentialSettings(horizon_days=90, test_share=0.25),
            segments=[
                Segment("top_potential", top_potential(0.1)),
                Segment("likely_advocates", potential_above(0.5)),
                Segment("promoters_at_risk", at_risk_above(0.3)),
            ],
        )
    ],
)
program.migrate()
# --8<-- [end:program]


def the_shop_recorded_a_year_up_to_now():
    from datetime import timedelta

    from _shop import record_history

    now = program.clock()
    record_history(program, start=now - timedelta(days=365), end=now)


the_shop_recorded_a_year_up_to_now()

# --8<-- [start:ask]
report = program.train_potential()
print(report)  # potential [model]: held-out AUC 0.948 (train 50 rows, test 69 rows)
print(report.auc, report.brier, report.test_cutoffs)
for decile in report.calibration:
    print(decile.n, decile.predicted, decile.observed)
print(dict(report.coefficients))

program.score_potential()  # stores a score per non-advocate, replacing the last ones
program.score_at_risk()  # stores a score per current promoter
print(program.score("potential"))  # the mean, [model]
print(program.score("nps", segment="top_potential"))  # NPS of the top 10%
print(program.potential_of("ann"), program.at_risk_of("bo"))
# --8<-- [end:ask]

assert report.label == "model"  # scikit-learn is installed: the logistic regression
assert report.auc > 0.5  # better than chance on the held-out cutoffs
assert program.score("potential").n > 0
assert 0 <= program.potential_of("ann") <= 1
