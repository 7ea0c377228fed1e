"""Referral economics: the funnel, the K-factor, lifetime value, cost per
acquired customer, incremental lift against a holdout group, and ROI.

Costs come from :class:`Economics` (``Scoring(economics=Economics(...))``);
referrals from the referrals plugin's tables, rewards in money from the
rewards plugin's, revenue from ``purchase.completed`` (``total_cents``) net of
``purchase.refunded`` (``refund_cents``). Formulas and worked examples:
``docs/metrics-referrals.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs
import sqlalchemy as sa

from advokit.core import validation as v
from advokit.core.errors import ConfigurationError, InvalidValue
from advokit.core.store import queries as q
from advokit.plugins.referrals.tables import invitations_t, referrals_t
from advokit.plugins.rewards.tables import rewards_t
from advokit.plugins.scoring.holdout import (
    GroupStats,
    Holdout,
    assign_holdout,
    deviations,
    find_holdout,
    group_stats,
    mean_difference,
    proportion_difference,
    stats_json,
)
from advokit.plugins.scoring.model import Interval, Score, wilson
from advokit.plugins.scoring.scope import APPLIED, Scope, Scorer, by_period
from advokit.plugins.scoring.settings import ScoringSettings
from advokit.plugins.scoring.sql import count_where
from advokit.plugins.scoring.tables import holdouts_t

__all__ = [
    "QUERIES",
    "SCORERS",
    "Costs",
    "Economics",
    "KFactor",
    "LifetimeValue",
    "Lift",
    "ReferralCAC",
    "ReferralFunnel",
    "ReturnOnInvestment",
    "economics_in",
    "program_cost",
]

t, r = q.actions_t, referrals_t
NO_REFERRALS = "the referrals plugin is not part of the program (no referrals table)"
PURCHASE, REFUND = "purchase.completed", "purchase.refunded"
#: the referral actions whose rewards are the cost of acquiring the friend
REFERRAL_REWARDED_BY = ("referral.signed_up", "referral.approved")
#: rewards that were not paid and will not be
UNPAID = ("canceled", "reversed")
#: an average month, in days, for prorating ``Costs.monthly_cents``
MONTH_DAYS = 365.25 / 12


# --------------------------------------------------------------------------- settings


def _cents(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name}", value, "an integer >= 0 (cents)"
        )


@attrs.frozen(kw_only=True)
class Costs:
    """What running the referral program costs, in cents of ``Economics.currency``.

    Attributes:
        fixed_cents: one-off costs (set-up, a launch campaign), counted once in
            every cost asked: set it for the window you ask about.
        monthly_cents: running costs per month (platform, staff), prorated over
            the window: its days / 30.44. An open start is the program's first
            applied action, an open end is now.
        per_reward_cents: the overhead of each referral rewarded (handling,
            payment fees), on top of the reward itself.
    """

    fixed_cents: int = attrs.field(default=0, validator=_cents)
    monthly_cents: int = attrs.field(default=0, validator=_cents)
    per_reward_cents: int = attrs.field(default=0, validator=_cents)


def _costs(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Costs):
        raise ConfigurationError("Economics.costs", value, "a Costs(...)")


def _points_value(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ConfigurationError(
            "Economics.points_value_cents", value, "a number >= 0 (cents per point)"
        )


def _currency(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value)):
        raise ConfigurationError(
            "Economics.currency", value, "an ISO 4217 currency code such as 'EUR', or None"
        )


def _holdouts(instance: Any, attribute: Any, value: Any) -> None:
    v.by_name("Economics.holdouts", list(value), Holdout)


@attrs.frozen(kw_only=True)
class Economics:
    """Program costs and holdout experiments: ``Scoring(economics=Economics(...))``.

    Attributes:
        costs: the program's own costs (:class:`Costs`).
        points_value_cents: what one point awarded costs the business, in
            cents: the referrals plugin rewards in points (0: points cost
            nothing, and the figures say so in ``missing``).
        currency: rewards paid in money (the rewards plugin's ``amount``) count
            in this currency only; None: every currency (one-currency programs).
        holdouts: the holdout experiments (:class:`Holdout`), by name.
    """

    costs: Costs = attrs.field(factory=Costs, validator=_costs)
    points_value_cents: float = attrs.field(default=0.0, validator=_points_value)
    currency: str | None = attrs.field(default=None, validator=_currency)
    holdouts: tuple[Holdout, ...] = attrs.field(default=(), converter=tuple, validator=_holdouts)


def economics_of(scope: Scope) -> Economics:
    return economics_in(scope.settings)


def economics_in(settings: ScoringSettings) -> Economics:
    """The :class:`Economics` of the scoring ``settings`` (the defaults when unset)."""
    value = settings.economics
    if value is None:
        return Economics()
    if not isinstance(value, Economics):
        raise ConfigurationError("Scoring.economics", value, "an Economics(...) or None")
    return value


# --------------------------------------------------------------------------- SQL pieces


def _net_cents() -> Any:
    """A purchase's ``total_cents``, or minus a refund's ``refund_cents`` (0 when absent)."""
    total = sa.func.coalesce(t.c.data["total_cents"].as_integer(), 0)
    refund = sa.func.coalesce(t.c.data["refund_cents"].as_integer(), 0)
    return sa.case((t.c.kind == PURCHASE, total), else_=-refund)


def _applied(scope: Scope, kinds: tuple[str, ...]) -> list[Any]:
    """This program's applied actions of ``kinds`` in the window (no segment)."""
    return [
        t.c.program == scope.name,
        t.c.kind.in_(kinds),
        t.c.status == APPLIED,
        *scope.during(t.c.occurred_at),
    ]


def _before_end(scope: Scope, column: Any) -> list[Any]:
    return [column < scope.window.end] if scope.window.end is not None else []


def _empty(name: str, scope: Scope, unit: str, *missing: str, label: str | None = None) -> Score:
    return Score(
        name=name, value=None, n=0, unit=unit, inputs=scope.inputs(), missing=missing, label=label
    )


def _rows_by_period(
    scope: Scope, column: Any, table: Any, *columns: Any, where: Any
) -> dict[Any, tuple[Any, ...]]:
    """``{period: (aggregates...)}`` of ``table`` grouped by ``column``'s period."""
    period = scope.period(column).label("period")
    rows = scope.rows(sa.select(period, *columns).select_from(table).where(*where).group_by(period))
    return {row[0]: tuple(row[1:]) for row in rows}


# --------------------------------------------------------------------------- funnel


class ReferralFunnel(Scorer):
    """Referrals attributed in the window, by the state they reached since."""

    name = "referral_funnel"
    description = "% of referrals attributed in the window that converted (the referral funnel)"

    def compute(self, scope: Scope) -> Score:
        if not scope.table_exists(referrals_t):
            return _empty(self.name, scope, "%", NO_REFERRALS)
        period = scope.period(r.c.attributed_at).label("period")
        rows = scope.rows(
            sa.select(
                period,
                sa.func.count(),
                sa.func.count(r.c.converted_at),
                sa.func.count(r.c.rewarded_at),
                sa.func.count(r.c.voided_at),
            )
            .where(
                r.c.program == scope.name,
                *scope.during(r.c.attributed_at),
                *scope.members(r.c.referrer_id),
            )
            .group_by(period)
        )

        def make(row: Any, day: date | None) -> Score:
            _, attributed, converted, rewarded, voided = row
            rates = {
                "attributed->converted": _rate(converted, attributed),
                "converted->rewarded": _rate(rewarded, converted),
                "attributed->voided": _rate(voided, attributed),
            }
            return self.share(
                scope,
                converted,
                attributed,
                counts={
                    "attributed": attributed,
                    "converted": converted,
                    "rewarded": rewarded,
                    "voided": voided,
                },
                period=day,
                details={"rates": rates},
                missing="no referral attributed in the window",
            )

        return by_period(scope, rows, make, 5)


def _rate(successes: int, n: int) -> dict[str, Any]:
    return {
        "value": successes * 100 / n if n else None,
        "n": n,
        "interval": wilson(successes, n),
    }


# --------------------------------------------------------------------------- K-factor


class KFactor(Scorer):
    """New referred customers per active advocate: invitations per advocate x
    conversions per invitation."""

    name = "k_factor"
    description = (
        "viral coefficient: invitations per active advocate x referred customers per invitation"
    )

    def compute(self, scope: Scope) -> Score:
        if not scope.table_exists(referrals_t):
            return _empty(self.name, scope, "ratio", NO_REFERRALS)
        # distinct advocates do not add up over periods: the whole is its own query
        whole = self._rows(attrs.evolve(scope, by=None)).get(None, (0, 0, 0, 0))
        rows = self._rows(scope) if scope.by is not None else {}

        def make(row: Any, day: date | None) -> Score:
            active, inviters, invitations, converted = row[1:]
            per_advocate = invitations / active if active else None
            conversion = converted / invitations if invitations else None
            return Score(
                name=self.name,
                value=converted / active if active else None,
                n=active,
                unit="ratio",
                counts={
                    "active_advocates": active,
                    "inviters": inviters,
                    "invitations": invitations,
                    "converted": converted,
                },
                inputs=scope.inputs(),
                period=day,
                details={
                    "invitations_per_advocate": per_advocate,
                    "invitation_conversion": conversion,
                },
                missing=() if active else ("no advocate was active in the window",),
            )

        ordered = [(p, *values) for p, values in rows.items()]
        return by_period(scope, ordered, make, 5, (None, *whole))

    def _rows(self, scope: Scope) -> dict[Any, tuple[int, int, int, int]]:
        i = invitations_t
        active = _rows_by_period(
            scope,
            t.c.occurred_at,
            t,
            sa.func.count(sa.distinct(t.c.advocate_id)),
            where=[
                t.c.program == scope.name,
                t.c.status == APPLIED,
                *scope.during(t.c.occurred_at),
                *scope.members(t.c.advocate_id),
            ],
        )
        invited = _rows_by_period(
            scope,
            i.c.invited_at,
            i,
            sa.func.count(sa.distinct(i.c.referrer_id)),
            sa.func.count(),
            where=[
                i.c.program == scope.name,
                *scope.during(i.c.invited_at),
                *scope.members(i.c.referrer_id),
            ],
        )
        converted = _rows_by_period(
            scope,
            r.c.converted_at,
            r,
            sa.func.count(),
            where=[
                r.c.program == scope.name,
                r.c.converted_at.is_not(None),
                *scope.during(r.c.converted_at),
                *scope.members(r.c.referrer_id),
            ],
        )
        periods = sorted({*active, *invited, *converted}, key=lambda p: (p is not None, str(p)))
        return {
            p: (
                active.get(p, (0,))[0],
                *invited.get(p, (0, 0)),
                converted.get(p, (0,))[0],
            )
            for p in periods
        }


# --------------------------------------------------------------------------- lifetime value


_COMPARE = {"referred": ("referred", "not_referred"), "advocates": ("advocates", "non_advocates")}


class LifetimeValue(Scorer):
    """Mean revenue per customer of one group minus the other's, with Welch's interval."""

    name = "ltv"
    description = (
        "mean revenue per customer: referred minus not referred (or advocates minus others)"
    )
    options = {"compare": "referred"}
    periodic = False

    def check(self, options: Mapping[str, Any]) -> None:
        if options["compare"] not in _COMPARE:
            raise InvalidValue("ltv.compare", options["compare"], "referred or advocates")

    def compute(self, scope: Scope) -> Score:
        compare = scope.options["compare"]
        first, second = _COMPARE[compare]
        if compare == "referred" and not scope.table_exists(referrals_t):
            return _empty(self.name, scope, "cents", NO_REFERRALS)
        per_customer = (
            sa.select(t.c.advocate_id, sa.func.sum(_net_cents()).label("revenue"))
            .where(*scope.actions((PURCHASE, REFUND)))
            .group_by(t.c.advocate_id)
            .having(count_where(t.c.kind == PURCHASE) > 0)
            .subquery()
        )
        in_first = self._membership(scope, compare, per_customer.c.advocate_id)
        units = sa.select(
            sa.case((in_first, first), else_=second).label("grp"),
            sa.cast(per_customer.c.revenue, sa.Float).label("y"),
        ).subquery()
        groups = group_stats(scope.rows(deviations(units)), (first, second))
        a, b = groups[first], groups[second]
        n = a.n + b.n
        value = a.mean - b.mean if a.mean is not None and b.mean is not None else None
        ratio = a.mean / b.mean if value is not None and b.mean else None
        missing = [f"no customer in group {g!r}" for g in (first, second) if not groups[g].n]
        return Score(
            name=self.name,
            value=value,
            n=n,
            unit="cents",
            counts={first: a.n, second: b.n},
            inputs=scope.inputs(),
            interval=mean_difference(a, b),
            details={"groups": stats_json(groups), "ratio": ratio},
            missing=(
                ("no customer with a purchase.completed in the window",) if not n else missing
            ),
        )

    def _membership(self, scope: Scope, compare: str, advocate_id: Any) -> Any:
        if compare == "referred":
            return sa.exists().where(
                r.c.friend_id == advocate_id,
                r.c.program == scope.name,
                *_before_end(scope, r.c.attributed_at),
            )
        a = q.actions_t.alias("advocacy")
        return sa.exists().where(
            a.c.advocate_id == advocate_id,
            *scope.advocacy(a),
            *_before_end(scope, a.c.occurred_at),
        )


# --------------------------------------------------------------------------- costs


@attrs.frozen
class ProgramCost:
    """The program's cost over a window, in cents, and what it is made of."""

    points_cents: float  # referral points paid x Economics.points_value_cents
    rewards_cents: int  # referral rewards paid in money (the rewards plugin)
    overhead_cents: int  # Costs.per_reward_cents x referrals rewarded
    fixed_cents: int
    running_cents: float  # Costs.monthly_cents x months in the window
    rewarded: int  # referrals rewarded in the window
    points: int  # referral points paid in the window
    missing: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        return (
            self.points_cents
            + self.rewards_cents
            + self.overhead_cents
            + self.fixed_cents
            + self.running_cents
        )

    def to_json(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "total": self.total}


def program_cost(scope: Scope) -> ProgramCost:
    """The referral program's cost over the scope's window (referrals by a
    referrer in the segment): rewards paid and the configured costs."""
    economics = economics_of(scope)
    costs, missing = economics.costs, []
    rewarded = points = money = 0
    if scope.table_exists(referrals_t):
        rewarded, points = scope.rows(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(
                    sa.func.sum(
                        sa.func.coalesce(r.c.referrer_paid, 0)
                        + sa.func.coalesce(r.c.friend_paid, 0)
                    ),
                    0,
                ),
            ).where(
                r.c.program == scope.name,
                r.c.rewarded_at.is_not(None),
                r.c.voided_at.is_(None),
                *scope.during(r.c.rewarded_at),
                *scope.members(r.c.referrer_id),
            )
        )[0]
        if scope.table_exists(rewards_t):
            money = _money_rewards(scope, economics.currency)
    if points and not economics.points_value_cents:
        missing.append("Economics.points_value_cents is 0: referral points are counted at 0")
    months = _months(scope) if costs.monthly_cents else 0.0
    return ProgramCost(
        points_cents=int(points) * float(economics.points_value_cents),
        rewards_cents=int(money),
        overhead_cents=costs.per_reward_cents * int(rewarded),
        fixed_cents=costs.fixed_cents,
        running_cents=costs.monthly_cents * months,
        rewarded=int(rewarded),
        points=int(points),
        missing=tuple(missing),
    )


