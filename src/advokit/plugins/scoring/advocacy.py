"""Advocacy scores: each advocate's Customer Advocacy Score (CAS) and the
program's Brand Advocacy Index (BAI), weighted composites of normalised
components, 0-100, whose parts are inspectable ("why is Ann at 82?")::

    Scoring(advocacy=AdvocacyWeights(nps=0.4, shares=0.0))
    program.score("cas")                      # the mean CAS, its distribution
    program.advocacy_score("ann").details["contributions"]
    program.advocacy_scores(limit=10)         # the top advocates
    program.score("bai")

Every per-advocate figure is computed in SQL: one query aggregates the
actions, the latest NPS answers and the referrals per advocate and weighs
them. Formulas and worked examples: ``docs/metrics-advocacy.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import sqlalchemy as sa

from advokit.core.errors import ConfigurationError, InvalidValue
from advokit.core.store import queries as q
from advokit.core.store.types import UTCDateTime
from advokit.plugins.referrals.tables import referrals_t
from advokit.plugins.scoring import types
from advokit.plugins.scoring.features import latest_answers
from advokit.plugins.scoring.model import Contribution, Score
from advokit.plugins.scoring.scope import Scope, Scorer
from advokit.plugins.scoring.sql import count_where, days_between

if TYPE_CHECKING:
    from advokit.core.program import Program
    from advokit.plugins.scoring.settings import ScoringSettings

__all__ = [
    "BRAND_COMPONENTS",
    "COMPONENTS",
    "DEFAULT_CAPS",
    "QUERIES",
    "SCORERS",
    "AdvocacyWeights",
    "BrandAdvocacyIndex",
    "BrandWeights",
    "CustomerAdvocacyScore",
    "advocacy_score",
    "advocacy_scores",
    "per_advocate",
    "weights_of",
]

#: the Customer Advocacy Score's components, in the order contributions are listed
COMPONENTS = (
    "nps",
    "referrals_sent",
    "referrals_converted",
    "reviews",
    "shares",
    "ugc",
    "community",
    "recency",
)
#: the counted components and the count at which each is full (normalised 1)
DEFAULT_CAPS: Mapping[str, float] = MappingProxyType(
    {
        "referrals_sent": 5,
        "referrals_converted": 3,
        "reviews": 3,
        "shares": 10,
        "ugc": 3,
        "community": 10,
    }
)
#: the counted components that are actions, and their kind
ACTION_COUNTS = {
    "reviews": "review.posted",
    "shares": "share.posted",
    "ugc": "ugc.submitted",
    "community": "community.post",
}
#: the Brand Advocacy Index's components
BRAND_COMPONENTS = (
    "nps",
    "referred",
    "conversion",
    "reviewed",
    "shared",
    "ugc",
    "community",
    "active",
)
NO_REFERRALS = "the referrals plugin is not part of the program: referrals count 0"

a = q.advocates_t
t = q.actions_t


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_weights(owner: str, weights: Mapping[str, float]) -> None:
    for name, value in weights.items():
        if not _finite(value) or value < 0:
            raise ConfigurationError(f"{owner}.{name}", value, "a finite number, 0 or more")
    if math.fsum(weights.values()) <= 0:
        raise ConfigurationError(owner, dict(weights), "weights adding up to more than 0")


def _normalised(weights: Mapping[str, float]) -> dict[str, float]:
    total = math.fsum(weights.values())
    return {name: value / total for name, value in weights.items()}


def _caps(value: Any) -> Mapping[str, float]:
    if not isinstance(value, Mapping):
        raise ConfigurationError("AdvocacyWeights.caps", value, "a mapping of component to cap")
    for name, cap in value.items():
        if name not in DEFAULT_CAPS:
            raise ConfigurationError(
                "AdvocacyWeights.caps", name, f"one of {', '.join(DEFAULT_CAPS)}"
            )
        if not _finite(cap) or cap <= 0:
            raise ConfigurationError(f"AdvocacyWeights.caps[{name!r}]", cap, "a number above 0")
    return MappingProxyType({**DEFAULT_CAPS, **value})


class _Weights:
    """What both sets of weights do: check, and normalise, their components."""

    __slots__ = ()
    #: the names of the weighted components (fields of the subclass)
    COMPONENTS: ClassVar[tuple[str, ...]]

    def _check(self, days: str) -> None:
        """Check the weights and the span field named ``days``."""
        owner = type(self).__name__
        _check_weights(owner, self.given())
        span = getattr(self, days)
        if not _finite(span) or span <= 0:
            raise ConfigurationError(f"{owner}.{days}", span, "days above 0")

    def given(self) -> dict[str, float]:
        """The weights as given."""
        return {name: getattr(self, name) for name in self.COMPONENTS}

    def weights(self) -> dict[str, float]:
        """Each component's share, adding up to 1."""
        return _normalised(self.given())


