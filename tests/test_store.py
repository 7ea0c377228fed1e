"""SQLite connection settings, write transactions and stored times, as the store handles them."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest

from advokit.core.store import database
from advokit.core.store.types import utc


@pytest.fixture
def engine(sqlite_url):
    engine = database.connect(sqlite_url)
    yield engine
    engine.dispose()


def test_a_sqlite_file_gets_the_documented_pragmas(engine):
    with engine.connect() as conn:

        def pragma(name):
            return conn.exec_driver_sql(f"PRAGMA {name}").scalar()

        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 1  # NORMAL
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 60_000
        assert pragma("wal_autocheckpoint") == 4000
        assert pragma("journal_size_limit") == 64 * 1024 * 1024
        assert pragma("cache_size") == -32768


def other_writer_is_locked_out(sqlite_url) -> bool:
    """Whether another connection can take the write lock right now (no waiting)."""
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        return True
    else:
        other.execute("ROLLBACK")
        return False
    finally:
        other.close()


def test_a_write_transaction_takes_the_write_lock_up_front(engine, sqlite_url):
    with database.transaction(engine) as conn:
        assert other_writer_is_locked_out(sqlite_url)
        conn.exec_driver_sql("SELECT 1")
    assert not other_writer_is_locked_out(sqlite_url)


def test_a_read_transaction_does_not(engine, sqlite_url):
    with database.transaction(engine, write=False) as conn:
        conn.exec_driver_sql("SELECT 1")
        assert not other_writer_is_locked_out(sqlite_url)
    # the flag does not leak into the next transaction begun on this thread
    with engine.connect() as conn, conn.begin():
        assert not other_writer_is_locked_out(sqlite_url)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2026-06-01 12:30:00.000001", datetime(2026, 6, 1, 12, 30, 0, 1, tzinfo=UTC)),
        ("2026-06-01 12:30:00", datetime(2026, 6, 1, 12, 30, tzinfo=UTC)),
        ("2026-06-01T14:30:00+02:00", datetime(2026, 6, 1, 12, 30, tzinfo=UTC)),
        ("2026-06-01T12:30:00Z", datetime(2026, 6, 1, 12, 30, tzinfo=UTC)),
        ("2026-06-01", datetime(2026, 6, 1, tzinfo=UTC)),
        (datetime(2026, 6, 1, 12, 30), datetime(2026, 6, 1, 12, 30, tzinfo=UTC)),
        (
            datetime(2026, 6, 1, 14, 30, tzinfo=timezone(timedelta(hours=2))),
            datetime(2026, 6, 1, 12, 30, tzinfo=UTC),
        ),
        (None, None),
    ],
)
def test_utc_reads_what_drivers_return_as_aware_utc(stored, expected):
    found = utc(stored)
    assert found == expected
    if expected is not None:
        assert found.utcoffset() == timedelta(0) and found.tzinfo is UTC
