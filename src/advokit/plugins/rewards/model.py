"""Rewards as the program owes them: their states, their history, the catalogue."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from advokit import ActionKind, Reward
from advokit.core import validation as v
from advokit.core.errors import InvalidValue, one_of
from advokit.core.periods import PERIODS

__all__ = [
    "KINDS",
    "MOVES",
    "REWARD_REDEEMED",
    "Budget",
    "CatalogueItem",
    "IssuedReward",
    "RewardState",
    "Transition",
]

REWARD_REDEEMED = "reward.redeemed"


class RewardState(enum.StrEnum):
    """Where a reward is in its life.

    ``requested`` (just issued) -> ``pending_approval`` (waiting for a named
    person) or ``approved`` -> ``fulfilling`` (handed to its fulfiller) ->
    ``fulfilled`` or ``failed`` (a failed one may be tried again); ``canceled``
    before it was fulfilled, ``reversed`` after (a refunded referral, say).
    """

    REQUESTED = "requested"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    FULFILLING = "fulfilling"
    FULFILLED = "fulfilled"
    FAILED = "failed"
    CANCELED = "canceled"
    REVERSED = "reversed"


#: The moves a reward may make.
MOVES: dict[RewardState, frozenset[RewardState]] = {
    RewardState.REQUESTED: frozenset(
        {RewardState.PENDING_APPROVAL, RewardState.APPROVED, RewardState.CANCELED}
    ),
    RewardState.PENDING_APPROVAL: frozenset({RewardState.APPROVED, RewardState.CANCELED}),
    RewardState.APPROVED: frozenset({RewardState.FULFILLING, RewardState.CANCELED}),
    # back to approved: a try that failed for now, to be tried again later
    RewardState.FULFILLING: frozenset(
        {RewardState.FULFILLED, RewardState.FAILED, RewardState.APPROVED, RewardState.CANCELED}
    ),
    RewardState.FAILED: frozenset({RewardState.APPROVED, RewardState.CANCELED}),
    RewardState.FULFILLED: frozenset({RewardState.REVERSED}),
    RewardState.CANCELED: frozenset(),
    RewardState.REVERSED: frozenset(),
}


@attrs.frozen(kw_only=True)
class IssuedReward:
    """A reward the program owes an advocate: ``program.reward(key)``.

    ``key`` is its idempotency key, derived from the action that issued it
    (``cause``) and its place among that action's rewards; a fulfiller passes
    it on to the provider so that a retried call pays once. ``item`` is the
    catalogue item redeemed, if it was a redemption.
    """

    key: str
    advocate: str
    reward: Reward
    state: RewardState
    cause: str
    item: str | None
    created_at: datetime
    updated_at: datetime
    attempts: int = 0  # tries so far: of its fulfilment, or once reversed, of its reversal
    result: Mapping[str, Any] | None = None  # what the fulfiller answered
    error: str | None = None  # the last try's error
    #: when the next try is due: its fulfilment (``approved``; None: now) or, once
    #: ``reversed``, its fulfiller's reverse operation (None: nothing to undo, or done)
    next_attempt_at: datetime | None = None
    reversal: str | None = None  # why a refund reversed it (or asked to, while fulfilling)


@attrs.frozen(kw_only=True)
class Transition:
    """One move of a reward: when, by whom (a person, or ``advokit``) and why."""

    reward: str  # the reward's key
    before: RewardState | None  # None: the reward was issued
    after: RewardState
    at: datetime
    actor: str
    reason: str


Eligible = Callable[[Any, str], bool]


@attrs.frozen(kw_only=True)
class CatalogueItem:
    """A reward advocates redeem points for: ``program.redeem(advocate, name, key=...)``.

    Args:
        name: the item's name in the catalogue (``"coffee"``).
        cost: the points it costs.
        reward: what the advocate is owed once redeemed.
        stock: how many can ever be redeemed (None: no limit).
        per_advocate: how many one advocate may redeem (None: no limit).
        available_from, available_until: when it can be redeemed.
        tags: advocates with one of these tags may redeem it (empty: everyone).
        eligible: ``eligible(ctx, advocate) -> bool``, any other rule (a tier...).
    """

    name: str = attrs.field(
        validator=v.matches(r"[a-z0-9][a-z0-9_.-]{0,62}", "a lower-case name such as 'coffee'")
    )
    cost: int = attrs.field(validator=v.integer(minimum=1))
    reward: Reward = attrs.field(validator=attrs.validators.instance_of(Reward))
    stock: int | None = attrs.field(default=None, validator=v.integer(minimum=0, optional=True))
    per_advocate: int | None = attrs.field(
        default=None, validator=v.integer(minimum=1, optional=True)
    )
    available_from: datetime | None = attrs.field(
        default=None, converter=v.to_utc, validator=v.aware_datetime(optional=True)
    )
    available_until: datetime | None = attrs.field(
        default=None, converter=v.to_utc, validator=v.aware_datetime(optional=True)
    )
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    eligible: Eligible | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.is_callable())
    )

    def __attrs_post_init__(self) -> None:
        start, end = self.available_from, self.available_until
        if start is not None and end is not None and start >= end:
            raise InvalidValue("CatalogueItem.available_until", end, f"a time after {start}")


def _check_per(instance: Any, attribute: Any, value: Any) -> None:
    if value not in PERIODS:
        raise InvalidValue("Budget.per", value, one_of(PERIODS))


@attrs.frozen(kw_only=True)
class Budget:
    """A limit on the rewards issued per calendar period (UTC), in all or per advocate.

    A reward that would take the period past ``amount`` (the sum of the
    rewards' amounts) or ``count`` waits for a person (``pending_approval``),
    never dropped; it does not count against the budget. Rewards let through
    count, even if canceled later.

    Args:
        name: the budget's name, in the reason of what it holds.
        per: ``"day"``, ``"week"`` or ``"month"``.
        amount: the most the period's rewards may add up to (None: no limit).
        count: the most rewards in the period (None: no limit).
        per_advocate: a budget for each advocate, rather than for the program.
        kinds: only rewards of these kinds (empty: every kind).
        currency: only rewards in this currency (None: every currency).
    """

    name: str = attrs.field(
        validator=v.matches(r"[a-z0-9][a-z0-9_.-]{0,40}", "a lower-case name such as 'monthly'")
    )
    per: str = attrs.field(default="month", validator=_check_per)
    amount: int | None = attrs.field(default=None, validator=v.integer(minimum=0, optional=True))
    count: int | None = attrs.field(default=None, validator=v.integer(minimum=0, optional=True))
    per_advocate: bool = False
    kinds: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    currency: str | None = attrs.field(
        default=None,
        validator=v.matches(r"[A-Z]{3}", "an ISO 4217 currency code such as 'EUR'", optional=True),
    )

    def __attrs_post_init__(self) -> None:
        if self.amount is None and self.count is None:
            raise InvalidValue("Budget.amount", None, "an amount or a count (or both)")

    def covers(self, reward: Reward) -> bool:
        """Whether the budget counts ``reward``."""
        return (not self.kinds or reward.kind in self.kinds) and (
            self.currency is None or reward.currency == self.currency
        )


KINDS = (
    ActionKind(
        name=REWARD_REDEEMED,
        required={"item": str},
        description=(
            "An advocate redeemed points for a catalogue item: the points are debited and "
            "the reward issued together, or neither (refused with its reason)."
        ),
    ),
)
