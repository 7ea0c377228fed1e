"""Survey metrics: NPS, CSAT, and the repeat purchase rate.

Formulas and worked examples: ``docs/metrics.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import attrs
import sqlalchemy as sa

from advokit.core.errors import InvalidValue
from advokit.core.store import queries as q
from advokit.plugins.scoring.features import answer_score, latest_answers, survey_name
from advokit.plugins.scoring.model import Z95, Interval, Score
from advokit.plugins.scoring.scope import Scope, Scorer, by_period
from advokit.plugins.scoring.sql import count_where

__all__ = [
    "CSAT",
    "NPS",
    "SCORERS",
    "NPSCategories",
    "RepeatPurchaseRate",
    "nps_category_of",
    "nps_interval",
]

t = q.actions_t


def _survey(options: Mapping[str, Any], field: str) -> None:
    if not isinstance(options["survey"], str) or not options["survey"]:
        raise InvalidValue(field, options["survey"], "a survey name")


def nps_interval(promoters: int, detractors: int, n: int) -> Interval | None:
    """The 95% interval of NPS, from the variance of the answer's indicator
    (+1 promoter, 0 passive, -1 detractor): ``var = p + d - (p - d)^2``,
    ``margin = 1.96 * sqrt(var / n) * 100``."""
    if n == 0:
        return None
    p, d = promoters / n, detractors / n
    value = (p - d) * 100
    margin = Z95 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n) * 100
    # not clipped to -100..100: the margin is the normal approximation's, as reported
    return Interval(value - margin, value + margin)


class NPS(Scorer):
    """Net Promoter Score: % promoters (9-10) - % detractors (0-6), -100..100."""

    name = "nps"
    description = "Net Promoter Score: % promoters (9-10) minus % detractors (0-6)"
    options = {"survey": "nps"}

    def check(self, options: Mapping[str, Any]) -> None:
        _survey(options, "nps.survey")

    def compute(self, scope: Scope) -> Score:
        score = answer_score()
        period = scope.period(t.c.occurred_at).label("period")
        rows = scope.rows(
            # passives are the rest: each extraction from JSON costs a parse per row
            sa.select(period, sa.func.count(), count_where(score >= 9), count_where(score <= 6))
            .where(*scope.actions("survey.answered"), survey_name() == scope.options["survey"])
            .group_by(period)
        )

        def make(row: Any, day: date | None) -> Score:
            _, n, promoters, detractors = row
            passives = n - promoters - detractors
            return Score(
                name=self.name,
                value=(promoters - detractors) * 100 / n if n else None,
                n=n,
                unit="points",
                counts={"promoters": promoters, "passives": passives, "detractors": detractors},
                inputs=scope.inputs(),
                interval=nps_interval(promoters, detractors, n),
                period=day,
                missing=() if n else ("no survey.answered actions for this survey",),
            )

        return by_period(scope, rows, make, 4)


class CSAT(Scorer):
    """Customer satisfaction: the share of answers of 4 or 5 on a 1-5 scale, in %."""

    name = "csat"
    description = "CSAT: % of answers of 4 or 5 on a 1-5 survey"
    options = {"survey": "csat"}

    def check(self, options: Mapping[str, Any]) -> None:
        _survey(options, "csat.survey")
        if not options["survey"].startswith("csat"):
            raise InvalidValue("csat.survey", options["survey"], "a survey named csat* (1-5)")

    def compute(self, scope: Scope) -> Score:
        score = answer_score()
        period = scope.period(t.c.occurred_at).label("period")
        rows = scope.rows(
            sa.select(period, sa.func.count(), count_where(score >= 4))
            .where(*scope.actions("survey.answered"), survey_name() == scope.options["survey"])
            .group_by(period)
        )

        def make(row: Any, day: date | None) -> Score:
            _, n, satisfied = row
            return self.share(
                scope,
                satisfied,
                n,
                counts={"satisfied": satisfied, "unsatisfied": n - satisfied},
                period=day,
                missing="no survey.answered actions for this survey",
            )

        return by_period(scope, rows, make, 3)


class RepeatPurchaseRate(Scorer):
    """The share of customers with a purchase in the window who made two or more."""

    name = "repeat_purchase_rate"
    description = "% of customers who purchased in the window that purchased twice or more"

    def compute(self, scope: Scope) -> Score:
        rows = self._rows(scope)
        # the whole window is not the sum of its periods: a customer buying
        # once in May and once in June repeats in the window
        whole = self._rows(attrs.evolve(scope, by=None)) if scope.by is not None else rows

        def make(row: Any, day: date | None) -> Score:
            _, n, repeat = row
            return self.share(
                scope,
                repeat,
                n,
                counts={"customers": n, "repeat": repeat},
                period=day,
                missing="no purchase.completed actions",
            )

        return by_period(scope, rows, make, 3, whole[0] if whole else None)

    def _rows(self, scope: Scope) -> Sequence[Any]:
        """Per period: the customers who purchased, and those who purchased twice or more."""
        period = scope.period(t.c.occurred_at).label("period")
        per_customer = (
            sa.select(period, t.c.advocate_id, sa.func.count().label("orders"))
            .where(*scope.actions("purchase.completed"))
            .group_by(period, t.c.advocate_id)
            .subquery()
        )
        return scope.rows(
            sa.select(
                per_customer.c.period, sa.func.count(), count_where(per_customer.c.orders >= 2)
            ).group_by(per_customer.c.period)
        )


def nps_category_of(score: int | None) -> str | None:
    """``promoter`` (9-10), ``passive`` (7-8), ``detractor`` (0-6); None for None."""
    if score is None:
        return None
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


class NPSCategories(Scorer):
    """How many advocates are promoters, passives, detractors by their latest answer."""

    name = "nps_categories"
    description = "advocates by the category of their latest NPS answer (up to the window's end)"
    options = {"survey": "nps"}
    periodic = False

    def check(self, options: Mapping[str, Any]) -> None:
        _survey(options, "nps_categories.survey")

    def compute(self, scope: Scope) -> Score:
        latest = latest_answers(scope, scope.options["survey"]).subquery()
        s = latest.c.score
        n, promoters, detractors = scope.rows(
            sa.select(
                sa.func.count(),
                count_where(s >= 9),
                count_where(s <= 6),
            ).select_from(latest)
        )[0]
        passives = n - promoters - detractors
        return Score(
            name=self.name,
            value=(promoters - detractors) * 100 / n if n else None,
            n=n,
            unit="points",
            counts={"promoters": promoters, "passives": passives, "detractors": detractors},
            inputs=scope.inputs(),
            interval=nps_interval(promoters, detractors, n),
            details={"per": "advocate"},
            missing=() if n else ("no advocate has answered this survey",),
        )


SCORERS = (NPS, CSAT, RepeatPurchaseRate, NPSCategories)