@attrs.frozen(kw_only=True)
class BrandWeights(_Weights):
    """The Brand Advocacy Index's component weights (any scale: they are
    normalised to add up to 1) and the span that counts as "active"."""

    COMPONENTS: ClassVar[tuple[str, ...]] = BRAND_COMPONENTS

    nps: float = 0.25
    referred: float = 0.15
    conversion: float = 0.10
    reviewed: float = 0.10
    shared: float = 0.10
    ugc: float = 0.10
    community: float = 0.05
    active: float = 0.15
    #: an advocate is active with an advocacy action in the last ``active_days``
    active_days: float = 90

    def __attrs_post_init__(self) -> None:
        self._check("active_days")


def _brand(value: Any) -> BrandWeights:
    if not isinstance(value, BrandWeights):
        raise ConfigurationError("AdvocacyWeights.brand", value, "a BrandWeights")
    return value


@attrs.frozen(kw_only=True)
class AdvocacyWeights(_Weights):
    """How the Customer Advocacy Score weighs and normalises its components.

    Pass as ``Scoring(advocacy=AdvocacyWeights(...))``. Weights are 0 or more,
    on any scale (they are normalised to add up to 1), and not all 0.

    Attributes:
        nps, referrals_sent, referrals_converted, reviews, shares, ugc,
            community, recency: the components' weights.
        caps: per counted component, the count that scores full marks:
            ``normalised = min(count / cap, 1)``. Given caps replace the
            defaults (:data:`DEFAULT_CAPS`) by name.
        horizon_days: recency is ``1 - min(days since the last advocacy
            action / horizon_days, 1)``.
        survey: the survey whose latest answer is the ``nps`` component.
        brand: the Brand Advocacy Index's weights.
    """

    COMPONENTS: ClassVar[tuple[str, ...]] = COMPONENTS

    nps: float = 0.25
    referrals_sent: float = 0.10
    referrals_converted: float = 0.15
    reviews: float = 0.15
    shares: float = 0.10
    ugc: float = 0.10
    community: float = 0.05
    recency: float = 0.10
    caps: Mapping[str, float] = attrs.field(factory=dict, converter=_caps, hash=False)
    horizon_days: float = 180
    survey: str = "nps"
    brand: BrandWeights = attrs.field(factory=BrandWeights, converter=_brand)

    def __attrs_post_init__(self) -> None:
        self._check("horizon_days")
        if not isinstance(self.survey, str) or not self.survey:
            raise ConfigurationError("AdvocacyWeights.survey", self.survey, "a survey name")


def weights_of(settings: ScoringSettings) -> AdvocacyWeights:
    """The settings' weights; the defaults when ``Scoring(advocacy=None)``."""
    if settings.advocacy is None:
        return AdvocacyWeights()
    if not isinstance(settings.advocacy, AdvocacyWeights):
        raise ConfigurationError(
            "Scoring.advocacy", settings.advocacy, "an AdvocacyWeights or None"
        )
    return settings.advocacy


# -- the per-advocate query


def _float(value: float) -> Any:
    return sa.literal(float(value), sa.Float)


