"""Predictive advocacy potential, and promoters at risk of becoming detractors.

*Potential* is the probability that an advocate who has not advocated yet does
so (an action of ``Scoring(advocacy_kinds=...)``) within ``horizon_days``.
*At risk* is the probability that a current promoter's next NPS answer is a
detractor's (0-6). Both are learned from the program's own history::

    report = program.train_potential()     # held-out ROC AUC, calibration
    program.score_potential()              # stores a score per advocate
    program.score("nps", segment=Segment("top", top_potential(0.1)))

Features are computed in SQL as of a cutoff date (one GROUP BY over the actions
before it); the model is a logistic regression on standardised features,
trained on earlier cutoffs and tested on later ones. scikit-learn (the
``advokit[predict]`` extra) is imported only when a model is trained; without
it a documented heuristic score is used, labelled ``heuristic``.

Formulas and worked examples: ``docs/metrics-potential.md``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import sqlalchemy as sa

from advokit.core import validation as v
from advokit.core.errors import ConfigurationError, InvalidValue
from advokit.core.extras import MissingExtra, require
from advokit.core.model import Advocate
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.driver import dialect_insert
from advokit.plugins.scoring.features import answer_score, survey_name
from advokit.plugins.scoring.heuristic import (
    AT_RISK_WEIGHTS,
    POTENTIAL_WEIGHTS,
    CalibrationBin,
    at_risk_components,
    auc,
    brier,
    heuristic_score,
    potential_components,
    reliability,
)
from advokit.plugins.scoring.model import Score
from advokit.plugins.scoring.scope import APPLIED, Scope, Scorer
from advokit.plugins.scoring.segments import Condition
from advokit.plugins.scoring.sql import SECONDS_PER_DAY, count_where
from advokit.plugins.scoring.tables import scores_t

if TYPE_CHECKING:
    from advokit.core.program import Program
    from advokit.plugins.scoring.settings import ScoringSettings

__all__ = [
    "AT_RISK",
    "AT_RISK_FEATURES",
    "POTENTIAL",
    "POTENTIAL_FEATURES",
    "QUERIES",
    "SCORERS",
    "AtRiskScore",
    "Features",
    "PotentialReport",
    "PotentialScore",
    "PotentialSettings",
    "at_risk_above",
    "at_risk_of",
    "features_at",
    "has_top_potential",
    "potential_above",
    "potential_features",
    "potential_of",
    "score_at_risk",
    "score_potential",
    "top_potential",
    "train_at_risk",
    "train_potential",
]

#: the two stored models (``scoring_scores.model``)
POTENTIAL = "potential"
AT_RISK = "at_risk"
MODEL, HEURISTIC = "model", "heuristic"
METHODS = ("auto", "model", "heuristic")

#: the features of each model, in the order of the coefficients
POTENTIAL_FEATURES = (
    "nps",
    "nps_missing",
    "answers",
    "purchases",
    "revenue",
    "recent_purchases",
    "actions",
    "tenure_days",
    "days_since_last",
    "shares",
    "reviews",
    "ugc",
)
AT_RISK_FEATURES = (
    "nps",
    "nps_change",
    "answers",
    "purchases",
    "recent_purchases",
    "prior_purchases",
    "days_since_purchase",
    "actions",
    "tenure_days",
    "days_since_last",
)

#: "recent" purchases are those of the last 90 days (and "prior" the 90 before)
RECENT = timedelta(days=90)
_PURCHASE = "purchase.completed"
_ANSWERED = "survey.answered"
_INSTALL = "scikit-learn is not installed (pip install 'advokit[predict]')"


# ---------------------------------------------------------------- settings


def _positive_int(field: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigurationError(field, value, "a positive whole number of days")

    return check


def _share(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise ConfigurationError("PotentialSettings.test_share", value, "a number between 0 and 1")


def _cutoffs(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def _check_cutoffs(instance: Any, attribute: Any, value: Any) -> None:
    accepted = "None, or two or more increasing timezone-aware datetimes"
    if value is None:
        return
    if not isinstance(value, tuple) or len(value) < 2:
        raise ConfigurationError("PotentialSettings.cutoffs", value, accepted)
    for cutoff in value:
        if not isinstance(cutoff, datetime) or cutoff.utcoffset() is None:
            raise ConfigurationError("PotentialSettings.cutoffs", cutoff, accepted)
    if any(b <= a for a, b in itertools.pairwise(value)):
        raise ConfigurationError("PotentialSettings.cutoffs", value, accepted)


def _weights(field: str, components: Mapping[str, float]) -> Callable[[Any, Any, Any], None]:
    accepted = (
        f"a mapping of {', '.join(components)} to non-negative numbers, at least one positive"
    )

    def check(instance: Any, attribute: Any, value: Any) -> None:
        if not isinstance(value, Mapping) or not value:
            raise ConfigurationError(field, value, accepted)
        for name, weight in value.items():
            if name not in components:
                raise ConfigurationError(f"{field} key", name, accepted)
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
                raise ConfigurationError(f"{field}[{name!r}]", weight, accepted)
        if not sum(value.values()) > 0:
            raise ConfigurationError(field, dict(value), accepted)

    return check


def _method(instance: Any, attribute: Any, value: Any) -> None:
    if value not in METHODS:
        raise ConfigurationError("PotentialSettings.method", value, "auto, model or heuristic")


def _survey(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigurationError("PotentialSettings.survey", value, "a survey name")


@attrs.frozen(kw_only=True)
class PotentialSettings:
    """How potential and at-risk scores are learned: ``Scoring(potential=...)``.

    Attributes:
        horizon_days: the outcome's window: an advocate "became an advocate"
            when their first advocacy action falls within this many days after
            the cutoff (for at-risk: their next answer does).
        test_share: the latest share of the cutoffs held out for testing.
        cutoffs: explicit cutoff dates (increasing; each at least
            ``horizon_days`` before now); None: one every ``cutoff_every_days``
            back from ``now - horizon_days``, while a period of history precedes it.
        cutoff_every_days: the spacing of the automatic cutoffs.
        method: ``auto`` (the model when scikit-learn is installed, the
            heuristic otherwise), ``model`` (refuse to run without
            scikit-learn) or ``heuristic`` (always the transparent score).
        survey: the NPS survey the features and at-risk read.
        weights: the potential heuristic's weights, by component (``nps``,
            ``frequency``, ``recency``, ``engagement``); absent ones weigh 0.
        at_risk_weights: the at-risk heuristic's (``inactivity``,
            ``purchase_gap``, ``frequency_drop``, ``lukewarm``).
    """

    horizon_days: int = attrs.field(
        default=90, validator=_positive_int("PotentialSettings.horizon_days")
    )
    test_share: float = attrs.field(default=0.25, validator=_share)
    cutoffs: tuple[datetime, ...] | None = attrs.field(
        default=None, converter=_cutoffs, validator=_check_cutoffs
    )
    cutoff_every_days: int = attrs.field(
        default=30, validator=_positive_int("PotentialSettings.cutoff_every_days")
    )
    method: str = attrs.field(default="auto", validator=_method)
    survey: str = attrs.field(default="nps", validator=_survey)
    weights: Mapping[str, float] = attrs.field(
        default=POTENTIAL_WEIGHTS,
        converter=v.frozen_json_mapping,
        validator=_weights("PotentialSettings.weights", POTENTIAL_WEIGHTS),
    )
    at_risk_weights: Mapping[str, float] = attrs.field(
        default=AT_RISK_WEIGHTS,
        converter=v.frozen_json_mapping,
        validator=_weights("PotentialSettings.at_risk_weights", AT_RISK_WEIGHTS),
    )

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.horizon_days)


def _settings(settings: ScoringSettings) -> PotentialSettings:
    value = settings.potential
    if value is None:
        return PotentialSettings()
    if not isinstance(value, PotentialSettings):
        raise ConfigurationError("Scoring.potential", value, "a PotentialSettings or None")
    return value


# ---------------------------------------------------------------- features


@attrs.frozen(kw_only=True)
class Features:
    """One advocate's history as of ``at`` (actions before it), and the outcome.

    Attributes:
        advocate: their external id; ``advocate_id`` their row id.
        at: the cutoff.
        nps, previous_nps: their latest and second-latest answer to the survey
            before ``at`` (None without one).
        answers: how many answers to the survey.
        purchases, revenue_cents: ``purchase.completed`` count and total.
        recent_purchases, prior_purchases: purchases in the 90 days before
            ``at``, and in the 90 days before those.
        actions: applied actions of any kind (engagement).
        shares, reviews, ugc: ``share.posted``, ``review.posted``, ``ugc.submitted``.
        tenure_days: days since they were known: enrolled, or their first
            action if earlier (a history imported at enrolment).
        days_since_last, days_since_purchase: days since their last action and
            last purchase (None without one).
        advocated: with an outcome window, whether they advocated in it.
        next_nps: with an outcome window, their first answer in it.
    """

    advocate: str
    advocate_id: int
    at: datetime
    nps: int | None
    previous_nps: int | None
    answers: int
    purchases: int
    revenue_cents: int
    recent_purchases: int
    prior_purchases: int
    actions: int
    shares: int
    reviews: int
    ugc: int
    tenure_days: float
    days_since_last: float | None
    days_since_purchase: float | None
    advocated: bool | None = None
    next_nps: int | None = None

    def vector(self, names: Sequence[str]) -> list[float]:
        """The model's inputs: missing values imputed (an NPS of 0 with
        ``nps_missing`` = 1; "days since" without one = the tenure)."""
        values = {
            "nps": float(self.nps or 0),
            "nps_missing": float(self.nps is None),
            "nps_change": float(
                0 if self.nps is None or self.previous_nps is None else self.nps - self.previous_nps
            ),
            "revenue": self.revenue_cents / 100,
            "days_since_last": self.tenure_days
            if self.days_since_last is None
            else self.days_since_last,
            "days_since_purchase": self.tenure_days
            if self.days_since_purchase is None
            else self.days_since_purchase,
        }
        return [
            float(values[name]) if name in values else float(getattr(self, name)) for name in names
        ]


def _history(
    program: Program, scoring: ScoringSettings, ps: PotentialSettings, at: datetime, end: datetime
) -> Any:
    """Per advocate, one GROUP BY over their applied actions before ``end``:
    counts before ``at``, their first and last times, advocacy before and after."""
    t = q.actions_t
    before = t.c.occurred_at < at
    purchase = sa.and_(before, t.c.kind == _PURCHASE)
    advocacy = t.c.kind.in_(sorted(scoring.advocacy_kinds))
    answered = sa.and_(t.c.kind == _ANSWERED, survey_name() == ps.survey)
    recent, prior = at - RECENT, at - 2 * RECENT

    def kind(name: str) -> Any:
        return count_where(sa.and_(before, t.c.kind == name))

    def latest(condition: Any) -> Any:
        return sa.func.max(sa.case((condition, t.c.occurred_at)))

    total = sa.case((purchase, t.c.data["total_cents"].as_integer()), else_=0)
    return (
        sa.select(
            t.c.advocate_id,
            count_where(before).label("actions"),
            count_where(sa.and_(before, answered)).label("answers"),
            count_where(purchase).label("purchases"),
            sa.func.coalesce(sa.func.sum(total), 0).label("revenue_cents"),
            count_where(sa.and_(purchase, t.c.occurred_at >= recent)).label("recent"),
            count_where(
                sa.and_(purchase, t.c.occurred_at >= prior, t.c.occurred_at < recent)
            ).label("prior"),
            kind("share.posted").label("shares"),
            kind("review.posted").label("reviews"),
            kind("ugc.submitted").label("ugc"),
            sa.func.min(sa.case((before, t.c.occurred_at))).label("first_at"),
            latest(before).label("last_at"),
            latest(purchase).label("last_purchase_at"),
            count_where(sa.and_(before, advocacy)).label("advocated_before"),
            count_where(sa.and_(t.c.occurred_at >= at, advocacy)).label("advocated_after"),
        )
        .where(t.c.program == program.name, t.c.status == APPLIED, t.c.occurred_at < end)
        .group_by(t.c.advocate_id)
        .subquery("history")
    )


def _answers(program: Program, ps: PotentialSettings, *when: Any, latest: bool) -> Any:
    """Per advocate, their answers to the survey (``when``: conditions on the
    time) ranked latest first (``nps``, ``previous_nps``) or earliest first
    (``nps`` alone). Grouped, so that SQLite materialises it with an index once."""
    t = q.actions_t
    order = (t.c.occurred_at.desc(), t.c.id.desc()) if latest else (t.c.occurred_at, t.c.id)
    ranked = (
        sa.select(
            t.c.advocate_id,
            answer_score().label("score"),
            sa.func.row_number().over(partition_by=t.c.advocate_id, order_by=order).label("rank"),
        )
        .where(
            t.c.program == program.name,
            t.c.status == APPLIED,
            t.c.kind == _ANSWERED,
            survey_name() == ps.survey,
            *when,
        )
        .subquery()
    )
    r = ranked.c
    return (
        sa.select(
            r.advocate_id,
            sa.func.max(sa.case((r.rank == 1, r.score))).label("nps"),
            sa.func.max(sa.case((r.rank == 2, r.score))).label("previous_nps"),
        )
        .where(r.rank <= (2 if latest else 1))
        .group_by(r.advocate_id)
        .subquery()
    )


#: the count columns of :func:`_history`, zero for an advocate without actions
_COUNTED = (
    "answers",
    "purchases",
    "revenue_cents",
    "recent",
    "prior",
    "actions",
    "shares",
    "reviews",
    "ugc",
    "advocated_after",
)


def _feature_query(
    program: Program,
    scoring: ScoringSettings,
    ps: PotentialSettings,
    at: datetime,
    until: datetime | None,
    model: str,
) -> sa.Select[Any]:
    """The features of the model's candidates as of ``at``, one row each: the
    advocates joined to their history and to their latest answers (and, with
    ``until``, to their first answer in ``[at, until)``)."""
    a, t = q.advocates_t, q.actions_t
    history = _history(program, scoring, ps, at, until or at)
    answers = _answers(program, ps, t.c.occurred_at < at, latest=True)
    joined = a.outerjoin(history, history.c.advocate_id == a.c.id).outerjoin(
        answers, answers.c.advocate_id == a.c.id
    )
    next_nps: Any = sa.literal(None, sa.Integer)
    if until is not None:
        following = _answers(
            program, ps, t.c.occurred_at >= at, t.c.occurred_at < until, latest=False
        )
        joined = joined.outerjoin(following, following.c.advocate_id == a.c.id)
        next_nps = following.c.nps
    known = sa.or_(a.c.enrolled_at <= at, history.c.first_at.isnot(None))
    where = [a.c.program == program.name, known]
    if model == POTENTIAL:  # not an advocate yet
        where.append(sa.func.coalesce(history.c.advocated_before, 0) == 0)
    else:  # a promoter by their latest answer, with a next answer to learn from
        where.append(answers.c.nps >= 9)
        if until is not None:
            where.append(next_nps.isnot(None))
    return (
        sa.select(
            a.c.id.label("advocate_id"),
            a.c.external_id,
            a.c.enrolled_at,
            *(sa.func.coalesce(history.c[name], 0).label(name) for name in _COUNTED),
            history.c.first_at,
            history.c.last_at,
            history.c.last_purchase_at,
            answers.c.nps,
            answers.c.previous_nps,
            next_nps.label("next_nps"),
        )
        .select_from(joined)
        .where(*where)
        .order_by(a.c.id)
    )


def _days(at: datetime, then: datetime | None) -> float | None:
    return None if then is None else (at - then).total_seconds() / SECONDS_PER_DAY


def _features(row: Any, at: datetime, until: datetime | None, model: str) -> Features:
    r = row._mapping
    known = r["enrolled_at"] if r["first_at"] is None else min(r["enrolled_at"], r["first_at"])
    return Features(
        advocate=r["external_id"],
        advocate_id=r["advocate_id"],
        at=at,
        nps=r["nps"],
        previous_nps=r["previous_nps"],
        answers=int(r["answers"]),
        purchases=int(r["purchases"]),
        revenue_cents=int(r["revenue_cents"]),
        recent_purchases=int(r["recent"]),
        prior_purchases=int(r["prior"]),
        actions=int(r["actions"]),
        shares=int(r["shares"]),
        reviews=int(r["reviews"]),
        ugc=int(r["ugc"]),
        tenure_days=max(0.0, _days(at, known) or 0.0),
        days_since_last=_days(at, r["last_at"]),
        days_since_purchase=_days(at, r["last_purchase_at"]),
        advocated=None if until is None or model != POTENTIAL else r["advocated_after"] > 0,
        next_nps=r["next_nps"],
    )


def features_at(
    program: Program,
    at: datetime,
    *,
    settings: ScoringSettings,
    model: str = POTENTIAL,
    until: datetime | None = None,
) -> list[Features]:
    """The candidates of ``model`` as of ``at``, with their features.

    ``potential``: every advocate known at ``at`` (enrolled, or with an action
    before it) who has no advocacy action before it. ``at_risk``: those whose
    latest answer before ``at`` is 9 or 10 (and, with ``until``, who answered
    again in ``[at, until)``). With ``until`` the outcome is filled in.
    """
    if model not in (POTENTIAL, AT_RISK):
        raise InvalidValue("model", model, "potential or at_risk")
    at = v.instant("at", at)
    until = None if until is None else v.instant("until", until)
    statement = _feature_query(program, settings, _settings(settings), at, until, model)
    with program.engine.connect() as conn:
        rows = conn.execute(statement).all()
    return [_features(row, at, until, model) for row in rows]


def _outcome(f: Features, model: str) -> bool:
    if model == POTENTIAL:
        return bool(f.advocated)
    return f.next_nps is not None and f.next_nps <= 6


# ---------------------------------------------------------------- training


@attrs.frozen(kw_only=True)
class PotentialReport:
    """How well the potential (or at-risk) score predicts, on held-out cutoffs.

    Attributes:
        model: ``potential`` or ``at_risk``.
        label: ``model`` (logistic regression) or ``heuristic``.
        auc: the ROC AUC on the test cutoffs (0.5 is chance); None without
            both outcomes among the test rows.
        brier: the Brier score of the model's probabilities on the test rows
            (None for the heuristic, whose score is not a probability).
        calibration: the test rows by decile of score: mean score, observed rate.
        n_train, n_test: rows (advocate x cutoff) trained and tested on.
        positives_train, positives_test: of which had the outcome.
        train_cutoffs, test_cutoffs: every test cutoff is later than every
            training one, by at least the horizon.
        horizon_days: the outcome's window.
        coefficients: the model's coefficient per standardised feature (per
            standard deviation), or the heuristic's weights.
        intercept: the model's intercept.
        notes: why the heuristic was used, what was missing.
    """

    model: str
    label: str
    auc: float | None
    brier: float | None
    calibration: tuple[CalibrationBin, ...]
    n_train: int
    n_test: int
    positives_train: int
    positives_test: int
    train_cutoffs: tuple[datetime, ...]
    test_cutoffs: tuple[datetime, ...]
    horizon_days: int
    coefficients: Mapping[str, float] = attrs.field(converter=v.frozen_json_mapping)
    intercept: float | None = None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            **attrs.asdict(self, recurse=False),
            "calibration": [b.to_json() for b in self.calibration],
            "train_cutoffs": [c.isoformat() for c in self.train_cutoffs],
            "test_cutoffs": [c.isoformat() for c in self.test_cutoffs],
            "coefficients": dict(self.coefficients),
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        score = "n/a" if self.auc is None else f"{self.auc:.3f}"
        return (
            f"{self.model} [{self.label}]: held-out AUC {score} "
            f"(train {self.n_train} rows, test {self.n_test} rows)"
        )


@attrs.frozen
class _Spec:
    """What differs between potential and at-risk."""

    model: str
    features: tuple[str, ...]
    components: Callable[[Features], Mapping[str, float]]
    weights: Callable[[PotentialSettings], Mapping[str, float]]


_SPECS = {
    POTENTIAL: _Spec(POTENTIAL, POTENTIAL_FEATURES, potential_components, lambda s: s.weights),
    AT_RISK: _Spec(AT_RISK, AT_RISK_FEATURES, at_risk_components, lambda s: s.at_risk_weights),
}


def _sklearn() -> Callable[[], Any]:
    """A factory of unfitted pipelines (scikit-learn is imported here, not before);
    raises MissingExtra without it."""
    linear = require("sklearn.linear_model", "predict")
    pipeline = require("sklearn.pipeline", "predict")
    preprocessing = require("sklearn.preprocessing", "predict")
    return lambda: pipeline.make_pipeline(
        preprocessing.StandardScaler(), linear.LogisticRegression(max_iter=1000)
    )


def _history_start(program: Program) -> datetime | None:
    t, a = q.actions_t, q.advocates_t
    with program.engine.connect() as conn:
        first_action = conn.execute(
            sa.select(sa.func.min(t.c.occurred_at)).where(
                t.c.program == program.name, t.c.status == APPLIED
            )
        ).scalar()
        first_enrolled = conn.execute(
            sa.select(sa.func.min(a.c.enrolled_at)).where(a.c.program == program.name)
        ).scalar()
    known = [d for d in (first_action, first_enrolled) if d is not None]
    return min(known) if known else None


def _cutoffs_of(program: Program, ps: PotentialSettings, now: datetime) -> tuple[datetime, ...]:
    """The cutoffs: explicit, or one every ``cutoff_every_days`` back from
    ``now - horizon`` while a whole period of history precedes it."""
    if ps.cutoffs is not None:
        for cutoff in ps.cutoffs:
            if cutoff + ps.horizon > now:
                raise InvalidValue(
                    "PotentialSettings.cutoffs",
                    cutoff.isoformat(),
                    f"cutoffs at least horizon_days ({ps.horizon_days}) before now "
                    f"({now.isoformat()}), so that their outcome is known",
                )
        return ps.cutoffs
    start = _history_start(program)
    if start is None:
        return ()
    step = timedelta(days=ps.cutoff_every_days)
    out, cutoff = [], now - ps.horizon
    while cutoff - step >= start:
        out.append(cutoff)
        cutoff -= step
    return tuple(reversed(out))


def _split(
    cutoffs: Sequence[datetime], ps: PotentialSettings
) -> tuple[tuple[datetime, ...], tuple[datetime, ...]]:
    """(train, test): the latest ``test_share`` of the cutoffs (at least one)
    are tested on; training uses the earlier cutoffs whose outcome window ends
    by the first test cutoff, so nothing learned comes from the test period."""
    if not cutoffs:
        return (), ()
    n_test = max(1, int(len(cutoffs) * ps.test_share + 0.5))
    n_test = min(n_test, max(1, len(cutoffs) - 1))
    test = tuple(cutoffs[-n_test:])
    train = tuple(c for c in cutoffs[:-n_test] if c + ps.horizon <= test[0])
    return train, test


@attrs.frozen
class _Fitted:
    """A trained report and how to score: ``score(rows) -> [0..1]``."""

    report: PotentialReport
    score: Callable[[Sequence[Features]], list[float]]


def _fit(program: Program, settings: ScoringSettings, model: str, now: datetime) -> _Fitted:
    """Evaluate the model (or the heuristic) on the held-out cutoffs, and
    return how to score now."""
    spec, ps = _SPECS[model], _settings(settings)
    cutoffs = _cutoffs_of(program, ps, now)
    train_at, test_at = _split(cutoffs, ps)
    notes = []
    if not cutoffs:
        notes.append(
            f"not enough history: no cutoff with {ps.cutoff_every_days} days of history "
            f"before it and {ps.horizon_days} days of outcome after it"
        )
    make = _factory(ps, notes)
    if make is not None and not train_at:
        if cutoffs:
            notes.append(
                "no training cutoff: one needs its outcome window to end by the first test "
                "cutoff (more history, fewer test cutoffs or a shorter horizon)"
            )
        make = None
    rows = {
        c: features_at(program, c, settings=settings, model=model, until=c + ps.horizon)
        for c in (cutoffs if make is not None else test_at)
    }
    train = [f for c in train_at for f in rows.get(c, ())]
    test = [f for c in test_at for f in rows[c]]
    if make is not None and len({_outcome(f, model) for f in train}) < 2:
        positives = sum(_outcome(f, model) for f in train)
        notes.append(
            "cannot train: the training cutoffs need rows with and without the outcome "
            f"({positives} of {len(train)} had it)"
        )
        make = None
    if make is None:
        return _heuristic(spec, ps, test_at, test, notes)
    return _model(make, spec, ps, (train_at, train), (test_at, test), rows, notes)


def _factory(ps: PotentialSettings, notes: list[str]) -> Callable[[], Any] | None:
    """The model's factory, or None for the heuristic (saying why in ``notes``)."""
    if ps.method == "heuristic":
        notes.append("method='heuristic'")
        return None
    try:
        return _sklearn()
    except MissingExtra:
        if ps.method == "model":
            raise
        notes.append(_INSTALL)
        return None


