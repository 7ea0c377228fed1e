"""Measurement: NPS, CSAT, advocacy scores, velocity, referral economics, potential.

Every metric is a scorer (``advokit_register_scorers``) computed with SQL
aggregates in the database::

    program.score("nps", by="month", window=(start, end), segment="vip")
    # Score(name='nps', value=30.0, n=100, interval=Interval(15.3, 44.7), ...)

The formulas, with worked examples, are in ``docs/metrics.md``.
"""

from __future__ import annotations

from advokit.core.extras import MissingExtra
from advokit.plugins.scoring.economics import Costs, Economics
from advokit.plugins.scoring.holdout import Holdout, HoldoutCounts, holdout_group, not_held_out
from advokit.plugins.scoring.model import PERIODS, Contribution, Interval, Score, Window
from advokit.plugins.scoring.network import SuperAdvocate
from advokit.plugins.scoring.plugin import MIGRATIONS, Scoring
from advokit.plugins.scoring.potential import (
    PotentialReport,
    PotentialSettings,
    at_risk_above,
    potential_above,
    top_potential,
)
from advokit.plugins.scoring.scope import Scope, Scorer
from advokit.plugins.scoring.segments import (
    Condition,
    Segment,
    advocate_kind,
    attribute,
    enrolled,
    everyone,
    nps_category,
    performed,
    tagged,
)
from advokit.plugins.scoring.settings import ADVOCACY_KINDS, ScoringSettings
from advokit.plugins.scoring.survey import nps_category_of
from advokit.plugins.scoring.types import advocate_type

__all__ = [
    "ADVOCACY_KINDS",
    "MIGRATIONS",
    "PERIODS",
    "Condition",
    "Contribution",
    "Costs",
    "Economics",
    "Holdout",
    "HoldoutCounts",
    "Interval",
    "MissingExtra",
    "PotentialReport",
    "PotentialSettings",
    "Scope",
    "Score",
    "Scorer",
    "Scoring",
    "ScoringSettings",
    "Segment",
    "SuperAdvocate",
    "Window",
    "advocate_kind",
    "advocate_type",
    "at_risk_above",
    "attribute",
    "enrolled",
    "everyone",
    "holdout_group",
    "not_held_out",
    "nps_category",
    "nps_category_of",
    "performed",
    "potential_above",
    "tagged",
    "top_potential",
]
