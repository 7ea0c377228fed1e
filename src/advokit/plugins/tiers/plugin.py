"""The tiers plugin: promotion and demotion decided, tier changes applied, the daily review."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from advokit import (
    Action,
    AwardPoints,
    ChangeTier,
    Effect,
    EvaluationContext,
    Transaction,
    hookimpl,
)
from advokit.core.errors import ConfigurationError, InvalidValue, one_of
from advokit.core.model import derived_key
from advokit.core.registry import Register
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.driver import fetch
from advokit.core.store.types import utc
from advokit.plugins.tiers.model import (
    _NAME,
    KINDS,
    POINTS_CHANGED,
    TIER_CHANGED,
    TIER_OVERRIDDEN,
    TIER_REVIEWED,
    SetTierGrace,
    SetTierOverride,
    Tier,
    TierChange,
    TierStatus,
)
from advokit.plugins.tiers.tables import changes_t, states_t
from advokit.plugins.tiers.windows import (
    _EPOCH,
    _FOREVER,
    Anniversary,
    Lifetime,
    Rolling,
    Window,
)

__all__ = ["Tiers"]

_STATE = ("tiers", "state")
_ENROLLED = ("tiers", "enrolled_at")

MIGRATIONS = Path(__file__).parent.parent / "migrations" / "tiers"

_STATES = (
    "SELECT advocate_id, tier, since, grace_until, override_tier, override_until, version"
    f" FROM {states_t.name} WHERE advocate_id IN (*)"
)


@attrs.frozen(kw_only=True)
class _State:
    tier: str
    since: datetime
    grace_until: datetime | None
    override_tier: str | None
    override_until: datetime | None
    version: int = 0  # 0: no row stored yet


class Tiers:
    """The tiers plugin.

    Args:
        tiers: the tiers from the lowest; the first has threshold 0 (the tier
            everyone starts in), thresholds strictly increase.
        account: the ledger account whose earnings qualify.
        window: :class:`Lifetime` (default), :class:`CalendarYear`,
            :class:`Rolling` or :class:`Anniversary`.
        grace: how long a tier is kept after the value fell below ``retain``.
    """

    plugin_name = "tiers"

    def __init__(
        self,
        *tiers: Tier,
        account: str = "points",
        window: Window | None = None,
        grace: timedelta = timedelta(0),
    ) -> None:
        _check_tiers(tiers)
        if not isinstance(account, str) or not re.fullmatch(_NAME, account):
            raise ConfigurationError("Tiers.account", account, "an account name such as 'points'")
        window = Lifetime() if window is None else window
        if not callable(getattr(window, "start", None)) or not callable(
            getattr(window, "next_reset", None)
        ):
            raise ConfigurationError(
                "Tiers.window", window, "Lifetime(), CalendarYear(), Rolling(days) or Anniversary()"
            )
        if not isinstance(grace, timedelta) or grace < timedelta(0):
            raise ConfigurationError("Tiers.grace", grace, "a timedelta of zero or more")
        self.tiers: tuple[Tier, ...] = tiers
        self.by_name = {tier.name: tier for tier in tiers}
        self.rank = {tier.name: i for i, tier in enumerate(tiers)}
        self.base = tiers[0]
        self.account = account
        self.window = window
        self.grace = grace
        self.advokit_evaluates = frozenset({POINTS_CHANGED, TIER_OVERRIDDEN, TIER_REVIEWED})
        self.advokit_applies = (ChangeTier, SetTierGrace, SetTierOverride)

    def __repr__(self) -> str:
        return f"Tiers({', '.join(t.name for t in self.tiers)}, window={self.window!r})"

    # -- registration

    @hookimpl
    def advokit_register_action_kinds(self, register: Register) -> None:
        for kind in KINDS:
            register(kind)

    @hookimpl
    def advokit_register_effect_policies(self, register: Register) -> None:
        register(self.multiply, name="tier_multiplier")

    @hookimpl
    def advokit_register_migrations(self, register: Register) -> None:
        register(MIGRATIONS, name="tiers")

    @hookimpl
    def advokit_register_queries(self, register: Register) -> None:
        register(self.status, name="tier")
        register(self.history, name="tier_history")

    # -- deciding

    @hookimpl
    def advokit_evaluate(self, ctx: EvaluationContext, action: Action) -> list[Effect] | None:
        at = action.occurred_at or ctx.now
        if action.kind == POINTS_CHANGED:
            if action.data["account"] != self.account:
                return None
            return self._promotion(ctx, action.advocate, at)
        if action.kind == TIER_OVERRIDDEN:
            return self._override(action)
        if action.kind == TIER_REVIEWED:
            return self._review(ctx, action.advocate, at)
        return None

    def _state(self, ctx: EvaluationContext, advocate: str) -> _State | None:
        return ctx.view.memo(_STATE, advocate, self._load_states)  # type: ignore[no-any-return]

    def _load_states(self, conn: Connection, ids: list[int]) -> dict[int, _State]:
        found = {}
        for advocate_id, tier, since, grace_until, override_tier, override_until, version in fetch(
            conn, _STATES, (), ids
        ):
            found[advocate_id] = _State(
                tier=tier,
                since=utc(since),
                grace_until=utc(grace_until),
                override_tier=override_tier,
                override_until=utc(override_until),
                version=version,
            )
        return found

    def _value(self, ctx: EvaluationContext, advocate: str, at: datetime) -> int:
        if isinstance(self.window, Lifetime):  # the balance row keeps it: no ledger read
            return ctx.view.lifetime_earned(advocate, self.account)
        enrolled = _EPOCH
        if isinstance(self.window, Anniversary):
            enrolled = ctx.view.memo(_ENROLLED, advocate, _load_enrolment)
        since = self.window.start(at, enrolled)
        return ctx.view.earned(advocate, self.account, since=since, until=_FOREVER, net=True)

    def entry_tier(self, value: int) -> Tier:
        """The highest tier whose threshold ``value`` reaches."""
        return max((t for t in self.tiers if value >= t.threshold), key=self._rank)

    def _rank(self, tier: Tier) -> int:
        return self.rank[tier.name]

    def _promotion(self, ctx: EvaluationContext, advocate: str, at: datetime) -> list[Effect]:
        state = self._state(ctx, advocate)
        current = self.by_name[state.tier] if state else self.base
        value = self._value(ctx, advocate, at)
        earned = self.entry_tier(value)
        if self._rank(earned) > self._rank(current):
            return [ChangeTier(advocate=advocate, tier=earned.name, reason="tier.promoted")]
        if state and state.grace_until and value >= current.retain:
            return [SetTierGrace(advocate=advocate, until=None)]
        return []

    def _override(self, action: Action) -> list[Effect]:
        name = action.data["tier"]
        if name not in self.by_name:
            raise InvalidValue("tier.overridden data['tier']", name, one_of(self.by_name))
        try:
            until = datetime.fromisoformat(action.data["until"])
        except ValueError:
            until = None
        if until is None or until.utcoffset() is None:
            raise InvalidValue(
                "tier.overridden data['until']",
                action.data["until"],
                "an ISO 8601 time with an offset",
            )
        return [
            SetTierOverride(advocate=action.advocate, tier=name, until=until),
            ChangeTier(advocate=action.advocate, tier=name, reason="tier.override"),
        ]

    def _review(self, ctx: EvaluationContext, advocate: str, at: datetime) -> list[Effect]:
        state = self._state(ctx, advocate)
        if state is None:
            return []
        value = self._value(ctx, advocate, at)
        current = self.by_name[state.tier]
        if state.override_until is not None:
            if state.override_until > at:
                return []  # a person decided; demotion waits for the end date
            back = self.entry_tier(value)  # what the points earn: never the override
            effects: list[Effect] = [SetTierOverride(advocate=advocate)]
            if back.name != current.name:
                effects.append(
                    ChangeTier(advocate=advocate, tier=back.name, reason="tier.override_ended")
                )
            return effects
        if value >= current.retain:
            return self._promotion(ctx, advocate, at)
        if state.grace_until is None and self.grace:
            return [SetTierGrace(advocate=advocate, until=at + self.grace)]
        if state.grace_until is not None and at < state.grace_until:
            return []
        kept = max(
            (t for t in self.tiers[: self._rank(current)] if value >= t.retain),
            key=self._rank,
            default=self.base,
        )
        return [ChangeTier(advocate=advocate, tier=kept.name, reason="tier.demoted")]

    def multiply(
        self, ctx: EvaluationContext, action: Action, effects: tuple[Effect, ...]
    ) -> list[Effect]:
        """Effect policy ``tier_multiplier``: scale awards by the advocate's tier multiplier.

        Awards on the tiers' account only, rounded down; manual adjustments
        (``points.adjusted``) are left alone.
        """
        out: list[Effect] = []
        for effect in effects:
            if (
                isinstance(effect, AwardPoints)
                and effect.account == self.account
                and effect.reason != "points.adjusted"
            ):
                state = self._state(ctx, effect.advocate)
                tier = self.by_name[state.tier] if state else self.base
                if tier.multiplier != 1:
                    effect = attrs.evolve(effect, points=int(effect.points * tier.multiplier))
            out.append(effect)
        return out

    # -- applying

    @hookimpl
    def advokit_apply_effect(self, tx: Transaction, effect: Effect) -> bool | None:
        if isinstance(effect, ChangeTier):
            self._change(tx, effect)
        elif isinstance(effect, SetTierGrace):
            self._set(tx, effect.advocate, grace_until=effect.until)
        elif isinstance(effect, SetTierOverride):
            self._set(tx, effect.advocate, override_tier=effect.tier, override_until=effect.until)
        else:
            return None
        return True

    def _stored(self, tx: Transaction, advocate: str) -> _State:
        """The state the advocate's decisions were made on (the first tier if none yet)."""
        state = tx.view.memo(_STATE, advocate, self._load_states)
        if state is None:
            state = _State(
                tier=self.base.name,
                since=tx.now,
                grace_until=None,
                override_tier=None,
                override_until=None,
            )
        return state  # type: ignore[no-any-return]

    def _set(self, tx: Transaction, advocate: str, **values: Any) -> None:
        self._save(tx, advocate, attrs.evolve(self._stored(tx, advocate), **values))

    def _save(self, tx: Transaction, advocate: str, state: _State) -> None:
        tx.save(
            states_t,
            {"advocate_id": tx.view.advocate_id(advocate)},
            {
                "program": tx.program.name,
                "tier": state.tier,
                "since": state.since,
                "grace_until": state.grace_until,
                "override_tier": state.override_tier,
                "override_until": state.override_until,
            },
            read=state.version,
        )
        tx.view.remember(_STATE, advocate, state)

    def _change(self, tx: Transaction, effect: ChangeTier) -> None:
        if effect.tier not in self.by_name:
            raise InvalidValue("ChangeTier.tier", effect.tier, one_of(self.by_name))
        state = self._stored(tx, effect.advocate)
        previous = state.tier
        if previous == effect.tier:
            return  # already there: nothing to record
        when = tx.action.occurred_at or tx.now
        self._save(
            tx, effect.advocate, attrs.evolve(state, tier=effect.tier, since=when, grace_until=None)
        )
        tx.insert(
            changes_t,
            {
                "program": tx.program.name,
                "advocate_id": tx.view.advocate_id(effect.advocate),
                "previous": previous,
                "tier": effect.tier,
                "reason": effect.reason,
                "action_key": tx.root_key,
                "changed_at": when,
            },
        )
        tx.emit(
            Action(
                kind=TIER_CHANGED,
                advocate=effect.advocate,
                key=derived_key(tx.root_key, f"{TIER_CHANGED}:{effect.advocate}:{effect.tier}"),
                occurred_at=tx.action.occurred_at,
                data={"tier": effect.tier, "previous": previous, "reason": effect.reason},
            )
        )

    # -- time

    @hookimpl
    def advokit_tick(self, program: Any, now: datetime) -> Iterable[Action]:
        """A daily review for everyone above the first tier or with an override."""
        t, a = states_t, q.advocates_t
        query = (
            sa.select(a.c.external_id)
            .join(t, t.c.advocate_id == a.c.id)
            .where(
                t.c.program == program.name,
                sa.or_(t.c.tier != self.base.name, t.c.override_until.is_not(None)),
            )
            .order_by(a.c.id)
        )
        period = f"{TIER_REVIEWED}:{now.date().isoformat()}"
        with database.transaction(program.engine, write=False) as conn:
            due = list(conn.execute(query).scalars())
        return [
            Action(
                kind=TIER_REVIEWED,
                advocate=external_id,
                key=derived_key(period, external_id),
                occurred_at=now,
            )
            for external_id in due
        ]

    # -- queries

    def status(self, program: Any, advocate: str) -> TierStatus:
        """``program.tier(advocate)``: the tier, progress to the next and how long it holds."""
        now = program.clock()
        with database.transaction(program.engine, write=False) as conn:
            row_id = q.advocate_row_id(conn, program.name, advocate)
            state = self._load_states(conn, [row_id]).get(row_id)
            enrolled = _load_enrolment(conn, [row_id]).get(row_id, _EPOCH)
            if isinstance(self.window, Lifetime):
                value = q.balances(conn, [row_id], self.account).get(row_id, (0, 0))[1]
            else:
                since = self.window.start(now, enrolled)
                value = q.earned_between(
                    conn, [row_id], self.account, since, _FOREVER, None, net=True
                ).get(row_id, 0)
            tier = self.by_name[state.tier] if state else self.base
            kept_until = self._kept_until(conn, row_id, state, tier, value, now, enrolled)
        above = self.tiers[self._rank(tier) + 1 :]
        next_tier = above[0] if above else None
        return TierStatus(
            advocate=advocate,
            tier=tier,
            since=state.since if state else None,
            value=value,
            next_tier=next_tier,
            to_next=max(next_tier.threshold - value, 0) if next_tier else None,
            kept_until=kept_until,
            grace_until=state.grace_until if state else None,
            override_until=state.override_until if state else None,
        )

    def _kept_until(
        self,
        conn: Connection,
        row_id: int,
        state: _State | None,
        tier: Tier,
        value: int,
        now: datetime,
        enrolled: datetime,
    ) -> datetime | None:
        if state is None or tier is self.base:
            return None
        if state.override_until is not None:
            return state.override_until
        if state.grace_until is not None:
            return state.grace_until
        if value < tier.retain:
            return now + self.grace  # the next review starts the grace period
        reset = self.window.next_reset(now, enrolled)
        if reset is not None:
            return reset + self.grace if tier.retain > 0 else None
        if not isinstance(self.window, Rolling):
            return None  # lifetime earnings never leave the window
        # a rolling window: earnings leave it day by day; find the day the value
        # would fall below retain if nothing more were earned
        e = q.entries_t
        since = self.window.start(now, enrolled)
        rows = conn.execute(
            sa.select(e.c.effective_at, e.c.delta)
            .where(
                e.c.advocate_id == row_id,
                e.c.account == self.account,
                e.c.type.in_(("award", "reverse")),
                e.c.effective_at >= since,
            )
            .order_by(e.c.effective_at)
        ).all()
        remaining = value
        for effective_at, delta in rows:
            remaining -= delta
            if remaining < tier.retain:
                return self.window.leaves(effective_at) + self.grace
        return None

    def history(self, program: Any, advocate: str) -> list[TierChange]:
        """``program.tier_history(advocate)``: every tier change, oldest first."""
        t = changes_t
        with database.transaction(program.engine, write=False) as conn:
            row_id = q.advocate_row_id(conn, program.name, advocate)
            rows = conn.execute(
                sa.select(t.c.previous, t.c.tier, t.c.reason, t.c.action_key, t.c.changed_at)
                .where(t.c.advocate_id == row_id)
                .order_by(t.c.id)
            ).all()
        return [
            TierChange(
                previous=r.previous,
                tier=r.tier,
                reason=r.reason,
                action_key=r.action_key,
                changed_at=r.changed_at,
            )
            for r in rows
        ]