def _heuristic(
    spec: _Spec,
    ps: PotentialSettings,
    test_at: tuple[datetime, ...],
    test: list[Features],
    notes: list[str],
) -> _Fitted:
    """The heuristic, evaluated on the test cutoffs (it learns nothing)."""
    score = _heuristic_scorer(spec, ps)
    weights = spec.weights(ps)
    predicted, outcomes = score(test), [_outcome(f, spec.model) for f in test]
    report = PotentialReport(
        model=spec.model,
        label=HEURISTIC,
        auc=auc(predicted, outcomes),
        brier=None,
        calibration=reliability(predicted, outcomes),
        n_train=0,
        n_test=len(test),
        positives_train=0,
        positives_test=sum(outcomes),
        train_cutoffs=(),
        test_cutoffs=test_at,
        horizon_days=ps.horizon_days,
        coefficients=dict(weights),
        notes=tuple(notes),
    )
    return _Fitted(report, score)


def _model(
    make: Callable[[], Any],
    spec: _Spec,
    ps: PotentialSettings,
    training: tuple[tuple[datetime, ...], list[Features]],
    testing: tuple[tuple[datetime, ...], list[Features]],
    rows: Mapping[datetime, list[Features]],
    notes: list[str],
) -> _Fitted:
    """The logistic regression, trained on the training cutoffs and tested on the
    test ones; then refit on every cutoff to score now."""
    (train_at, train), (test_at, test) = training, testing
    y_train = [_outcome(f, spec.model) for f in train]
    y_test = [_outcome(f, spec.model) for f in test]
    pipeline = make().fit([f.vector(spec.features) for f in train], y_train)
    predicted = _predict(pipeline, test, spec.features)
    regression = pipeline[-1]
    report = PotentialReport(
        model=spec.model,
        label=MODEL,
        auc=auc(predicted, y_test),
        brier=brier(predicted, y_test),
        calibration=reliability(predicted, y_test),
        n_train=len(train),
        n_test=len(test),
        positives_train=sum(y_train),
        positives_test=sum(y_test),
        train_cutoffs=train_at,
        test_cutoffs=test_at,
        horizon_days=ps.horizon_days,
        coefficients={
            name: float(c) for name, c in zip(spec.features, regression.coef_[0], strict=True)
        },
        intercept=float(regression.intercept_[0]),
        notes=tuple(notes),
    )
    return _Fitted(report, _final_model(make, spec, rows))


