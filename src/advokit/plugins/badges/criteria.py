"""What earns a badge: the criteria and the progress they keep per advocate."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from advokit import (
    Action,
    EvaluationContext,
)
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError

__all__ = ["Count", "Criterion", "Predicate", "Progress", "Streak", "Total"]


@attrs.frozen
class Progress:
    """An advocate's progress toward one badge (what the criteria keep)."""

    count: int = 0
    total: int = 0
    streak: int = 0
    last_period: str | None = None
    recent: tuple[str, ...] = ()  # ISO times of the latest actions, for Count(within=)
    awarded: int = 0  # the highest level ever awarded: a level is granted once

    def encode(self) -> list[Any]:
        """The stored form (``badges_states.progress`` holds one per badge)."""
        return [
            self.count,
            self.total,
            self.streak,
            self.last_period,
            list(self.recent),
            self.awarded,
        ]

    @classmethod
    def decode(cls, stored: Sequence[Any]) -> Progress:
        count, total, streak, last_period, recent, awarded = stored
        return cls(count, total, streak, last_period, tuple(recent), awarded)


def _levels(instance: Any, attribute: Any, value: Any) -> None:
    if (
        not isinstance(value, tuple)
        or not value
        or not all(v.is_int(x) and x >= 1 for x in value)
        or list(value) != sorted(set(value))
    ):
        raise ConfigurationError(
            f"{type(instance).__name__}.levels",
            value,
            "increasing positive integers, one per level, such as (1, 5, 20)",
        )


_KIND = v.matches(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+", "an action kind name")


@attrs.frozen
class Count:
    """The Nth action of ``kind``; with ``within``, N of them inside that sliding window."""

    kind: str = attrs.field(validator=_KIND)
    levels: tuple[int, ...] = attrs.field(default=(1,), converter=tuple, validator=_levels)
    within: timedelta | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.within is not None and (
            not isinstance(self.within, timedelta) or self.within <= timedelta(0)
        ):
            raise ConfigurationError("Count.within", self.within, "a positive timedelta or None")

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset({self.kind})

    def advance(self, progress: Progress, action: Action, at: datetime, zone: str) -> Progress:
        p = progress  # progress moves on every action: constructors, cheaper than evolve
        if self.within is None:
            return Progress(p.count + 1, p.total, p.streak, p.last_period, p.recent, p.awarded)
        start = at - self.within
        times = sorted(
            [t for t in progress.recent if datetime.fromisoformat(t) > start] + [at.isoformat()]
        )[-self.levels[-1] :]
        return Progress(len(times), p.total, p.streak, p.last_period, tuple(times), p.awarded)

    def value(self, progress: Progress) -> int:
        return progress.count

    def describe(self) -> str:
        window = f" within {self.within}" if self.within else ""
        return f"{{n}} {self.kind} actions{window}"


@attrs.frozen
class Total:
    """The sum of the integer data field ``field`` over actions of ``kind``."""

    kind: str = attrs.field(validator=_KIND)
    field: str = attrs.field(validator=v.text(max_length=100))
    levels: tuple[int, ...] = attrs.field(converter=tuple, validator=_levels)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset({self.kind})

    def advance(self, progress: Progress, action: Action, at: datetime, zone: str) -> Progress:
        amount = action.data.get(self.field)
        if not v.is_int(amount) or amount <= 0:
            return progress
        p = progress
        return Progress(p.count, p.total + amount, p.streak, p.last_period, p.recent, p.awarded)

    def value(self, progress: Progress) -> int:
        return progress.total

    def describe(self) -> str:
        return f"a total {self.field} of {{n}} over {self.kind} actions"


@attrs.frozen
class Streak:
    """``levels`` consecutive days (or ISO weeks) with an action of ``kind``, in local time."""

    kind: str = attrs.field(validator=_KIND)
    levels: tuple[int, ...] = attrs.field(converter=tuple, validator=_levels)
    unit: str = attrs.field(
        default="day", kw_only=True, validator=v.matches("day|week", "'day' or 'week'")
    )

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset({self.kind})

    def period(self, local: date) -> str:
        if self.unit == "day":
            return local.isoformat()
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"

    def previous(self, local: date) -> str:
        return self.period(local - timedelta(days=1 if self.unit == "day" else 7))

    def advance(self, progress: Progress, action: Action, at: datetime, zone: str) -> Progress:
        local = at.astimezone(zoneinfo.ZoneInfo(zone)).date()
        period = self.period(local)
        last = progress.last_period
        if last is not None and period <= last:
            return progress  # the same period again, or a late action: no change
        streak = progress.streak + 1 if last == self.previous(local) else 1
        p = progress
        return Progress(p.count, p.total, streak, period, p.recent, p.awarded)

    def value(self, progress: Progress) -> int:
        return progress.streak

    def describe(self) -> str:
        return f"{self.kind} on {{n}} consecutive {self.unit}s"


@attrs.frozen
class Predicate:
    """Level 1 when ``test(ctx, action)`` is true for an action of one of ``kinds``."""

    kinds: frozenset[str] = attrs.field(converter=frozenset)
    test: Callable[[EvaluationContext, Action], bool] = attrs.field()
    description: str = "a condition of the program's"
    levels: tuple[int, ...] = attrs.field(default=(1,), init=False)

    def advance(self, progress: Progress, action: Action, at: datetime, zone: str) -> Progress:
        return progress  # the test decides, in Badges.advokit_evaluate

    def value(self, progress: Progress) -> int:
        return 0

    def describe(self) -> str:
        return self.description


Criterion = Count | Total | Streak | Predicate