def _actions(scope: Scope, kinds: list[str], advocate_id: int | None) -> list[Any]:
    """This program's applied actions of ``kinds`` in the window (of one advocate if
    given). The segment is applied once, to the population: repeating it in each
    aggregate costs more than it saves."""
    clauses = [
        t.c.program == scope.name,
        t.c.kind.in_(kinds),
        t.c.status == "applied",
        *scope.during(t.c.occurred_at),
    ]
    return clauses + ([t.c.advocate_id == advocate_id] if advocate_id is not None else [])


def _activity(scope: Scope, advocate_id: int | None) -> Any:
    """Per advocate: their actions counted by :data:`ACTION_COUNTS` in the window,
    and their last advocacy action (``last_at``)."""
    advocacy = sorted(scope.settings.advocacy_kinds)
    kinds = sorted({*ACTION_COUNTS.values(), *advocacy})
    return (
        sa.select(
            t.c.advocate_id,
            *(count_where(t.c.kind == kind).label(name) for name, kind in ACTION_COUNTS.items()),
            sa.func.max(sa.case((t.c.kind.in_(advocacy), t.c.occurred_at))).label("last_at"),
        )
        .where(*_actions(scope, kinds, advocate_id))
        .group_by(t.c.advocate_id)
        .subquery("activity")
    )


def _latest(scope: Scope, survey: str, advocate_id: int | None) -> Any:
    """Per advocate: their latest answer to ``survey`` up to the window's end."""
    latest = latest_answers(attrs.evolve(scope, segment=None), survey)
    if advocate_id is not None:
        latest = latest.where(latest.selected_columns.advocate_id == advocate_id)
    ranked = latest.subquery("ranked")
    # one row per advocate already: the GROUP BY makes SQLite materialise it with
    # an index for the join, instead of scanning it once per advocate
    return (
        sa.select(ranked.c.advocate_id, sa.func.max(ranked.c.score).label("score"))
        .group_by(ranked.c.advocate_id)
        .subquery("latest")
    )


def _referrals(scope: Scope, advocate_id: int | None) -> Any:
    """Per referrer: the friends attributed to them in the window (``sent``) and
    how many of those converted by the window's end; voided ones count in neither."""
    r = referrals_t
    sent = sa.and_(r.c.state != "voided", *scope.during(r.c.attributed_at))
    converted = sa.and_(sent, r.c.converted_at.is_not(None))
    if scope.window.end is not None:
        converted = sa.and_(converted, r.c.converted_at < scope.window.end)
    one = [r.c.referrer_id == advocate_id] if advocate_id is not None else []
    return (
        sa.select(
            r.c.referrer_id,
            count_where(sent).label("sent"),
            count_where(converted).label("converted"),
        )
        .where(r.c.program == scope.name, *one)
        .group_by(r.c.referrer_id)
        .subquery("referred")
    )


def _raw(
    scope: Scope, weights: AdvocacyWeights, advocate_id: int | None = None
) -> tuple[Any, tuple[str, ...]]:
    """One row per advocate of the population (or the one advocate):
    ``advocate_id``, ``external_id``, each component's raw input
    (``raw_<component>``) and ``last_at``."""
    activity = _activity(scope, advocate_id)
    latest = _latest(scope, weights.survey, advocate_id)
    joined = a.outerjoin(activity, activity.c.advocate_id == a.c.id).outerjoin(
        latest, latest.c.advocate_id == a.c.id
    )
    raw: dict[str, Any] = {"nps": latest.c.score}
    missing: tuple[str, ...] = ()
    if scope.table_exists(referrals_t):
        referred = _referrals(scope, advocate_id)
        joined = joined.outerjoin(referred, referred.c.referrer_id == a.c.id)
        raw["referrals_sent"] = sa.func.coalesce(referred.c.sent, 0)
        raw["referrals_converted"] = sa.func.coalesce(referred.c.converted, 0)
    else:
        raw["referrals_sent"] = raw["referrals_converted"] = sa.literal(0)
        missing = (NO_REFERRALS,)
    for name in ACTION_COUNTS:
        raw[name] = sa.func.coalesce(activity.c[name], 0)
    one = [a.c.id == advocate_id] if advocate_id is not None else []
    at = sa.literal(types.reference_time(scope), UTCDateTime())
    raw["recency"] = days_between(activity.c.last_at, at, scope.dialect)
    select = (
        sa.select(
            a.c.id.label("advocate_id"),
            a.c.external_id,
            *(raw[name].label(f"raw_{name}") for name in COMPONENTS),
            activity.c.last_at,
        )
        .select_from(joined)
        .where(*types.population(scope), *one)
    )
    return select.subquery("raw"), missing