def _heuristic_scorer(
    spec: _Spec, ps: PotentialSettings
) -> Callable[[Sequence[Features]], list[float]]:
    weights = spec.weights(ps)
    return lambda features: [heuristic_score(f, weights, spec.components) for f in features]


def _final_model(
    make: Callable[[], Any], spec: _Spec, rows: Mapping[datetime, list[Features]]
) -> Callable[[Sequence[Features]], list[float]]:
    """The model refit on every cutoff, to score now: the latest outcomes are the
    most relevant, and every cutoff's outcome is known now."""
    everything = [f for features in rows.values() for f in features]
    outcomes = [_outcome(f, spec.model) for f in everything]
    final = make().fit([f.vector(spec.features) for f in everything], outcomes)
    return lambda features: _predict(final, features, spec.features)


def _predict(pipeline: Any, rows: Sequence[Features], names: Sequence[str]) -> list[float]:
    if not rows:
        return []
    return [float(p) for p in pipeline.predict_proba([f.vector(names) for f in rows])[:, 1]]


def _store(
    program: Program, model: str, label: str, scores: list[tuple[int, float]], now: datetime
) -> int:
    """Replace the program's stored scores of ``model``, in one transaction."""
    s = scores_t
    rows = [
        {
            "advocate_id": row_id,
            "model": model,
            "program": program.name,
            "score": score,
            "label": label,
            "scored_at": now,
        }
        for row_id, score in scores
    ]

    def attempt() -> None:
        with database.transaction(program.engine) as conn:
            conn.execute(sa.delete(s).where(s.c.program == program.name, s.c.model == model))
            insert = dialect_insert(conn, s)
            statement = insert.on_conflict_do_update(
                index_elements=["advocate_id", "model"],
                set_={
                    name: getattr(insert.excluded, name)
                    for name in ("program", "score", "label", "scored_at")
                },
            )
            for part in q.chunks(rows, 5000):
                conn.execute(statement, part)

    database.retrying(attempt)
    return len(rows)