def _money_rewards(scope: Scope, currency: str | None) -> int:
    """Rewards in money issued by a referred friend's signup or approval, not
    canceled nor reversed, created in the window."""
    w = rewards_t
    cause = q.actions_t.alias("cause")
    clauses = [
        w.c.program == scope.name,
        w.c.currency.is_not(None) if currency is None else w.c.currency == currency,
        w.c.state.not_in(UNPAID),
        cause.c.kind.in_(REFERRAL_REWARDED_BY),
        *scope.during(w.c.created_at),
        *scope.members(r.c.referrer_id),
    ]
    joined = w.join(cause, sa.and_(cause.c.program == w.c.program, cause.c.key == w.c.cause)).join(
        r, r.c.friend_id == cause.c.advocate_id
    )
    query = sa.select(sa.func.coalesce(sa.func.sum(w.c.amount), 0)).select_from(joined)
    return int(scope.rows(query.where(*clauses))[0][0])


def _months(scope: Scope) -> float:
    start, end = scope.window.start, scope.window.end or scope.now
    if start is None:
        first = scope.rows(
            sa.select(sa.func.min(t.c.occurred_at)).where(
                t.c.program == scope.name, t.c.status == APPLIED
            )
        )[0][0]
        if first is None:
            return 0.0
        start = first  # min() of a UTCDateTime column: aware already
    return max((end - start).total_seconds(), 0.0) / (MONTH_DAYS * 86400)


