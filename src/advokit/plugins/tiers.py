"""Tiers: status levels qualified on points earned in a window, kept predictably.

::

    from datetime import timedelta
    from advokit.plugins.tiers import CalendarYear, Tier, Tiers

    Program(
        "coffee",
        plugins=[
            Points(PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100)),
            Tiers(
                Tier("bronze", 0),
                Tier("silver", 500, retain=400, multiplier=1.25),
                Tier("gold", 2000, retain=1500, multiplier=1.5, benefits={"free_drink": True}),
                window=CalendarYear(),
                grace=timedelta(days=30),
            ),
        ],
        policies=["tier_multiplier"],
    )

The rules, in the order the issue trackers of loyalty programs ask for them:

* **Qualify on points earned, never on the balance.** The qualifying value is
  what the ``account`` earned inside the window (awards, less the reversals of
  refunded awards); spending and expiry never lower it, so redeeming points
  never demotes anyone. To qualify on a count of actions, award one point per
  action to an account of its own (``PointsRule("purchase.completed", 1,
  account="purchases")``) and qualify on that account.
* **Promotion is immediate**: the moment an action earns enough for a higher
  tier's ``threshold`` (through the derived ``points.changed``).
* **Demotion is predictable**: only on a review, which ``program.tick()`` runs
  once a day for everyone above the first tier. An advocate keeps a tier while
  the value in the window stays at or above its ``retain`` threshold (lower
  than ``threshold``, so a tier is not lost on the first quiet month). Below
  it, a ``grace`` period starts; earning back to ``retain`` ends it, otherwise
  the advocate moves down, when it is over, to the highest tier whose
  ``retain`` their value meets.
* **A manual override** (:func:`override`) sets a tier until an end date. When
  that date has passed, the next review returns the advocate to the tier their
  points earn (by entry threshold), never leaving the override behind as a
  floor.
* Every change is a :class:`~advokit.ChangeTier` effect, kept in the
  ``tiers_changes`` history, and emits the derived action ``tier.changed``
  (data: ``tier``, ``previous``, ``reason``) that other rules react to.
* ``program.tier(advocate)`` tells the tier, its benefits, progress to the
  next one and the date the tier is kept until.

Reviews are daily: a tick later on the same day replays the day's review
instead of running it again, so a grace period ends at the first tick of the
day after it is over.
"""

from __future__ import annotations

import calendar
import itertools
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from advokit import (
    Action,
    ActionKind,
    AwardPoints,
    ChangeTier,
    Effect,
    EvaluationContext,
    Transaction,
    hookimpl,
)
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError, InvalidValue, one_of
from advokit.core.model import derived_key
from advokit.core.registry import Register
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.types import BigIntegerPK, UTCDateTime

__all__ = [
    "TIER_CHANGED",
    "TIER_OVERRIDDEN",
    "TIER_REVIEWED",
    "Anniversary",
    "CalendarYear",
    "Lifetime",
    "Rolling",
    "SetTierGrace",
    "SetTierOverride",
    "Tier",
    "TierChange",
    "TierStatus",
    "Tiers",
    "Window",
    "override",
]

TIER_CHANGED = "tier.changed"
TIER_OVERRIDDEN = "tier.overridden"
TIER_REVIEWED = "tier.reviewed"
POINTS_CHANGED = "points.changed"

#: The end of every window: what is earned up to now, whenever "now" is.
_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STATE = ("tiers", "state")
_ENROLLED = ("tiers", "enrolled_at")

_NAME = r"[a-z][a-z0-9_]{0,62}"

# --------------------------------------------------------------------------- tables

states_t = sa.Table(
    "tiers_states",
    SQLModel.metadata,
    sa.Column(
        "advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True
    ),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("tier", sa.String(63), nullable=False),
    sa.Column("since", UTCDateTime(), nullable=False),
    sa.Column("grace_until", UTCDateTime(), nullable=True),
    sa.Column("override_tier", sa.String(63), nullable=True),
    sa.Column("override_until", UTCDateTime(), nullable=True),
    # optimistic concurrency: a state is saved only over the version it was decided from
    sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    sa.Index("ix_tiers_states_review", "program", "tier"),
)

