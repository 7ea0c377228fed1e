"""Where advokit gets the time: an injectable clock, so tests never sleep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from advokit.core.errors import InvalidValue

__all__ = ["Clock", "ManualClock", "system_clock"]

#: A clock is any callable returning the current, timezone-aware time.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to, for tests and simulations.

    >>> clock = ManualClock(datetime(2026, 6, 1, tzinfo=UTC))
    >>> clock.advance(days=1)
    datetime.datetime(2026, 6, 2, 0, 0, tzinfo=datetime.timezone.utc)
    """

    def __init__(self, start: datetime) -> None:
        if start.utcoffset() is None:
            raise InvalidValue("ManualClock.start", start, "a timezone-aware datetime")
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)`` and return the new time."""
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> None:
        if when.utcoffset() is None:
            raise InvalidValue("ManualClock.set", when, "a timezone-aware datetime")
        self.now = when.astimezone(UTC)
