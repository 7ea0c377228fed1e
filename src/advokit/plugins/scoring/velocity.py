"""Advocacy velocity: how soon people advocate, how many do, and how far it carries.

* ``time_to_advocacy``: days from an advocate's start (enrolment or first
  purchase) to their first advocacy action; median, p25, p75, p90 by cohort.
* ``advocacy_conversion``: the share of promoters, satisfied customers or
  customers who performed an advocacy action within N days.
* ``amplification``: reach per advocacy action (``data["reach"]``).

"Advocacy" is an applied action of one of the settings' ``advocacy_kinds``.
Formulas and worked examples: ``docs/metrics-velocity.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import attrs
import sqlalchemy as sa

from advokit.core.errors import InvalidValue
from advokit.core.store import queries as q
from advokit.core.store.types import UTCDateTime
from advokit.plugins.scoring.features import answer_score, survey_name
from advokit.plugins.scoring.model import Score, mean_interval
from advokit.plugins.scoring.scope import Scope, Scorer, by_period
from advokit.plugins.scoring.sql import days_after, days_between

__all__ = [
    "POPULATIONS",
    "QUANTILES",
    "SCORERS",
    "STARTS",
    "AdvocacyConversion",
    "Amplification",
    "TimeToAdvocacy",
    "quantiles_by_period",
]

t = q.actions_t
a = q.advocates_t

#: where time-to-advocacy counts from
STARTS = ("enrolment", "first_purchase")
#: who advocacy conversion is a share of
POPULATIONS = ("promoters", "satisfied", "customers")
#: the quantiles time-to-advocacy reports, by name
QUANTILES = {"p25": 0.25, "median": 0.5, "p75": 0.75, "p90": 0.9}
#: the longest conversion horizon accepted, in days (ten years)
MAX_WITHIN_DAYS = 3650


def quantiles_by_period(
    rows: Any, dialect: str, probabilities: Sequence[float] = tuple(QUANTILES.values())
) -> sa.Select[Any]:
    """Per ``rows.c.period``: the number of rows, the number with a ``rows.c.value``,
    and the quantiles of ``value`` at ``probabilities`` (NULL without values).

    Quantiles interpolate linearly between order statistics, as PostgreSQL's
    ``percentile_cont`` and numpy's default: with the ``m`` values sorted as
    ``x_0 <= ... <= x_(m-1)`` and ``h = (m - 1) * p``, the quantile is
    ``x_floor(h) + (h - floor(h)) * (x_ceil(h) - x_floor(h))``. SQLite has no
    ``percentile_cont``: each value is ranked (``ROW_NUMBER``, 0-based ``i``)
    and weighted ``max(0, 1 - |i - h|)``, which is ``1 - frac`` for
    ``floor(h)``, ``frac`` for ``ceil(h)`` and 0 elsewhere; the weighted sum is
    the interpolated quantile.
    """
    if dialect != "sqlite":
        return sa.select(
            rows.c.period,
            sa.func.count(),
            sa.func.count(rows.c.value),
            *(sa.func.percentile_cont(p).within_group(rows.c.value) for p in probabilities),
        ).group_by(rows.c.period)
    window = {"partition_by": rows.c.period}
    ranked = sa.select(
        rows.c.period,
        rows.c.value,
        # the values first, in order; the NULLs (no value) after them
        (
            sa.func.row_number().over(**window, order_by=(rows.c.value.is_(None), rows.c.value)) - 1
        ).label("i"),
        sa.func.count(rows.c.value).over(**window).label("m"),
    ).subquery()
    r = ranked.c
    return sa.select(
        r.period,
        sa.func.count(),
        sa.func.count(r.value),
        *(
            sa.func.sum(r.value * sa.func.max(0.0, 1.0 - sa.func.abs(r.i - (r.m - 1) * p)))
            for p in probabilities
        ),
    ).group_by(r.period)


# --------------------------------------------------------------------------- common


def _whole_number(field: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(field, value, f"a whole number of days from {low} to {high}")


def _choice(field: str, value: Any, accepted: Sequence[str]) -> None:
    if value not in accepted:
        raise InvalidValue(field, value, " or ".join(accepted))


# --------------------------------------------------------------------------- time to advocacy


class TimeToAdvocacy(Scorer):
    """Days from an advocate's start to their first advocacy action: the median,
    by the cohort of their start."""

    name = "time_to_advocacy"
    description = "median days from enrolment (or first purchase) to the first advocacy action"
    options = {"start": "enrolment"}

    def check(self, options: Mapping[str, Any]) -> None:
        _choice("time_to_advocacy.start", options["start"], STARTS)

    def compute(self, scope: Scope) -> Score:
        whole = self._rows(attrs.evolve(scope, by=None))
        whole_row = whole[0] if whole else (None, 0, 0, *(None for _ in QUANTILES))
        rows = self._rows(scope) if scope.by is not None else whole
        start = scope.options["start"]

        def make(row: Any, day: date | None) -> Score:
            _, started, advocated, *values = row
            quantiles = dict(zip(QUANTILES, values, strict=True))
            return Score(
                name=self.name,
                value=quantiles["median"] if advocated else None,
                n=advocated,
                unit="days",
                counts={"started": started, "advocated": advocated},
                inputs=scope.inputs(),
                label=start,
                period=day,
                details={k: v for k, v in quantiles.items() if k != "median"} if advocated else {},
                missing=_time_missing(started, advocated, start),
            )

        return by_period(scope, rows, make, 3 + len(QUANTILES), whole_row)

    def _rows(self, scope: Scope) -> Sequence[Any]:
        """Per cohort period: started, advocated and the quantiles of the days."""
        starts = _starts(scope).subquery()
        advocacy = t.alias("advocacy")
        first = (
            sa.select(
                starts.c.advocate_id,
                starts.c.start_at,
                sa.func.min(advocacy.c.occurred_at).label("first_at"),
            )
            .select_from(
                starts.outerjoin(
                    advocacy,
                    sa.and_(
                        advocacy.c.advocate_id == starts.c.advocate_id,
                        advocacy.c.occurred_at >= starts.c.start_at,
                        *scope.advocacy(advocacy),
                    ),
                )
            )
            .group_by(starts.c.advocate_id, starts.c.start_at)
            .subquery()
        )
        durations = sa.select(
            scope.period(first.c.start_at).label("period"),
            days_between(first.c.start_at, first.c.first_at, scope.dialect).label("value"),
        ).subquery()
        return scope.rows(quantiles_by_period(durations, scope.dialect))


def _starts(scope: Scope) -> sa.Select[Any]:
    """``advocate_id``, ``start_at`` of the population whose start is in the window."""
    if scope.options["start"] == "enrolment":
        return sa.select(a.c.id.label("advocate_id"), a.c.enrolled_at.label("start_at")).where(
            *scope.advocates(), *scope.during(a.c.enrolled_at)
        )
    first = (
        sa.select(t.c.advocate_id, sa.func.min(t.c.occurred_at).label("start_at"))
        .where(*scope.actions("purchase.completed", windowed=False))
        .group_by(t.c.advocate_id)
        .subquery()
    )
    return sa.select(first.c.advocate_id, first.c.start_at).where(*scope.during(first.c.start_at))


def _time_missing(started: int, advocated: int, start: str) -> tuple[str, ...]:
    if not started:
        what = "enrolled" if start == "enrolment" else "made a first purchase"
        return (f"no advocate {what} in the window",)
    if not advocated:
        return ("no advocate of the cohort has performed an advocacy action since their start",)
    return ()


# --------------------------------------------------------------------------- conversion


def _qualifying(population: str) -> tuple[str, list[Any], str]:
    """The action kind, the conditions and the words of a population's qualifying event."""
    if population == "promoters":
        return (
            "survey.answered",
            [survey_name() == "nps", answer_score() >= 9],
            "no NPS answer of 9-10 (survey 'nps')",
        )
    if population == "satisfied":
        return (
            "survey.answered",
            [survey_name().like("csat%"), answer_score() >= 4],
            "no CSAT answer of 4-5 (a csat* survey)",
        )
    return "purchase.completed", [], "no purchase.completed actions"