changes_t = sa.Table(
    "tiers_changes",
    SQLModel.metadata,
    sa.Column("id", BigIntegerPK, primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), nullable=False),
    sa.Column("previous", sa.String(63), nullable=False),
    sa.Column("tier", sa.String(63), nullable=False),
    sa.Column("reason", sa.String(100), nullable=False),
    sa.Column("action_key", sa.String(255), nullable=False),
    sa.Column("changed_at", UTCDateTime(), nullable=False),
    sa.Index("ix_tiers_changes_advocate", "advocate_id", "id"),
)

MIGRATIONS = Path(__file__).parent / "migrations" / "tiers"

# --------------------------------------------------------------------------- values


def _multiplier(value: Any) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction):
        return value  # type: ignore[no-any-return]  # refused by the validator
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def _positive_fraction(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Fraction) or value <= 0:
        raise ConfigurationError(
            f"Tier({instance.name!r}).multiplier", value, "a positive number such as 1.5"
        )


@attrs.frozen
class Tier:
    """One tier.

    Args:
        name: ``bronze``, ``gold``... (lower case).
        threshold: the value (points earned in the window) that enters it.
        retain: the value that keeps it once held; at most ``threshold``
            (default: ``threshold``).
        multiplier: scales the points an advocate in this tier earns, through
            the ``tier_multiplier`` effect policy.
        benefits: anything the program wants to read back (``free_drink``...),
            as JSON values.
    """

    name: str = attrs.field(validator=v.matches(_NAME, "a lower-case tier name such as 'gold'"))
    threshold: int = attrs.field(validator=v.integer(minimum=0))
    retain: int = attrs.field(
        default=attrs.Factory(lambda self: self.threshold, takes_self=True),
        kw_only=True,
        validator=v.integer(minimum=0),
    )
    multiplier: Fraction = attrs.field(
        default=Fraction(1), kw_only=True, converter=_multiplier, validator=_positive_fraction
    )
    benefits: Mapping[str, Any] = attrs.field(
        factory=dict,
        kw_only=True,
        converter=v.frozen_json_mapping,
        validator=v.json_mapping,
        hash=False,
    )

    def __attrs_post_init__(self) -> None:
        if self.retain > self.threshold:
            raise ConfigurationError(
                f"Tier({self.name!r}).retain",
                self.retain,
                f"at most its threshold ({self.threshold})",
            )


class Window(Protocol):
    """Which earnings count at a given time."""

    def start(self, at: datetime, enrolled_at: datetime) -> datetime:
        """Earnings from this instant on (up to ``at``) count at ``at``."""

    def next_reset(self, at: datetime, enrolled_at: datetime) -> datetime | None:
        """When the window next starts again from nothing (None: it slides or never does)."""


@attrs.frozen
class Lifetime:
    """Everything ever earned counts."""

    def start(self, at: datetime, enrolled_at: datetime) -> datetime:
        return _EPOCH

    def next_reset(self, at: datetime, enrolled_at: datetime) -> datetime | None:
        return None


def _zone_name(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not v.is_zone(value):
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name}",
            value,
            "an IANA time zone name such as 'Europe/Paris'",
        )


def _local_midnight(day: date, zone: str) -> datetime:
    """The UTC instant a local day begins in ``zone``."""
    return datetime.combine(day, time(), zoneinfo.ZoneInfo(zone)).astimezone(UTC)


@attrs.frozen
class CalendarYear:
    """What was earned since 1 January (in ``timezone``, default UTC) counts."""

    timezone: str = attrs.field(default="UTC", kw_only=True, validator=_zone_name)

    def start(self, at: datetime, enrolled_at: datetime) -> datetime:
        year = at.astimezone(zoneinfo.ZoneInfo(self.timezone)).year
        return _local_midnight(date(year, 1, 1), self.timezone)

    def next_reset(self, at: datetime, enrolled_at: datetime) -> datetime | None:
        year = at.astimezone(zoneinfo.ZoneInfo(self.timezone)).year
        return _local_midnight(date(year + 1, 1, 1), self.timezone)


@attrs.frozen
class Rolling:
    """What was earned in the last ``days`` whole days (in ``timezone``), and today, counts."""

    days: int = attrs.field(validator=v.integer(minimum=1))
    timezone: str = attrs.field(default="UTC", kw_only=True, validator=_zone_name)

    def start(self, at: datetime, enrolled_at: datetime) -> datetime:
        # whole days: every action of a day shares one window, and one batched read
        local = at.astimezone(zoneinfo.ZoneInfo(self.timezone)).date()
        return _local_midnight(local - timedelta(days=self.days), self.timezone)

    def next_reset(self, at: datetime, enrolled_at: datetime) -> datetime | None:
        return None

    def leaves(self, earned_at: datetime) -> datetime:
        """When what was earned at ``earned_at`` leaves the window (a local midnight)."""
        local = earned_at.astimezone(zoneinfo.ZoneInfo(self.timezone)).date()
        return _local_midnight(local + timedelta(days=self.days + 1), self.timezone)