def _scorer(
    program: Program, settings: ScoringSettings, model: str, now: datetime
) -> tuple[str, Callable[[Sequence[Features]], list[float]]]:
    """How to score now, and its label: the model where :func:`_fit` would train
    one, else the heuristic. Unlike ``_fit``, nothing is evaluated: the
    held-out report is ``train_*``'s, and scoring does not pay for it again."""
    spec, ps = _SPECS[model], _settings(settings)
    make = _factory(ps, [])
    cutoffs = _cutoffs_of(program, ps, now) if make is not None else ()
    train_at = _split(cutoffs, ps)[0] if cutoffs else ()
    if make is not None and train_at:
        rows = {
            c: features_at(program, c, settings=settings, model=model, until=c + ps.horizon)
            for c in cutoffs
        }
        if len({_outcome(f, model) for c in train_at for f in rows[c]}) == 2:
            return MODEL, _final_model(make, spec, rows)
    return HEURISTIC, _heuristic_scorer(spec, ps)


def _score(program: Program, settings: ScoringSettings, model: str) -> int:
    now = program.clock()
    label, score = _scorer(program, settings, model, now)
    current = features_at(program, now, settings=settings, model=model)
    return _store(
        program,
        model,
        label,
        [(f.advocate_id, s) for f, s in zip(current, score(current), strict=True)],
        now,
    )