def _normalise(raw: Any, weights: AdvocacyWeights) -> dict[str, Any]:
    """Each component mapped to 0-1, in SQL, from the columns of :func:`_raw`."""
    out = {"nps": sa.func.coalesce(raw.c.raw_nps, 0) * _float(0.1)}
    for name, cap in weights.caps.items():
        count = raw.c[f"raw_{name}"]
        out[name] = sa.case((count >= cap, _float(1)), else_=count * _float(1 / cap))
    days = raw.c.raw_recency
    out["recency"] = sa.case(
        (days.is_(None), _float(0)),
        (days >= weights.horizon_days, _float(0)),
        (days <= 0, _float(1)),
        else_=_float(1) - days * _float(1 / weights.horizon_days),
    )
    return out


def per_advocate(
    scope: Scope, weights: AdvocacyWeights, advocate_id: int | None = None
) -> tuple[Any, tuple[str, ...]]:
    """The Customer Advocacy Score of each advocate of the population (or of the
    one advocate), as a subquery: ``advocate_id``, ``external_id``, ``raw_<c>``
    and ``norm_<c>`` per component, ``last_at`` and ``cas``; and what was
    missing, in words."""
    raw, missing = _raw(scope, weights, advocate_id)
    norm = _normalise(raw, weights)
    shares = weights.weights()
    cas = sum(
        (norm[name] * _float(100 * share) for name, share in shares.items() if share > 0),
        start=_float(0),
    )
    select = sa.select(
        raw,
        *(norm[name].label(f"norm_{name}") for name in COMPONENTS),
        cas.label("cas"),
    )
    return select.subquery("cas"), missing


# -- scorers and queries

#: the CAS distribution's bands: [low, high) in points, the last one including 100
BANDS = tuple((low, low + 10) for low in range(0, 100, 10))
_EPSILON = 1e-9  # a score of 30 computed as 29.9999999999 belongs to 30-40


def _band(cas: Any, dialect: str) -> Any:
    """The score's band number, ``floor(cas / 10)`` (10 for a score of 100), in SQL:
    one use of the composite per advocate, where a CASE per band would be ten."""
    tenth = (cas + _float(_EPSILON)) / _float(10)
    # a score is never negative: SQLite's cast truncates, that is floors it
    return sa.cast(tenth, sa.Integer) if dialect == "sqlite" else sa.func.floor(tenth)


def _advocate_option(options: Mapping[str, Any]) -> None:
    advocate = options["advocate"]
    if advocate is not None and (not isinstance(advocate, str) or not advocate):
        raise InvalidValue("cas.advocate", advocate, "an advocate's external id or None")