class ReferralCAC(Scorer):
    """Cost per customer acquired through referrals, in cents."""

    name = "referral_cac"
    description = "cost per customer acquired through referrals: program cost / referrals converted"
    periodic = False

    def compute(self, scope: Scope) -> Score:
        if not scope.table_exists(referrals_t):
            return _empty(self.name, scope, "cents", NO_REFERRALS)
        cost = program_cost(scope)
        acquired = scope.rows(
            sa.select(sa.func.count()).where(
                r.c.program == scope.name,
                r.c.converted_at.is_not(None),
                r.c.voided_at.is_(None),
                *scope.during(r.c.converted_at),
                *scope.members(r.c.referrer_id),
            )
        )[0][0]
        missing = list(cost.missing)
        if not acquired:
            missing.insert(0, "no referred customer converted in the window")
        return Score(
            name=self.name,
            value=cost.total / acquired if acquired else None,
            n=acquired,
            unit="cents",
            counts={"acquired": acquired, "rewarded": cost.rewarded},
            inputs=scope.inputs(),
            details={"cost": cost.to_json()},
            missing=missing,
        )


# --------------------------------------------------------------------------- lift and ROI

_OUTCOMES = {
    "revenue": (PURCHASE, REFUND),
    "conversion": (PURCHASE,),
    "advocacy": (),  # the settings' advocacy kinds
}


