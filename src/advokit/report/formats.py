"""How the report writes numbers and dates: money from cents, a real minus
sign, thousands grouped, months as ``Jan 2026``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

__all__ = ["DIGITS", "MINUS", "digits", "format_value", "grouped", "month_label", "when"]

MINUS = "\u2212"  # a real minus sign: the hyphen is too short next to digits

#: decimals shown per score unit
DIGITS = {"points": 1, "%": 1, "ratio": 2, "cents": 2, "days": 1, "score": 1, "count": 0}


def digits(unit: str) -> int:
    """The decimals a value in ``unit`` is shown with (two for a unit not in :data:`DIGITS`)."""
    return DIGITS.get(unit, 2)


def grouped(value: float, places: int) -> str:
    """``value`` with ``places`` decimals, thousands grouped, and a minus sign
    unless it rounds to zero."""
    text = f"{abs(value):,.{places}f}"
    negative = value < 0 and float(text.replace(",", "")) != 0
    return (MINUS if negative else "") + text


def format_value(value: Any, unit: str = "", *, currency: str | None = None) -> str:
    """``value`` as the report prints it in ``unit`` (a score's unit, or
    ``count``): money from cents, ``%``, days... and an em dash for None."""
    if value is None:
        return "\u2014"
    places = digits(unit)
    if unit == "cents":
        text = grouped(value / 100, places)
        return f"{text} {currency}" if currency else text
    text = grouped(float(value), places)
    if unit == "%":
        return text + "%"
    if unit == "days":
        return text + (" day" if text == "1.0" else " days")
    return text


def month_label(day: date | str) -> str:
    """``Jan 2026`` for a month's first day (a date or its ISO text)."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return day.strftime("%b %Y")


def when(value: datetime) -> str:
    """``1 Jun 2026`` for midnight, ``1 Jun 2026 12:00 UTC`` otherwise (``value`` is in UTC)."""
    if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
        return f"{value.day} {value:%b %Y}"
    return f"{value.day} {value:%b %Y %H:%M} UTC"