# ---------------------------------------------------------------- queries


def train_potential(program: Program, *, settings: ScoringSettings) -> PotentialReport:
    """Train the potential model on the past cutoffs and test it on the latest:
    the held-out ROC AUC and calibration (``program.train_potential()``)."""
    return _fit(program, settings, POTENTIAL, program.clock()).report


def score_potential(program: Program, *, settings: ScoringSettings) -> int:
    """Score every current non-advocate (features as of now) and store the
    scores, replacing the previous ones; returns how many were stored."""
    return _score(program, settings, POTENTIAL)


def train_at_risk(program: Program, *, settings: ScoringSettings) -> PotentialReport:
    """Train the at-risk model (a promoter's next answer a detractor's) and test it."""
    return _fit(program, settings, AT_RISK, program.clock()).report


def score_at_risk(program: Program, *, settings: ScoringSettings) -> int:
    """Score every current promoter (latest answer 9-10) and store the scores."""
    return _score(program, settings, AT_RISK)


def potential_features(
    program: Program,
    at: datetime | None = None,
    *,
    model: str = POTENTIAL,
    settings: ScoringSettings,
) -> list[Features]:
    """The candidates' features as of ``at`` (now by default): what the scores see."""
    return features_at(program, at or program.clock(), settings=settings, model=model)