def holdout_groups(scope: Scope, name: str, outcome: str) -> dict[str, GroupStats]:
    """Per group of holdout ``name``, the outcome of each assigned advocate in
    the segment from their assignment on (and in the window): revenue in
    cents, or 1/0 for a purchase (``conversion``) or an advocacy action."""
    h = holdouts_t
    kinds = _OUTCOMES[outcome] or tuple(sorted(scope.settings.advocacy_kinds))
    joined = h.outerjoin(
        t,
        sa.and_(
            t.c.advocate_id == h.c.advocate_id,
            t.c.program == h.c.program,
            t.c.kind.in_(kinds),
            t.c.status == APPLIED,
            t.c.occurred_at >= h.c.assigned_at,
            *scope.during(t.c.occurred_at),
        ),
    )
    if outcome == "revenue":
        y = sa.func.coalesce(sa.func.sum(_net_cents()), 0)
    else:
        y = sa.case((sa.func.count(t.c.id) > 0, 1), else_=0)
    units = (
        sa.select(h.c.group.label("grp"), sa.cast(y, sa.Float).label("y"))
        .select_from(joined)
        .where(h.c.program == scope.name, h.c.experiment == name, *scope.members(h.c.advocate_id))
        .group_by(h.c.advocate_id, h.c.group)
        .subquery()
    )
    return group_stats(scope.rows(deviations(units)), ("treatment", "holdout"))


