"""Dialect-aware SQL pieces the scorers share (SQLite stores UTC text,
PostgreSQL ``timestamptz``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

__all__ = ["SECONDS_PER_DAY", "count_where", "days_after", "days_between", "period_of"]

SECONDS_PER_DAY = 86400


def count_where(condition: Any) -> Any:
    """How many rows of the group meet ``condition``: 0, never NULL, for none."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def days_between(start: Any, end: Any, dialect: str) -> Any:
    """``end - start`` in days, as a float, in SQL (NULL when either is NULL).

    SQLite stores UTC text, and ``julianday()`` keeps milliseconds: the
    difference is exact to a millisecond (about 1e-8 days). PostgreSQL's
    ``extract(epoch ...)`` is exact to the microsecond.
    """
    if dialect == "sqlite":
        return sa.func.julianday(end) - sa.func.julianday(start)
    return sa.cast(sa.extract("epoch", end - start), sa.Float) / SECONDS_PER_DAY


def days_after(column: Any, days: int, dialect: str) -> Any:
    """The instant ``days`` * 24 hours after ``column``, in SQL, comparable with
    the stored datetimes of the same dialect (exact, no float rounding)."""
    if dialect == "sqlite":
        # 'YYYY-MM-DD HH:MM:SS' shifted, then the stored '.ffffff' put back
        shifted = sa.func.strftime("%Y-%m-%d %H:%M:%S", column, f"+{days} days", type_=sa.String)
        return shifted + sa.func.substr(column, 20, type_=sa.String)
    # seconds, not days: a day interval on timestamptz follows the session's DST
    return column + sa.func.make_interval(0, 0, 0, 0, 0, 0, float(days * SECONDS_PER_DAY))


def period_of(column: Any, by: str | None, dialect: str) -> Any:
    """The first day of ``column``'s period as ``YYYY-MM-DD`` text (NULL without ``by``)."""
    if by is None:
        return sa.literal(None, sa.String)
    if dialect == "sqlite":
        # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text
        if by == "day":
            return sa.func.substr(column, 1, 10)
        if by == "month":
            return sa.func.substr(column, 1, 7) + "-01"
        if by == "year":
            return sa.func.substr(column, 1, 4) + "-01-01"
        return sa.func.date(column, "-6 days", "weekday 1")  # the Monday on or before
    utc = sa.func.timezone("UTC", column)
    if by == "week":
        return sa.func.to_char(sa.func.date_trunc("week", utc), sa.literal("YYYY-MM-DD"))
    # formatting alone is cheaper than date_trunc, per row of a million
    formats = {"day": "YYYY-MM-DD", "month": 'YYYY-MM-"01"', "year": 'YYYY-"01-01"'}
    return sa.func.to_char(utc, sa.literal(formats[by]))