def _row_id(conn: Any, program: Program, advocate: str | Advocate) -> int:
    """The advocate's row id; UnknownAdvocate when they are not enrolled."""
    external_id = advocate.external_id if isinstance(advocate, Advocate) else advocate
    return q.advocate_row_id(conn, program.name, external_id)


def _stored(program: Program, advocate: str | Advocate, model: str) -> float | None:
    s = scores_t
    with program.engine.connect() as conn:
        row_id = _row_id(conn, program, advocate)
        return conn.execute(
            sa.select(s.c.score).where(s.c.advocate_id == row_id, s.c.model == model)
        ).scalar()


def potential_of(
    program: Program, advocate: str | Advocate, *, settings: ScoringSettings
) -> float | None:
    """The advocate's stored potential (0-1); None when they have none (they
    have advocated already, or scoring has not run since they were enrolled)."""
    return _stored(program, advocate, POTENTIAL)


def at_risk_of(
    program: Program, advocate: str | Advocate, *, settings: ScoringSettings
) -> float | None:
    """The advocate's stored at-risk score (0-1); None for non-promoters."""
    return _stored(program, advocate, AT_RISK)


def has_top_potential(
    program: Program, advocate: str | Advocate, share: float = 0.1, *, settings: ScoringSettings
) -> bool:
    """Whether the advocate's stored potential is in the top ``share`` of the
    program's, as :func:`top_potential` ranks them: what a journey's ``when``
    asks (``docs/metrics-potential.md``), once per triggering action, so it
    counts the scores ranked before theirs rather than ranking every score."""
    share = _fraction("has_top_potential.share", share, inclusive=True)
    s = scores_t
    stored = [s.c.program == program.name, s.c.model == POTENTIAL]
    with program.engine.connect() as conn:
        row_id = _row_id(conn, program, advocate)
        mine = conn.execute(sa.select(s.c.score).where(*stored, s.c.advocate_id == row_id)).scalar()
        if mine is None:
            return False
        before = sa.or_(s.c.score > mine, sa.and_(s.c.score == mine, s.c.advocate_id < row_id))
        ahead, total = conn.execute(
            sa.select(count_where(before), sa.func.count()).where(*stored)
        ).one()
    return bool(ahead < total * share - 1e-9)  # rank <= ceil(share * total), as top_potential


