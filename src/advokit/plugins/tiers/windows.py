"""Qualification windows: which earnings count toward a tier at a given time."""

from __future__ import annotations

import calendar
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

import attrs

from advokit.core import validation as v
from advokit.core.errors import ConfigurationError

__all__ = ["Anniversary", "CalendarYear", "Lifetime", "Rolling", "Window"]

#: The end of every window: what is earned up to now, whenever "now" is.
_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