class CustomerAdvocacyScore(Scorer):
    """The mean Customer Advocacy Score (0-100) of the population, or one advocate's."""

    name = "cas"
    description = "Customer Advocacy Score, 0-100: the mean over advocates, or one advocate's"
    options = {"advocate": None}
    periodic = False

    def __init__(self, settings: ScoringSettings | None = None) -> None:
        super().__init__(settings)
        weights_of(self.settings)  # a bad Scoring(advocacy=...) fails when the program is built

    def check(self, options: Mapping[str, Any]) -> None:
        _advocate_option(options)

    def compute(self, scope: Scope) -> Score:
        weights = weights_of(scope.settings)
        if scope.options["advocate"] is not None:
            return self._one(scope, weights, scope.options["advocate"])
        cas, missing = per_advocate(scope, weights)
        band = _band(cas.c.cas, scope.dialect).label("band")
        columns = [band, sa.func.count(), sa.func.sum(cas.c.cas)]
        columns += [sa.func.sum(cas.c[f"norm_{name}"]) for name in COMPONENTS]
        columns += [sa.func.sum(cas.c[f"raw_{name}"]) for name in COMPONENTS]
        columns += [sa.func.count(cas.c[f"raw_{name}"]) for name in COMPONENTS]
        rows = scope.rows(sa.select(*columns).group_by(band))
        if not rows:
            return self._empty(scope, missing)
        bands = [0] * len(BANDS)
        for row in rows:
            bands[min(int(row[0]), len(BANDS) - 1)] += row[1]
        # the sums of the (at most 11) band rows
        n, total, *sums = (math.fsum(row[i] or 0 for row in rows) for i in range(1, len(columns)))
        n = int(n)
        k = len(COMPONENTS)
        norms, raws, known = sums[:k], sums[k : 2 * k], [int(c) for c in sums[2 * k :]]
        shares = weights.weights()
        contributions = tuple(
            _contribution(name, raw / seen if seen else None, norm / n, shares[name])
            for name, norm, raw, seen in zip(COMPONENTS, norms, raws, known, strict=True)
        )
        return Score(
            name=self.name,
            value=total / n,
            n=n,
            unit="score",
            counts={"advocates": n},
            inputs=scope.inputs(),
            missing=missing + _no_answers(known[0], weights),
            details={
                "distribution": {
                    f"{low}-{high}": count for (low, high), count in zip(BANDS, bands, strict=True)
                },
                "contributions": contributions,
                "weights": shares,
            },
        )

    def _one(self, scope: Scope, weights: AdvocacyWeights, advocate: str) -> Score:
        advocate_id = types.row_id(scope.program, advocate)
        cas, missing = per_advocate(types.one_advocate(scope, advocate_id), weights, advocate_id)
        rows = scope.rows(sa.select(cas))
        if not rows:
            return self._empty(
                scope,
                (f"advocate {advocate!r} is not in the segment, or enrolled after the window",),
            )
        row = rows[0]._mapping
        shares = weights.weights()
        contributions = tuple(
            _contribution(name, row[f"raw_{name}"], row[f"norm_{name}"], shares[name])
            for name in COMPONENTS
        )
        return Score(
            name=self.name,
            value=math.fsum(c.points for c in contributions),
            n=1,
            unit="score",
            counts={"advocates": 1},
            inputs=scope.inputs(),
            missing=missing + _no_answers(int(row["raw_nps"] is not None), weights),
            details={"advocate": advocate, "contributions": contributions, "weights": shares},
        )

    def _empty(self, scope: Scope, missing: tuple[str, ...]) -> Score:
        return Score(
            name=self.name,
            value=None,
            n=0,
            unit="score",
            inputs=scope.inputs(),
            missing=(*missing, "no advocates in the population"),
        )


def _contribution(name: str, raw: Any, normalised: float, weight: float) -> Contribution:
    normalised = float(normalised)
    return Contribution(
        component=name,
        raw=None if raw is None else float(raw),
        normalised=normalised,
        weight=weight,
        points=100 * weight * normalised,
    )


def _no_answers(answered: int, weights: AdvocacyWeights) -> tuple[str, ...]:
    if answered:
        return ()
    return (f"no answer to the {weights.survey!r} survey: the nps component counts 0",)