QUERIES = (
    train_potential,
    score_potential,
    potential_of,
    has_top_potential,
    potential_features,
    train_at_risk,
    score_at_risk,
    at_risk_of,
)


# ---------------------------------------------------------------- segments


def _fraction(field: str, value: Any, *, inclusive: bool) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not (0 < value <= 1 if inclusive else 0 <= value < 1):
        accepted = "a number in (0, 1]" if inclusive else "a number in [0, 1)"
        raise InvalidValue(field, value, accepted)
    return float(value)


def top_potential(share: float = 0.1) -> Condition:
    """Advocates whose stored potential is among the top ``share`` of the
    program's: the ``ceil(share * n)`` highest of the ``n`` stored scores (ties
    broken by the earlier enrolled)."""
    share = _fraction("top_potential.share", share, inclusive=True)
    s, a = scores_t, q.advocates_t

    def where(scope: Scope) -> Any:
        ranked = (
            sa.select(
                s.c.advocate_id,
                sa.func.row_number().over(order_by=(s.c.score.desc(), s.c.advocate_id)).label("rn"),
                sa.func.count().over().label("total"),
            )
            .where(s.c.program == scope.name, s.c.model == POTENTIAL)
            .subquery()
        )
        # rn <= ceil(share * total), written without ceil (and safe from 0.1 * 3000 = 300.00..06)
        top = ranked.c.rn - 1 < ranked.c.total * share - 1e-9
        return a.c.id.in_(sa.select(ranked.c.advocate_id).where(top))

    return Condition(where, f"top_potential({share!r})")