def _unassigned(name: str) -> str:
    return f"no advocate is assigned to holdout {name!r}: run program.assign_holdout({name!r})"


class Lift(Scorer):
    """Incremental lift: treatment's mean outcome minus the holdout group's."""

    name = "lift"
    description = "incremental lift of the program: treatment minus holdout group, per advocate"
    options = {"holdout": None, "outcome": "revenue"}
    periodic = False

    def check(self, options: Mapping[str, Any]) -> None:
        find_holdout(self.settings, options["holdout"], "lift.holdout")
        if options["outcome"] not in _OUTCOMES:
            raise InvalidValue(
                "lift.outcome", options["outcome"], "revenue, conversion or advocacy"
            )

    def compute(self, scope: Scope) -> Score:
        name, outcome = scope.options["holdout"], scope.options["outcome"]
        groups = holdout_groups(scope, name, outcome)
        treated, held = groups["treatment"], groups["holdout"]
        revenue = outcome == "revenue"
        unit = "cents" if revenue else "%"
        scale = 1.0 if revenue else 100.0
        n = treated.n + held.n
        if not n:
            return _empty(self.name, scope, unit, _unassigned(name))
        value = relative = None
        if treated.mean is not None and held.mean is not None:
            value = (treated.mean - held.mean) * scale
            relative = (treated.mean - held.mean) * 100 / held.mean if held.mean else None
        interval = (
            mean_difference(treated, held) if revenue else proportion_difference(treated, held)
        )
        missing = [f"the {g} group is empty" for g in ("treatment", "holdout") if not groups[g].n]
        return Score(
            name=self.name,
            value=value,
            n=n,
            unit=unit,
            counts={"treatment": treated.n, "holdout": held.n},
            inputs=scope.inputs(),
            interval=interval,
            details={
                "groups": stats_json(groups),
                "relative_lift_percent": relative,
                "relative_interval": _relative(interval, held.mean, scale),
            },
            missing=missing,
        )


