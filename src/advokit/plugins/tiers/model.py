"""Tiers, the plugin's effects and action kinds, and the values its queries return."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from typing import Any

import attrs

from advokit import (
    Action,
    ActionKind,
    Effect,
)
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError

__all__ = [
    "KINDS",
    "POINTS_CHANGED",
    "TIER_CHANGED",
    "TIER_OVERRIDDEN",
    "TIER_REVIEWED",
    "SetTierGrace",
    "SetTierOverride",
    "Tier",
    "TierChange",
    "TierStatus",
    "override",
]

TIER_CHANGED = "tier.changed"
TIER_OVERRIDDEN = "tier.overridden"
TIER_REVIEWED = "tier.reviewed"
POINTS_CHANGED = "points.changed"

_NAME = r"[a-z][a-z0-9_]{0,62}"


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