def _above(model: str, name: str, x: float) -> Condition:
    x = _fraction(f"{name}.x", x, inclusive=False)
    s, a = scores_t, q.advocates_t

    def where(scope: Scope) -> Any:
        return a.c.id.in_(
            sa.select(s.c.advocate_id).where(
                s.c.program == scope.name, s.c.model == model, s.c.score > x
            )
        )

    return Condition(where, f"{name}({x!r})")


def potential_above(x: float) -> Condition:
    """Advocates whose stored potential is above ``x`` (0-1)."""
    return _above(POTENTIAL, "potential_above", x)


def at_risk_above(x: float) -> Condition:
    """Promoters whose stored at-risk score is above ``x`` (0-1)."""
    return _above(AT_RISK, "at_risk_above", x)


# ---------------------------------------------------------------- scorers


class _StoredScores(Scorer):
    """A summary of a model's stored scores over the population."""

    model: ClassVar[str]
    options = {"top": 0.1}
    periodic = False

    def check(self, options: Mapping[str, Any]) -> None:
        _fraction(f"{self.name}.top", options["top"], inclusive=True)

    def compute(self, scope: Scope) -> Score:
        s = scores_t
        where = [
            s.c.program == scope.name,
            s.c.model == self.model,
            *scope.members(s.c.advocate_id),
        ]
        n, mean, low, high, scored_at = scope.rows(
            sa.select(
                sa.func.count(),
                sa.func.avg(s.c.score),
                sa.func.min(s.c.label),
                sa.func.max(s.c.label),
                sa.func.max(s.c.scored_at),
            ).where(*where)
        )[0]
        if not n:
            return Score(
                name=self.name,
                value=None,
                n=0,
                unit="ratio",
                inputs=scope.inputs(),
                missing=(f"no stored {self.model} scores: run program.score_{self.model}()",),
            )
        top = scope.options["top"]
        k = max(1, math.ceil(top * n - 1e-9))
        threshold = scope.rows(
            sa.select(s.c.score)
            .where(*where)
            .order_by(s.c.score.desc(), s.c.advocate_id)
            .offset(k - 1)
            .limit(1)
        )[0][0]
        return Score(
            name=self.name,
            value=float(mean),
            n=n,
            unit="ratio",
            counts={"scored": n, "top": k},
            inputs=scope.inputs(),
            label=low if low == high else "mixed",
            details={
                "top_share": top,
                "top_threshold": float(threshold),
                "scored_at": scored_at,
                "model": self.model,
            },
        )


class PotentialScore(_StoredScores):
    """The mean stored advocacy potential, and the top share's threshold."""

    name = "potential"
    description = "mean stored advocacy potential (0-1) of non-advocates; top-share threshold"
    model = POTENTIAL


class AtRiskScore(_StoredScores):
    """The mean stored at-risk score of promoters, and the top share's threshold."""

    name = "at_risk"
    description = "mean stored risk (0-1) that a promoter's next answer is a detractor's"
    model = AT_RISK


SCORERS = (PotentialScore, AtRiskScore)