class AdvocacyConversion(Scorer):
    """The share of a population (promoters, satisfied customers, customers) who
    performed an advocacy action within N days of qualifying."""

    name = "advocacy_conversion"
    description = "% of promoters (or satisfied, or customers) who advocated within N days"
    options = {"within_days": 30, "population": "promoters"}

    def check(self, options: Mapping[str, Any]) -> None:
        _whole_number("advocacy_conversion.within_days", options["within_days"], 1, MAX_WITHIN_DAYS)
        _choice("advocacy_conversion.population", options["population"], POPULATIONS)

    def compute(self, scope: Scope) -> Score:
        population, within = scope.options["population"], scope.options["within_days"]
        kind, conditions, absent = _qualifying(population)
        events = (
            sa.select(t.c.advocate_id, sa.func.min(t.c.occurred_at).label("event_at"))
            .where(*scope.actions(kind), *conditions)
            .group_by(t.c.advocate_id)
            .subquery()
        )
        deadline = days_after(events.c.event_at, within, scope.dialect)
        advocacy = t.alias("advocacy")
        converted = (
            sa.exists()
            .where(
                advocacy.c.advocate_id == events.c.advocate_id,
                advocacy.c.occurred_at > events.c.event_at,
                advocacy.c.occurred_at <= deadline,
                *scope.advocacy(advocacy),
            )
            .correlate(events)
        )
        now = sa.literal(scope.now, UTCDateTime())
        period = scope.period(events.c.event_at).label("period")
        rows = scope.rows(
            sa.select(
                period,
                sa.func.count(),
                sa.func.sum(sa.case((converted, 1), else_=0)),
                sa.func.sum(sa.case((deadline > now, 1), else_=0)),
            )
            .select_from(events)
            .group_by(period)
        )

        def make(row: Any, day: date | None) -> Score:
            _, n, yes, incomplete = row
            return self.share(
                scope,
                yes,
                n,
                counts={"qualified": n, "converted": yes},
                label=population,
                period=day,
                # their N days are not over yet (by the clock): they may still convert
                details={"incomplete": incomplete} if n else {},
                missing=f"{absent} in the window",
            )

        return by_period(scope, rows, make, 4)


