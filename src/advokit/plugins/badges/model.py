"""Badges, the plugin's effects and action kinds, and the status its queries return."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

import attrs

from advokit import (
    Action,
    ActionKind,
    Effect,
)
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError
from advokit.plugins.badges.criteria import Count, Criterion, Predicate, Progress, Streak, Total

__all__ = [
    "BADGE_GRANTED",
    "BADGE_REVOKED",
    "KINDS",
    "Badge",
    "BadgeStatus",
    "RevokeBadge",
    "SetBadgeProgress",
    "revoke",
]

BADGE_GRANTED = "badge.granted"
BADGE_REVOKED = "badge.revoked"

_NAME = r"[a-z][a-z0-9_]{0,62}"


@attrs.frozen
class Badge:
    """One badge, possibly with several levels.

    Args:
        name: the badge's id (lower case).
        criterion: :class:`Count`, :class:`Total`, :class:`Streak` or :class:`Predicate`.
        title: the name people read (default: from ``name``).
        description: what it recognises.
        image: the URL of its image (exported with the credential).
        requires: badges that must be held first.
        hidden: left out of ``program.badges()`` until earned.
        expires_after: how long a granted level counts as held.
    """

    name: str = attrs.field(validator=v.matches(_NAME, "a lower-case badge name"))
    criterion: Criterion = attrs.field()
    title: str = attrs.field(
        default=attrs.Factory(
            lambda self: self.name.replace("_", " ").capitalize(), takes_self=True
        ),
        kw_only=True,
    )
    description: str = attrs.field(default="", kw_only=True)
    image: str | None = attrs.field(default=None, kw_only=True)
    requires: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=tuple)
    hidden: bool = attrs.field(default=False, kw_only=True)
    expires_after: timedelta | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.criterion, Count | Total | Streak | Predicate):
            raise ConfigurationError(
                f"Badge({self.name!r}).criterion",
                self.criterion,
                "Count(...), Total(...), Streak(...) or Predicate(...)",
            )
        if self.expires_after is not None and (
            not isinstance(self.expires_after, timedelta) or self.expires_after <= timedelta(0)
        ):
            raise ConfigurationError(
                f"Badge({self.name!r}).expires_after", self.expires_after, "a positive timedelta"
            )

    def level_reached(self, value: int) -> int:
        """How many levels ``value`` reaches."""
        return sum(1 for threshold in self.criterion.levels if value >= threshold)


@attrs.frozen(kw_only=True)
class SetBadgeProgress(Effect):
    """Store an advocate's new progress toward badges, as ``(badge, progress)`` pairs.

    One effect per action for every badge the action moved; saved (with the
    advocate's other badges) only if nobody changed them since this
    transaction read them.
    """

    recorded: ClassVar[bool] = False  # the plugin's own bookkeeping

    # built by the plugin from a checked action and its own badges: not checked again
    advocate: str
    progress: tuple[tuple[str, Progress], ...]


@attrs.frozen(kw_only=True)
class RevokeBadge(Effect):
    """Revoke every level of a badge an advocate holds."""

    advocate: str = attrs.field(validator=v.text())
    badge: str = attrs.field(validator=v.text())
    reason: str = attrs.field(validator=v.text(max_length=500))


@attrs.frozen(kw_only=True)
class BadgeStatus:
    """A badge as ``program.badges(advocate)`` shows it to the advocate."""

    badge: Badge
    level: int
    value: int
    next_threshold: int | None
    awarded_at: datetime | None
    expires_at: datetime | None


def revoke(advocate: str, badge: str, *, reason: str, key: str) -> Action:
    """The action that revokes ``badge`` from ``advocate`` (record it)."""
    return Action(
        kind=BADGE_REVOKED, advocate=advocate, key=key, data={"badge": badge, "reason": reason}
    )


KINDS = (
    ActionKind(
        name=BADGE_GRANTED,
        required={"badge": str, "level": int},
        description="Derived: an advocate was granted a badge level.",
        derived=True,
    ),
    ActionKind(
        name=BADGE_REVOKED,
        required={"badge": str, "reason": str},
        description="A person revoked a badge from an advocate.",
    ),
)
