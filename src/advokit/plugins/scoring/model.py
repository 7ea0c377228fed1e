"""What scorers return, and the window they are asked about: attrs frozen values."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any

import attrs

from advokit.core.errors import InvalidValue

__all__ = [
    "PERIODS",
    "Contribution",
    "Interval",
    "Score",
    "Window",
    "frozen_mapping",
    "json_value",
    "mean_interval",
    "period_index",
    "trend",
    "wilson",
]

#: The calendar periods ``by=`` accepts, in UTC; weeks start on Monday.
PERIODS = ("day", "week", "month", "year")

#: z for a two-sided 95% interval
Z95 = 1.959963984540054


def frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Converter: a read-only copy of ``value`` (an empty one for None)."""
    return MappingProxyType(dict(value or {}))


@attrs.frozen
class Interval:
    """A confidence interval: ``low <= value <= high`` at ``level`` (0.95)."""

    low: float
    high: float
    level: float = 0.95

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high

    def to_json(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high, "level": self.level}


@attrs.frozen
class Contribution:
    """One component of a composite score, and what it added.

    Attributes:
        component: its name (``nps``, ``reviews``...).
        raw: the measured input (an NPS answer, a count of reviews, days since
            the last action); None when the advocate has none.
        normalised: ``raw`` mapped to 0-1.
        weight: its share of the composite (the weights add up to 1).
        points: ``100 * weight * normalised``; the contributions add up to the score.
    """

    component: str
    raw: float | None
    normalised: float
    weight: float
    points: float

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class Score:
    """A metric's value, and what it was computed from.

    Attributes:
        name: the scorer's name (``nps``).
        value: the figure; None when the population is empty (``n == 0``).
        n: how many units it is over (answers, advocates, invitations...).
        unit: what ``value`` counts: ``"points"`` (NPS, -100..100), ``"%"``,
            ``"days"``, ``"ratio"``, ``"cents"``, ``"score"`` (0-100)...
        counts: the counts the value is made of (promoters, passives...).
        inputs: what was asked: window, segment, period and options.
        interval: the 95% confidence interval where one applies.
        label: how it was computed when there is more than one way
            (``"holdout"``, ``"naive"``, ``"heuristic"``, ``"model"``).
        missing: the inputs that were not there, in words: a figure computed
            without them says so rather than pretending.
        period: the first day of the period this score covers (``by=``).
        periods: with ``by=``, one score per period that has data, in order.
        trend: with ``by=``, the least-squares slope of ``value`` per period.
        details: what else the scorer reports (per component, per group...).
    """

    name: str
    value: float | None
    n: int
    unit: str = ""
    counts: Mapping[str, int] = attrs.field(factory=dict, converter=frozen_mapping)
    inputs: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)
    interval: Interval | None = None
    label: str | None = None
    missing: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    period: date | None = None
    periods: tuple[Score, ...] = attrs.field(default=(), converter=tuple)
    trend: float | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)

    @property
    def margin(self) -> float | None:
        """Half the width of the confidence interval (NPS's "margin of error")."""
        if self.interval is None:
            return None
        return (self.interval.high - self.interval.low) / 2

    def to_json(self) -> dict[str, Any]:
        """A JSON-encodable dict (what ``advokit score --json`` prints)."""
        out: dict[str, Any] = {
            "name": self.name,
            "value": self.value,
            "n": self.n,
            "unit": self.unit,
            "counts": dict(self.counts),
            "inputs": {k: json_value(v) for k, v in self.inputs.items()},
            "interval": self.interval.to_json() if self.interval else None,
            "margin": self.margin,
            "label": self.label,
            "missing": list(self.missing),
        }
        if self.period is not None:
            out["period"] = self.period.isoformat()
        if self.periods:
            out["periods"] = [p.to_json() for p in self.periods]
            out["trend"] = self.trend
        if self.details:
            out["details"] = {k: json_value(v) for k, v in self.details.items()}
        return out

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.name}: no data (n=0)"
        text = f"{self.name}: {_number(self.value)}{_suffix(self.unit)} (n={self.n}"
        if self.interval is not None:
            text += f", ±{_number(self.margin or 0.0)} at 95%"
        text += ")"
        return text + (f" [{self.label}]" if self.label else "")


def _suffix(unit: str) -> str:
    return {"%": "%", "": ""}.get(unit, f" {unit}")


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def json_value(value: Any) -> Any:
    """``value`` as JSON can encode it: ``to_json()`` of the values that have
    one, ISO text for dates, seconds for durations, lists for sequences and
    sets, None for a float that is not finite."""
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [json_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _instant(field: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidValue(field, value, "a timezone-aware datetime, a date or None")
    return value.astimezone(UTC)


@attrs.frozen
class Window:
    """The half-open time range ``[start, end)`` a metric looks at; None is unbounded.

    Dates are midnight UTC. ``Window.coerce`` also accepts ``(start, end)`` and
    a ``timedelta`` (the span up to now).
    """

    start: datetime | None = None
    end: datetime | None = None

    def __attrs_post_init__(self) -> None:
        start, end = _instant("window.start", self.start), _instant("window.end", self.end)
        if start is not None and end is not None and end < start:
            raise InvalidValue(
                "window", (start.isoformat(), end.isoformat()), "an end at or after its start"
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @classmethod
    def coerce(cls, value: Any, now: datetime) -> Window:
        """A window from what ``program.score(window=...)`` accepts."""
        if value is None:
            return cls()
        if isinstance(value, Window):
            return value
        if isinstance(value, timedelta):
            if value <= timedelta(0):
                raise InvalidValue("window", value, "a positive timedelta")
            return cls(now - value, now)
        if isinstance(value, tuple | list) and len(value) == 2:
            return cls(value[0], value[1])
        raise InvalidValue(
            "window", value, "a Window, a (start, end) pair, a positive timedelta or None"
        )

    def during(self, column: Any) -> list[Any]:
        """SQL conditions keeping the instant ``column`` inside the window."""
        clauses = []
        if self.start is not None:
            clauses.append(column >= self.start)
        if self.end is not None:
            clauses.append(column < self.end)
        return clauses

    def to_json(self) -> dict[str, str | None]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }


def period_index(day: date, by: str) -> int:
    """Consecutive periods get consecutive numbers (the x of a trend)."""
    if by == "day":
        return day.toordinal()
    if by == "week":
        return day.toordinal() // 7
    if by == "month":
        return day.year * 12 + day.month
    return day.year


def trend(points: Sequence[tuple[int, float]]) -> float | None:
    """The least-squares slope of ``(x, y)`` points; None under two distinct x."""
    if len({x for x, _ in points}) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return sxy / sxx


def mean_interval(
    total: float, squares: float, n: int, *, low: float = -math.inf, high: float = math.inf
) -> Interval | None:
    """The normal 95% interval of a mean from its sum and sum of squares, kept
    inside ``low..high`` (the range the values can take); None under two values."""
    if n < 2:
        return None
    mean = total / n
    variance = max(squares - total * total / n, 0.0) / (n - 1)
    half = Z95 * math.sqrt(variance / n)
    return Interval(max(mean - half, low), min(mean + half, high))


def wilson(successes: int, n: int, scale: float = 100.0) -> Interval | None:
    """The Wilson score interval of a proportion at 95%, times ``scale``.

    Unlike the normal approximation it stays inside 0..1 and is honest for
    small ``n`` and proportions near 0 or 1.
    """
    if n == 0:
        return None
    p = successes / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Interval(max(0.0, centre - half) * scale, min(1.0, centre + half) * scale)
