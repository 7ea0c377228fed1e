"""Pacing: quiet hours in the advocate's time zone, and frequency caps.

Both are checked at send time, like consent, for channels that reach the
advocate (not a team's Slack channel). A message that may not go now waits:
it is queued again for when the quiet hours end, or for when the oldest
message counted by the cap leaves its period. Nothing is dropped, and a wait
does not use up an attempt.

Both apply to marketing messages by default: a receipt or a reward delivered
is what the advocate is waiting for, and a cap must not hold it back. Name
``categories`` to change that.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection
from datetime import UTC, datetime, time, timedelta

import attrs

from advokit.core import validation as v
from advokit.core.errors import ConfigurationError

__all__ = ["Cap", "QuietHours"]

_CATEGORIES = frozenset({"marketing", "transactional"})


def _categories(value: Collection[str]) -> frozenset[str]:
    if isinstance(value, str) or not value or not set(value) <= _CATEGORIES:
        raise ConfigurationError(
            "categories", value, "a non-empty collection of 'marketing' and 'transactional'"
        )
    return frozenset(value)


def _channels(value: Collection[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not value or not all(isinstance(c, str) for c in value):
        raise ConfigurationError("channels", value, "None (every channel) or channel names")
    return frozenset(value)


def _time(value: time | str) -> time:
    if isinstance(value, str):
        try:
            value = time.fromisoformat(value)
        except ValueError:
            raise ConfigurationError("QuietHours", value, "a time such as '21:00'") from None
    if not isinstance(value, time) or value.tzinfo is not None:
        raise ConfigurationError("QuietHours", value, "a local time such as '21:00'")
    return value


@attrs.frozen(kw_only=True)
class QuietHours:
    """No message between ``start`` and ``end``, local time of the advocate.

    ``QuietHours(start="21:00", end="08:00")`` holds a message due at 23:30 in
    the advocate's time zone until 08:00 there. A window may cross midnight.

    Args:
        start, end: local times (``"21:00"`` or :class:`datetime.time`).
        channels: the channels it applies to (None: every channel that
            reaches the advocate).
        categories: the categories it applies to (marketing by default).
    """

    start: time = attrs.field(converter=_time)
    end: time = attrs.field(converter=_time)
    channels: frozenset[str] | None = attrs.field(default=None, converter=_channels)
    categories: frozenset[str] = attrs.field(
        default=frozenset({"marketing"}), converter=_categories
    )

    def __attrs_post_init__(self) -> None:
        if self.start == self.end:
            raise ConfigurationError("QuietHours.end", self.end, "a time other than start")

    def applies(self, channel: str, category: str) -> bool:
        return category in self.categories and (self.channels is None or channel in self.channels)

    def until(self, now: datetime, timezone: str) -> datetime | None:
        """When the quiet hours around ``now`` end (UTC), or None if ``now`` is not in them."""
        zone = zoneinfo.ZoneInfo(timezone)
        local = now.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        if self.start < self.end:
            quiet = self.start <= clock < self.end
        else:  # across midnight: 21:00-08:00
            quiet = clock >= self.start or clock < self.end
        if not quiet:
            return None
        day = local.date() if clock < self.end else local.date() + timedelta(days=1)
        # an end the clocks skip (spring forward) reads with the offset before the
        # change: the wait ends a little late, never inside the quiet hours
        return datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)


@attrs.frozen(kw_only=True)
class Cap:
    """At most ``limit`` messages to one advocate on ``channel`` per ``per``.

    ``Cap(channel="sms", limit=2, per=timedelta(days=7))``: a third SMS in a
    week waits until the oldest of the two leaves the week. The count is of
    messages sent (and being sent) in the rolling period, of the cap's
    categories, and holds with several workers: each send is counted under a
    lock of the advocate's row before it goes.
    """

    channel: str = attrs.field(validator=v.text())
    limit: int = attrs.field(validator=v.integer(minimum=1))
    per: timedelta = attrs.field(validator=v.positive_duration())
    categories: frozenset[str] = attrs.field(
        default=frozenset({"marketing"}), converter=_categories
    )

    def applies(self, channel: str, category: str) -> bool:
        return channel == self.channel and category in self.categories