def _load_enrolment(conn: Connection, ids: list[int]) -> dict[int, datetime]:
    a = q.advocates_t
    found: dict[int, datetime] = {}
    for part in q.chunks(ids):
        found.update(
            conn.execute(sa.select(a.c.id, a.c.enrolled_at).where(a.c.id.in_(part))).all()  # type: ignore[arg-type]
        )
    return found


def _check_tiers(tiers: Sequence[Any]) -> None:
    if not tiers:
        raise ConfigurationError("Tiers(tiers)", (), "at least one Tier")
    for tier in tiers:
        if not isinstance(tier, Tier):
            raise ConfigurationError("Tiers(tiers)", tier, "Tier values")
    if tiers[0].threshold != 0:
        raise ConfigurationError(
            f"Tier({tiers[0].name!r}).threshold",
            tiers[0].threshold,
            "0 for the first tier (the tier every advocate starts in)",
        )
    names = [tier.name for tier in tiers]
    for name in names:
        if names.count(name) > 1:
            raise ConfigurationError("Tiers(tiers)", name, "each tier name once")
    for lower, higher in itertools.pairwise(tiers):
        if higher.threshold <= lower.threshold:
            raise ConfigurationError(
                f"Tier({higher.name!r}).threshold",
                higher.threshold,
                f"more than the threshold of {lower.name!r} below it ({lower.threshold}): "
                "tiers go from the lowest up",
            )
        if higher.retain < lower.threshold:
            raise ConfigurationError(
                f"Tier({higher.name!r}).retain",
                higher.retain,
                f"at least the threshold of {lower.name!r} below it ({lower.threshold})",
            )