@attrs.frozen
class Anniversary:
    """What was earned since the advocate's last enrolment anniversary counts."""

    def start(self, at: datetime, enrolled_at: datetime) -> datetime:
        this_year = _anniversary(enrolled_at, at.year)
        return this_year if this_year <= at else _anniversary(enrolled_at, at.year - 1)

    def next_reset(self, at: datetime, enrolled_at: datetime) -> datetime | None:
        return _anniversary(enrolled_at, self.start(at, enrolled_at).year + 1)


def _anniversary(enrolled_at: datetime, year: int) -> datetime:
    day = min(enrolled_at.day, calendar.monthrange(year, enrolled_at.month)[1])  # 29 Feb
    return enrolled_at.replace(year=year, day=day)


@attrs.frozen(kw_only=True)
class SetTierGrace(Effect):
    """Start (``until``) or end (None) an advocate's grace period before demotion."""

    advocate: str = attrs.field(validator=v.text())
    until: datetime | None = attrs.field(
        default=None, converter=v.to_utc, validator=v.aware_datetime(optional=True)
    )


@attrs.frozen(kw_only=True)
class SetTierOverride(Effect):
    """Set (``tier`` and ``until``) or clear (None) an advocate's manual tier override."""

    advocate: str = attrs.field(validator=v.text())
    tier: str | None = attrs.field(default=None, validator=v.text(optional=True))
    until: datetime | None = attrs.field(
        default=None, converter=v.to_utc, validator=v.aware_datetime(optional=True)
    )


@attrs.frozen(kw_only=True)
class TierStatus:
    """An advocate's standing, as ``program.tier(advocate)`` tells it.

    ``value`` is what counts in the current window; ``to_next`` what is still
    missing for ``next_tier`` (None at the top); ``kept_until`` when the tier
    would be lost if nothing more were earned (None: kept indefinitely).
    """

    advocate: str
    tier: Tier
    since: datetime | None
    value: int
    next_tier: Tier | None
    to_next: int | None
    kept_until: datetime | None
    grace_until: datetime | None = None
    override_until: datetime | None = None


@attrs.frozen(kw_only=True)
class TierChange:
    """One entry of an advocate's tier history."""

    previous: str
    tier: str
    reason: str
    action_key: str
    changed_at: datetime


@attrs.frozen(kw_only=True)
class _State:
    tier: str
    since: datetime
    grace_until: datetime | None
    override_tier: str | None
    override_until: datetime | None
    version: int = 0  # 0: no row stored yet


def override(advocate: str, tier: str, *, until: datetime, reason: str, key: str) -> Action:
    """The action that puts ``advocate`` in ``tier`` by hand until ``until``.

    Record it like any action (``program.record(override(...))``). Once
    ``until`` has passed, the advocate returns to the tier their points earn.
    """
    until = v.instant("until", until)
    return Action(
        kind=TIER_OVERRIDDEN,
        advocate=advocate,
        key=key,
        data={"tier": tier, "until": until.isoformat(), "reason": reason},
    )


KINDS = (
    ActionKind(
        name=TIER_CHANGED,
        required={"tier": str, "previous": str, "reason": str},
        description="Derived: an advocate moved to another tier.",
        derived=True,
    ),
    ActionKind(
        name=TIER_OVERRIDDEN,
        required={"tier": str, "until": str, "reason": str},
        description="A person put an advocate in a tier until a date (ISO 8601).",
    ),
    ActionKind(
        name=TIER_REVIEWED,
        description="Derived, by the daily tick: an advocate's tier is reviewed for demotion.",
        derived=True,
    ),
)


# --------------------------------------------------------------------------- the plugin


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
        t = states_t
        found = {}
        for part in q.chunks(ids):
            for row in conn.execute(sa.select(t).where(t.c.advocate_id.in_(part))):
                found[row.advocate_id] = _State(
                    tier=row.tier,
                    since=row.since,
                    grace_until=row.grace_until,
                    override_tier=row.override_tier,
                    override_until=row.override_until,
                    version=row.version,
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
