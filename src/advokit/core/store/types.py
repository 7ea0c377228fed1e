"""Column types shared by advokit's tables and by plugins' tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

#: A 64-bit integer primary key that is still SQLite's auto-incrementing rowid.
BigIntegerPK = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC.

    SQLite has no timezone support, so values are stored as naive UTC there and
    made aware again on the way out; PostgreSQL gets ``timestamptz``. Naive
    datetimes are refused: every time in advokit is aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: advokit stores aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return utc(value)


def utc(value: Any) -> datetime | None:
    """A :class:`UTCDateTime` column's value as the driver returns it, as an aware UTC datetime.

    For rows read with :func:`advokit.core.store.driver.fetch` (no SQLAlchemy
    type processing): SQLite gives naive UTC text, psycopg an aware datetime.
    Also what :class:`UTCDateTime` returns from SQLAlchemy's naive or aware values.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            # naive UTC text: parsed with its offset, 5x cheaper than .replace(tzinfo=UTC)
            parsed = datetime.fromisoformat(value + "+00:00")
        except ValueError:  # text that carries an offset of its own
            parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:  # a date alone: Python 3.11 drops the offset
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC) if parsed.tzinfo is not UTC else parsed
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
    return value.astimezone(UTC)  # type: ignore[no-any-return]