# --------------------------------------------------------------------------- amplification


class Amplification(Scorer):
    """Reach per advocacy action: the audience an advocacy action carries
    (``data["reach"]``, e.g. a share's followers), on average."""

    name = "amplification"
    description = "reach per advocacy action (sum of data['reach'] / advocacy actions)"
    options = {"only_with_reach": False}

    def check(self, options: Mapping[str, Any]) -> None:
        if not isinstance(options["only_with_reach"], bool):
            raise InvalidValue(
                "amplification.only_with_reach", options["only_with_reach"], "True or False"
            )

    def compute(self, scope: Scope) -> Score:
        reach = sa.cast(t.c.data["reach"].as_integer(), sa.Float)
        period = scope.period(t.c.occurred_at).label("period")
        rows = scope.rows(
            sa.select(
                period,
                sa.func.count(),
                sa.func.count(reach),
                sa.func.coalesce(sa.func.sum(reach), 0.0),
                sa.func.coalesce(sa.func.sum(reach * reach), 0.0),
            )
            .where(*scope.actions(sorted(scope.settings.advocacy_kinds)))
            .group_by(period)
        )
        only = scope.options["only_with_reach"]

        def make(row: Any, day: date | None) -> Score:
            _, actions, with_reach, total, squares = row
            n = (with_reach if only else actions) if with_reach else 0
            return Score(
                name=self.name,
                value=total / n if n else None,
                n=n,
                unit="reach",
                counts={"actions": actions, "with_reach": with_reach},
                inputs=scope.inputs(),
                interval=mean_interval(total, squares, n, low=0.0),
                label="with_reach" if only else "all_actions",
                period=day,
                details={"reach": int(total)} if n else {},
                missing=_amplification_missing(actions, with_reach),
            )

        return by_period(scope, rows, make, 5)


def _amplification_missing(actions: int, with_reach: int) -> tuple[str, ...]:
    if not actions:
        return ("no advocacy actions in the window",)
    if not with_reach:
        return ("no advocacy action carries data['reach']",)
    return ()


SCORERS = (TimeToAdvocacy, AdvocacyConversion, Amplification)