def _relative(interval: Interval | None, base: float | None, scale: float) -> Interval | None:
    """The lift's interval as % of the holdout group's mean (its mean taken as known)."""
    if interval is None or not base:
        return None
    return Interval(interval.low * 100 / (base * scale), interval.high * 100 / (base * scale))


_METHODS = ("naive", "holdout")


@attrs.frozen
class _Attributable:
    """The revenue ROI credits the program with, and over what."""

    n: int
    revenue: float | None
    interval: Interval | None = None
    counts: Mapping[str, int] = attrs.field(factory=dict)
    details: Mapping[str, Any] = attrs.field(factory=dict)
    missing: str | None = None


class ReturnOnInvestment(Scorer):
    """ROI = (attributable revenue - program cost) / program cost, naive or by holdout."""

    name = "roi"
    description = "(attributable revenue - program cost) / program cost; naive or holdout-based"
    options = {"method": "naive", "holdout": None}
    periodic = False

    def check(self, options: Mapping[str, Any]) -> None:
        if options["method"] not in _METHODS:
            raise InvalidValue("roi.method", options["method"], "naive or holdout")
        if options["method"] == "holdout":
            find_holdout(self.settings, options["holdout"], "roi.holdout")

    def compute(self, scope: Scope) -> Score:
        method = scope.options["method"]
        if method == "naive" and not scope.table_exists(referrals_t):
            return _empty(self.name, scope, "ratio", NO_REFERRALS, label=method)
        cost = program_cost(scope)
        found = self._naive(scope) if method == "naive" else self._holdout(scope)
        total = cost.total
        missing = [*([found.missing] if found.missing else []), *cost.missing]
        if not total:
            missing.insert(0, "no program cost configured or incurred: ROI is undefined")

        def roi(amount: float | None) -> float | None:
            return (amount - total) / total if amount is not None and total else None

        interval = found.interval
        return Score(
            name=self.name,
            value=roi(found.revenue),
            n=found.n,
            unit="ratio",
            counts=found.counts,
            inputs=scope.inputs(),
            interval=Interval(roi(interval.low), roi(interval.high))  # type: ignore[arg-type]
            if interval is not None and total
            else None,
            label=method,
            details={
                **found.details,
                "attributable_cents": found.revenue,
                "attributable_interval": interval,
                "cost": cost.to_json(),
            },
            missing=missing,
        )

    def _naive(self, scope: Scope) -> _Attributable:
        """Every purchase of a referred friend after their attribution (refunds
        taken off): what a naive reading credits the program with."""
        customers, revenue = scope.rows(
            sa.select(
                sa.func.count(sa.distinct(t.c.advocate_id)),
                sa.func.coalesce(sa.func.sum(_net_cents()), 0),
            )
            .select_from(t.join(r, r.c.friend_id == t.c.advocate_id))
            .where(
                *_applied(scope, (PURCHASE, REFUND)),
                r.c.program == scope.name,
                r.c.voided_at.is_(None),
                t.c.occurred_at >= r.c.attributed_at,
                *scope.members(r.c.referrer_id),
            )
        )[0]
        if not customers:
            return _Attributable(0, None, missing="no purchase by a referred friend in the window")
        return _Attributable(
            int(customers), float(revenue), counts={"referred_customers": int(customers)}
        )

    def _holdout(self, scope: Scope) -> _Attributable:
        """The revenue lift per treated advocate times the treated advocates:
        what the program added over what they would have bought anyway."""
        name = scope.options["holdout"]
        groups = holdout_groups(scope, name, "revenue")
        treated, held = groups["treatment"], groups["holdout"]
        counts = {"treatment": treated.n, "holdout": held.n}
        details = {"groups": stats_json(groups)}
        if treated.mean is None or held.mean is None:
            empty = not treated.n + held.n
            why = _unassigned(name) if empty else "a holdout group is empty: no lift to measure"
            return _Attributable(0, None, counts=counts, details=details, missing=why)
        lift = treated.mean - held.mean
        interval = mean_difference(treated, held)
        if interval is not None:
            interval = Interval(interval.low * treated.n, interval.high * treated.n)
        return _Attributable(
            treated.n + held.n,
            lift * treated.n,
            interval,
            counts,
            {**details, "lift_cents": lift},
        )


SCORERS = (ReferralFunnel, KFactor, LifetimeValue, ReferralCAC, Lift, ReturnOnInvestment)
QUERIES = (assign_holdout,)