class BrandAdvocacyIndex(Scorer):
    """The Brand Advocacy Index (0-100): a weighted composite of program-level shares."""

    name = "bai"
    description = "Brand Advocacy Index, 0-100: NPS, referring, reviewing, sharing... advocates"
    periodic = False

    def __init__(self, settings: ScoringSettings | None = None) -> None:
        super().__init__(settings)
        weights_of(self.settings)

    def compute(self, scope: Scope) -> Score:
        weights = weights_of(scope.settings)
        raw, missing = _raw(scope, weights)
        nps = raw.c.raw_nps
        since = types.reference_time(scope) - timedelta(days=weights.brand.active_days)
        columns = {
            "advocates": sa.func.count(),
            "answered": sa.func.count(nps),
            "promoters": count_where(nps >= 9),
            "detractors": count_where(nps <= 6),
            "referred": count_where(raw.c.raw_referrals_sent > 0),
            "referrals_sent": sa.func.sum(raw.c.raw_referrals_sent),
            "referrals_converted": sa.func.sum(raw.c.raw_referrals_converted),
            "reviewed": count_where(raw.c.raw_reviews > 0),
            "shared": count_where(raw.c.raw_shares > 0),
            "ugc": count_where(raw.c.raw_ugc > 0),
            "community": count_where(raw.c.raw_community > 0),
            "active": count_where(raw.c.last_at >= sa.literal(since, UTCDateTime())),
        }
        row = scope.rows(sa.select(*(c.label(name) for name, c in columns.items())))[0]
        counts = {name: int(row._mapping[name] or 0) for name in columns}
        n = counts["advocates"]
        if not n:
            missing = (*missing, "no advocates in the population")
            return Score(
                name=self.name,
                value=None,
                n=0,
                unit="score",
                inputs=scope.inputs(),
                counts=counts,
                missing=missing,
            )
        measured = _brand_measures(counts)
        shares = weights.brand.weights()
        contributions = tuple(
            _contribution(
                name, measured[name], _brand_normalised(name, measured[name]), shares[name]
            )
            for name in BRAND_COMPONENTS
        )
        return Score(
            name=self.name,
            value=math.fsum(c.points for c in contributions),
            n=n,
            unit="score",
            counts=counts,
            inputs=scope.inputs(),
            missing=missing + _no_answers(counts["answered"], weights),
            details={"contributions": contributions, "weights": shares},
        )


def _brand_measures(counts: Mapping[str, int]) -> dict[str, float | None]:
    """The BAI's raw inputs: NPS in points, the others in % (None: not measured)."""
    n, answered, sent = counts["advocates"], counts["answered"], counts["referrals_sent"]
    out: dict[str, float | None] = {
        "nps": (counts["promoters"] - counts["detractors"]) * 100 / answered if answered else None,
        "conversion": counts["referrals_converted"] * 100 / sent if sent else None,
    }
    for name in ("referred", "reviewed", "shared", "ugc", "community", "active"):
        out[name] = counts[name] * 100 / n
    return out


def _brand_normalised(name: str, measured: float | None) -> float:
    if measured is None:
        return 0.0
    return (measured + 100) / 200 if name == "nps" else measured / 100


def advocacy_score(
    program: Program, advocate: str, *, settings: ScoringSettings, window: Any = None
) -> Score:
    """One advocate's Customer Advocacy Score, ``details["contributions"]`` saying
    what each component added ("why is Ann at 82?")."""
    return CustomerAdvocacyScore(settings)(program, window=window, advocate=advocate)


def advocacy_scores(
    program: Program,
    *,
    settings: ScoringSettings,
    segment: Any = None,
    window: Any = None,
    limit: int | None = None,
) -> list[tuple[str, float]]:
    """``(external_id, CAS)`` of the population's advocates, highest first
    (ties by external id); the first ``limit`` only, if given."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidValue("advocacy_scores.limit", limit, "a positive integer or None")
    scope = Scope.of(program, settings, segment=segment, window=window)
    cas, _ = per_advocate(scope, weights_of(settings))
    statement = sa.select(cas.c.external_id, cas.c.cas).order_by(
        cas.c.cas.desc(), cas.c.external_id
    )
    if limit is not None:
        statement = statement.limit(limit)
    return [(external_id, float(score)) for external_id, score in scope.rows(statement)]


SCORERS = (CustomerAdvocacyScore, BrandAdvocacyIndex, *types.SCORERS)
QUERIES = (advocacy_score, advocacy_scores, *types.QUERIES)
