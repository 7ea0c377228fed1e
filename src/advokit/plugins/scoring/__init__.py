"""Measurement: NPS, CSAT, advocacy scores, velocity, referral economics, potential.

Every metric is a scorer (``advokit_register_scorers``) computed with SQL
aggregates in the database::

    program.score("nps", by="month", window=(start, end), segment="vip")
    # Score(name='nps', value=30.0, n=100, interval=Interval(15.3, 44.7), ...)

The formulas, with worked examples, are in ``docs/metrics.md``.
"""

from __future__ import annotations

from advokit.plugins.scoring.model import PERIODS, Contribution, Interval, Score, Window
from advokit.plugins.scoring.plugin import MIGRATIONS, Scoring
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

__all__ = [
    "ADVOCACY_KINDS",
    "MIGRATIONS",
    "PERIODS",
    "Condition",
    "Contribution",
    "Interval",
    "Scope",
    "Score",
    "Scorer",
    "Scoring",
    "ScoringSettings",
    "Segment",
    "Window",
    "advocate_kind",
    "attribute",
    "enrolled",
    "everyone",
    "nps_category",
    "nps_category_of",
    "performed",
    "tagged",
]
