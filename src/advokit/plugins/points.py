"""Points: earning rules, manual adjustments, redemptions, reversals and policies.

The :class:`Points` plugin turns actions into points effects. Every program
gets a default ``Points()`` (adjustments, redemptions and reversals work with
no rules); pass your own to add earning rules::

    Program(
        "bakery",
        plugins=[
            Points(
                PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100),
                PointsRule("review.posted", points=50, cooldown=timedelta(days=7)),
                reversals={"purchase.refunded": "purchase_key"},
            )
        ],
        policies=[Multiplier(2, kinds={"review.posted"}), Cap(500, per="day")],
    )

Effect policies run in the order the program lists them: write the
multipliers before the caps so that a cap bounds multiplied points.

The ledger explains every entry: rule awards carry the action kind as their
reason, adjustments ``points.adjusted`` with the operator's reason as memo,
redemptions ``points.redeemed``, reversals ``points.reversed``, expiry
``points.expired``.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

import attrs
import sqlalchemy as sa

from advokit import (
    Action,
    ActionKind,
    AwardPoints,
    DeductPoints,
    Effect,
    EvaluationContext,
    ReversePoints,
    hookimpl,
)
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError, InvalidValue, one_of
from advokit.core.periods import calendar_period
from advokit.core.registry import Register
from advokit.core.store import database
from advokit.core.store import queries as q

__all__ = [
    "ADJUSTED",
    "EXPIRING",
    "REDEEMED",
    "REVERSED",
    "Cap",
    "Multiplier",
    "Points",
    "PointsRule",
    "adjustment",
    "redemption",
    "reversal",
]

ADJUSTED = "points.adjusted"
REDEEMED = "points.redeemed"
REVERSED = "points.reversed"
CHANGED = "points.changed"
EXPIRING = "points.expiring"

#: Manual adjustments are decisions of a person: policies never scale or cap them.
_UNTOUCHED_REASONS = frozenset({ADJUSTED})

KINDS = (
    ActionKind(
        name=ADJUSTED,
        required={"points": int, "reason": str},
        optional={"account": str},
        description="An operator added (positive) or removed (negative) points, with a reason.",
    ),
    ActionKind(
        name=REDEEMED,
        required={"points": int},
        optional={"account": str, "memo": str},
        description="The advocate spent points; rejected when the balance is too low.",
    ),
    ActionKind(
        name=REVERSED,
        required={"action": str},
        optional={"points": int, "account": str, "memo": str},
        description="Take back the points an earlier action (its key) awarded.",
    ),
    ActionKind(
        name=CHANGED,
        required={"account": str, "delta": int, "balance": int, "cause": str},
        optional={"earned": int},
        description=(
            "Derived: an action changed an account's balance; earned is the part that counts "
            "as earned (awards less reversals, not spending)."
        ),
        derived=True,
    ),
    ActionKind(
        name=EXPIRING,
        required={"account": str, "points": int, "expires_at": str, "lot": str},
        description=(
            "Derived, by the tick: points of one award (lot) expire soon; expires_at is ISO 8601."
        ),
        derived=True,
    ),
)


def _points_value(instance: Any, attribute: Any, value: Any) -> None:
    if not (callable(value) or (v.is_int(value) and value >= 0)):
        raise ConfigurationError(
            "PointsRule.points", value, "a non-negative integer or a callable(action) -> int"
        )


@attrs.frozen
class PointsRule:
    """Award points for an action kind.

    Args:
        kind: the action kind that earns.
        points: a fixed number, or ``callable(action) -> int`` (e.g. one point
            per euro spent). Zero awards nothing.
        account: the ledger account credited.
        cooldown: the least time between two awards of this rule to one
            advocate; actions inside it earn nothing.
        expires_after: the points expire this long after the action occurred.
    """

    kind: str = attrs.field(
        validator=v.matches(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+", "an action kind name")
    )
    points: int | Callable[[Action], int] = attrs.field(validator=_points_value)
    account: str = attrs.field(
        default="points",
        kw_only=True,
        validator=v.matches(r"[a-z][a-z0-9_]{0,62}", "an account name such as 'points'"),
    )
    cooldown: timedelta | None = attrs.field(
        default=None, kw_only=True, validator=v.positive_duration(optional=True)
    )
    expires_after: timedelta | None = attrs.field(
        default=None, kw_only=True, validator=v.positive_duration(optional=True)
    )

    def points_for(self, action: Action) -> int:
        if not callable(self.points):
            return self.points
        value = self.points(action)
        if not v.is_int(value) or value < 0:
            raise InvalidValue(
                f"PointsRule({self.kind!r}).points(action)", value, "a non-negative integer"
            )
        return value


class Points:
    """The points plugin: earning rules, adjustments, redemptions and reversals.

    Args:
        rules: the earning rules.
        reversals: action kinds that reverse an earlier action's points, mapped
            to the data field that holds that action's key (for example
            ``{"purchase.refunded": "purchase_key"}``).
        clawback: when reversed points were already spent, ``"cap"`` takes back
            at most the current balance, ``"negative"`` lets it go below zero.
        allow_negative_adjustments: let a manual negative adjustment take a
            balance below zero.
        expiry_notice: how long before points expire ``program.tick()``
            records a ``points.expiring`` action (once per expiring award), for
            a channel to warn the advocate; None sends no notice.
    """

    plugin_name = "points"

    def __init__(
        self,
        *rules: PointsRule,
        reversals: Mapping[str, str] | None = None,
        clawback: str = "cap",
        allow_negative_adjustments: bool = False,
        expiry_notice: timedelta | None = None,
    ) -> None:
        if expiry_notice is not None and (
            not isinstance(expiry_notice, timedelta) or expiry_notice <= timedelta(0)
        ):
            raise ConfigurationError(
                "Points.expiry_notice", expiry_notice, "a positive timedelta or None"
            )
        for rule in rules:
            if not isinstance(rule, PointsRule):
                raise ConfigurationError("Points(rules)", rule, "PointsRule values")
        if clawback not in ("cap", "negative"):
            raise ConfigurationError("Points.clawback", clawback, "'cap' or 'negative'")
        self.rules: dict[str, list[PointsRule]] = {}
        for rule in rules:
            self.rules.setdefault(rule.kind, []).append(rule)
        self.reversals = dict(reversals or {})
        self.clawback = clawback
        self.allow_negative_adjustments = allow_negative_adjustments
        self.expiry_notice = expiry_notice
        #: the kinds advokit_evaluate is called for (not points.changed, for one)
        self.advokit_evaluates = frozenset(
            {*self.rules, *self.reversals, ADJUSTED, REDEEMED, REVERSED}
        )

    def __repr__(self) -> str:
        return f"Points(rules={sum(map(len, self.rules.values()))}, reversals={self.reversals})"

    @hookimpl
    def advokit_register_action_kinds(self, register: Register) -> None:
        for kind in KINDS:
            register(kind)

    @hookimpl
    def advokit_configure(self, program: Any) -> None:
        kinds = program.registries.action_kinds
        for kind in [*self.rules, *self.reversals]:
            if kind not in kinds:
                raise ConfigurationError(
                    "PointsRule.kind" if kind in self.rules else "Points.reversals",
                    kind,
                    one_of(kinds),
                )
        for kind, field in self.reversals.items():
            declared = kinds[kind]
            if field not in declared.required and field not in declared.optional:
                raise ConfigurationError(
                    f"Points.reversals[{kind!r}]",
                    field,
                    "a data field of that kind: "
                    + one_of([*declared.required, *declared.optional]),
                )

    @hookimpl
    def advokit_evaluate(self, ctx: EvaluationContext, action: Action) -> Iterable[Effect] | None:
        kind = action.kind
        if kind in self.rules:
            return self._earn(ctx, action)
        if kind == ADJUSTED:
            return [self._adjust(action)]
        if kind == REDEEMED:
            return [
                DeductPoints(
                    advocate=action.advocate,
                    points=_positive(action, "points"),
                    account=action.data.get("account", "points"),
                    reason=REDEEMED,
                    memo=action.data.get("memo"),
                )
            ]
        if kind == REVERSED:
            return [self._reverse(action, action.data["action"])]
        field = self.reversals.get(kind)
        if field is not None and action.data.get(field):
            return [self._reverse(action, action.data[field])]
        return None

    @hookimpl
    def advokit_tick(self, program: Any, now: datetime) -> list[Action]:
        """A ``points.expiring`` notice per award expiring within ``expiry_notice``, once."""
        if self.expiry_notice is None:
            return []
        lots, actions, advocates = q.lots_t, q.actions_t, q.advocates_t
        key = sa.literal(f"{EXPIRING}:") + lots.c.id
        noticed = sa.exists().where(actions.c.program == program.name, actions.c.key == key)
        query = (
            sa.select(
                advocates.c.external_id,
                lots.c.id,
                lots.c.account,
                lots.c.remaining,
                lots.c.expires_at,
            )
            .join(advocates, advocates.c.id == lots.c.advocate_id)
            .where(
                lots.c.program == program.name,
                lots.c.expires_at > now,
                lots.c.expires_at <= now + self.expiry_notice,
                lots.c.remaining > 0,
                ~noticed,
            )
            .order_by(lots.c.expires_at, lots.c.id)
        )
        with database.transaction(program.engine, write=False) as conn:
            rows = conn.execute(query).all()
        # the key names the lot, the notice goes once; a later tick skips it in
        # the query above, so its data (the points left then) never conflicts
        return [
            Action(
                kind=EXPIRING,
                advocate=external_id,
                key=f"{EXPIRING}:{lot_id}",
                occurred_at=now,
                data={
                    "account": account,
                    "points": int(remaining),
                    "expires_at": expires_at.isoformat(),
                    "lot": lot_id,
                },
            )
            for external_id, lot_id, account, remaining, expires_at in rows
        ]

    def _earn(self, ctx: EvaluationContext, action: Action) -> list[Effect]:
        effects: list[Effect] = []
        when = action.occurred_at or ctx.now
        for rule in self.rules[action.kind]:
            points = rule.points_for(action)
            if not points:
                continue
            if rule.cooldown is not None:
                last = ctx.view.last_award_at(action.advocate, rule.account, reason=rule.kind)
                if last is not None and when - last < rule.cooldown:
                    continue
            effects.append(
                AwardPoints(
                    advocate=action.advocate,
                    points=points,
                    account=rule.account,
                    reason=rule.kind,
                    expires_at=when + rule.expires_after if rule.expires_after else None,
                )
            )
        return effects

    def _adjust(self, action: Action) -> Effect:
        points = action.data["points"]
        account = action.data.get("account", "points")
        memo = action.data["reason"].strip()[:500]
        if not memo:
            raise InvalidValue("action.data['reason']", action.data["reason"], "a non-empty reason")
        if points > 0:
            return AwardPoints(
                advocate=action.advocate, points=points, account=account, reason=ADJUSTED, memo=memo
            )
        if points < 0:
            return DeductPoints(
                advocate=action.advocate,
                points=-points,
                account=account,
                reason=ADJUSTED,
                memo=memo,
                allow_negative=self.allow_negative_adjustments,
            )
        raise InvalidValue("action.data['points']", points, "a non-zero integer")

    def _reverse(self, action: Action, key: str) -> Effect:
        points = action.data.get("points")
        return ReversePoints(
            advocate=action.advocate,
            action_key=key,
            account=action.data.get("account", "points"),
            points=points,
            clawback=self.clawback,
            memo=action.data.get("memo"),
        )


def _positive(action: Action, field: str) -> int:
    value = action.data[field]
    if value <= 0:
        raise InvalidValue(f"action.data[{field!r}]", value, "a positive integer")
    return int(value)


# --------------------------------------------------------------------------- policies


def _factor(value: Any) -> Fraction:
    try:
        factor = Fraction(str(value)) if not isinstance(value, Fraction) else value
    except (ValueError, ZeroDivisionError):
        raise ConfigurationError(
            "Multiplier.factor", value, "a number such as 2 or '1.5'"
        ) from None
    if factor < 0:
        raise ConfigurationError("Multiplier.factor", value, "a non-negative number")
    return factor


def _kinds(value: Any) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


@attrs.frozen
class Multiplier:
    """Effect policy: multiply awarded points (rounded down).

    Args:
        factor: ``2``, ``"1.5"`` or a :class:`~fractions.Fraction`.
        kinds: only awards whose reason (the earning action kind) is one of
            these; ``None`` means every award except manual adjustments.
        account: the account whose awards are multiplied.
        when: optional ``predicate(ctx, action) -> bool`` (a double-points weekend).
    """

    factor: Fraction = attrs.field(converter=_factor)
    kinds: frozenset[str] | None = attrs.field(default=None, kw_only=True, converter=_kinds)
    account: str = attrs.field(default="points", kw_only=True)
    when: Callable[[EvaluationContext, Action], bool] | None = attrs.field(
        default=None, kw_only=True
    )

    def __call__(
        self, ctx: EvaluationContext, action: Action, effects: tuple[Effect, ...]
    ) -> tuple[Effect, ...]:
        if self.when is not None and not self.when(ctx, action):
            return effects
        result: list[Effect] = []
        for effect in effects:
            if _applies(effect, self.account, self.kinds):
                points = int(effect.points * self.factor)  # type: ignore[attr-defined]
                if points <= 0:
                    continue
                effect = attrs.evolve(effect, points=points)  # type: ignore[misc]
            result.append(effect)
        return tuple(result)


def _check_limit(instance: Any, attribute: Any, value: Any) -> None:
    if not v.is_int(value) or value < 0:
        raise ConfigurationError("Cap.limit", value, "a non-negative integer")


def _check_period(instance: Any, attribute: Any, value: Any) -> None:
    if value not in ("day", "week", "month"):
        raise ConfigurationError("Cap.per", value, "'day', 'week' or 'month'")


@attrs.frozen
class Cap:
    """Effect policy: at most ``limit`` points per advocate per day, week or month.

    Periods are calendar periods in the advocate's own time zone (weeks start
    on Monday). Awards past the cap are trimmed or dropped; manual
    adjustments are neither capped nor counted.

    Args:
        limit: the most points one advocate can earn in a period.
        per: ``"day"``, ``"week"`` or ``"month"``.
        kinds: only cap (and count) awards for these action kinds.
        account: the capped account.
    """

    limit: int = attrs.field(validator=_check_limit)
    per: str = attrs.field(default="day", kw_only=True, validator=_check_period)
    kinds: frozenset[str] | None = attrs.field(default=None, kw_only=True, converter=_kinds)
    account: str = attrs.field(default="points", kw_only=True)

    def __call__(
        self, ctx: EvaluationContext, action: Action, effects: tuple[Effect, ...]
    ) -> tuple[Effect, ...]:
        result: list[Effect] = []
        used: dict[str, int] = {}
        for effect in effects:
            if not _applies(effect, self.account, self.kinds):
                result.append(effect)
                continue
            advocate = effect.advocate  # type: ignore[attr-defined]
            if advocate not in used:
                used[advocate] = self._earned(ctx, action, advocate)
            room = self.limit - used[advocate]
            points = min(effect.points, max(room, 0))  # type: ignore[attr-defined]
            if points <= 0:
                continue
            used[advocate] += points
            result.append(attrs.evolve(effect, points=points))  # type: ignore[misc]
        return tuple(result)

    def _earned(self, ctx: EvaluationContext, action: Action, advocate: str) -> int:
        zone = zoneinfo.ZoneInfo(ctx.view.timezone(advocate))
        since, until = calendar_period(action.occurred_at or ctx.now, zone, self.per)
        view = ctx.view
        if self.kinds is not None:
            return view.earned(advocate, self.account, since=since, until=until, reasons=self.kinds)
        return view.earned(advocate, self.account, since=since, until=until) - view.earned(
            advocate, self.account, since=since, until=until, reasons=_UNTOUCHED_REASONS
        )


def _applies(effect: Effect, account: str, kinds: frozenset[str] | None) -> bool:
    return (
        isinstance(effect, AwardPoints)
        and effect.account == account
        and effect.reason not in _UNTOUCHED_REASONS
        and (kinds is None or effect.reason in kinds)
    )


# --------------------------------------------------------------------------- actions


def adjustment(
    advocate: str, points: int, *, reason: str, key: str, account: str = "points"
) -> Action:
    """A manual adjustment: ``points`` may be negative; ``reason`` is mandatory."""
    return Action(
        kind=ADJUSTED,
        advocate=advocate,
        key=key,
        data={"points": points, "reason": reason, "account": account},
    )


def redemption(
    advocate: str, points: int, *, key: str, account: str = "points", memo: str | None = None
) -> Action:
    """Spending ``points``; the outcome is ``rejected`` if the balance is too low."""
    data: dict[str, Any] = {"points": points, "account": account}
    if memo:
        data["memo"] = memo
    return Action(kind=REDEEMED, advocate=advocate, key=key, data=data)


def reversal(
    advocate: str, action_key: str, *, key: str, points: int | None = None, account: str = "points"
) -> Action:
    """Taking back what the action ``action_key`` awarded (all of it by default)."""
    data: dict[str, Any] = {"action": action_key, "account": account}
    if points is not None:
        data["points"] = points
    return Action(kind=REVERSED, advocate=advocate, key=key, data=data)
