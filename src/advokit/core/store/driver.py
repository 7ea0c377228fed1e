"""Hot-path SQL, run on the DBAPI connection underneath a SQLAlchemy Connection.

``record()`` runs about seven statements per call. Measured on SQLite (2-CPU
VM), one small select costs: built with SQLAlchemy Core per call ~200 µs,
prebuilt ~40-65 µs, ``exec_driver_sql`` ~27 µs, the DBAPI cursor ~3 µs. The few
statements every recorded action runs are therefore written here once per
dialect and executed on the driver's cursor; everything else keeps using
SQLAlchemy.

They run on the very DBAPI connection of the caller's SQLAlchemy
``Connection``, inside the transaction it began, so they commit and roll back
with it. Templates use ``?`` placeholders and at most one list parameter,
written ``IN (*)`` and passed last: SQLite gets ``IN (?, ?, ...)``, PostgreSQL
``= ANY(%s)`` with an array.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable, Collection, Hashable, Sequence
from datetime import datetime
from typing import Any, ClassVar, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from advokit.core.errors import ConfigurationError

__all__ = [
    "BulkStatement",
    "Recorded",
    "advocate_ids",
    "advocates_and_balances",
    "balances",
    "bulk_insert",
    "cursor",
    "dialect_insert",
    "fetch",
    "json_value",
    "recorded_actions",
    "upsert_balances",
]

#: Items per list parameter: below SQLite's limit of bound parameters.
CHUNK = 2000


#: The statements every recording transaction runs (benchmarks time them bare).
ADVOCATES_AND_BALANCES = (
    "SELECT a.external_id, a.id, b.balance, b.earned FROM advokit_advocates a"
    " LEFT JOIN advokit_balances b ON b.advocate_id = a.id AND b.account = ?"
    " WHERE a.program = ? AND a.external_id IN (*)"
)
UPSERT_BALANCE = (
    "INSERT INTO advokit_balances (advocate_id, account, program, balance, earned)"
    " VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (advocate_id, account) DO UPDATE SET"
    " balance = advokit_balances.balance + excluded.balance,"
    " earned = advokit_balances.earned + excluded.earned"
)
RECORDED_ACTIONS = (
    "SELECT x.key, x.kind, x.fingerprint, x.status, x.reasons, x.effects, a.external_id"
    " FROM advokit_actions x JOIN advokit_advocates a ON a.id = x.advocate_id"
    " WHERE x.program = ? AND x.key IN (*)"
)


def cursor(conn: Connection) -> Any:
    """A DBAPI cursor on ``conn``'s connection, inside its transaction."""
    return conn.connection.cursor()


@functools.lru_cache(maxsize=512)
def render(template: str, dialect: str, size: int = 0) -> str:
    """The template in ``dialect``'s paramstyle, its list parameter ``size`` long."""
    if dialect == "postgresql":
        return template.replace("IN (*)", "= ANY(?)").replace("?", "%s")
    return template.replace("(*)", "(" + ", ".join("?" * size) + ")")


def fetch(
    conn: Connection, template: str, params: Sequence[Any], items: Collection[Any]
) -> list[Any]:
    """Rows of ``template`` for every item of the list parameter, in chunks.

    ``template`` uses ``?`` placeholders for ``params`` and ``IN (*)`` for
    ``items`` (see the module docstring). Rows are the driver's tuples, with no
    type processing: read datetimes with :func:`advokit.core.store.types.utc`
    and JSON with :func:`json_value`. What a ``View.memo`` loader should use: a
    batch's read costs a few microseconds a row, about a quarter of a
    SQLAlchemy ``select``.
    """
    dialect = conn.dialect.name
    cur = cursor(conn)
    rows: list[Any] = []
    try:
        values = sorted(items)  # sorted: the same lock order in every transaction
        for start in range(0, len(values), CHUNK):
            part = values[start : start + CHUNK]
            if dialect == "postgresql":
                cur.execute(render(template, dialect), (*params, part))
            else:
                cur.execute(render(template, dialect, len(part)), (*params, *part))
            rows.extend(cur.fetchall())
    finally:
        cur.close()
    return rows


def advocate_ids(conn: Connection, program: str, external_ids: Collection[str]) -> dict[str, int]:
    """Map external ids to row ids; unknown ids are left out."""
    return dict(
        fetch(
            conn,
            "SELECT external_id, id FROM advokit_advocates"
            " WHERE program = ? AND external_id IN (*)",
            (program,),
            external_ids,
        )
    )


def advocates_and_balances(
    conn: Connection, program: str, external_ids: Collection[str], account: str
) -> tuple[dict[str, int], dict[int, tuple[int, int]]]:
    """Row ids of known advocates and their stored ``(balance, earned)`` on ``account``.

    One statement for what every recording transaction reads first; advocates
    without a balance row on the account are left out of the second mapping.
    """
    ids: dict[str, int] = {}
    stored: dict[int, tuple[int, int]] = {}
    for external_id, row_id, balance, earned in fetch(
        conn,
        ADVOCATES_AND_BALANCES,
        (account, program),
        external_ids,
    ):
        ids[external_id] = row_id
        if balance is not None:
            stored[row_id] = (int(balance), int(earned))
    return ids, stored


class Recorded(NamedTuple):
    """An action recorded earlier, as far as replaying its outcome needs."""

    key: str
    kind: str
    fingerprint: str
    status: str
    reasons: list[str]
    effects: list[Any]
    external_id: str


def json_value(value: Any) -> Any:
    """A JSON column's value as :func:`fetch` returns it, decoded.

    SQLite hands JSON columns back as text; psycopg has already decoded them.
    """
    return json.loads(value) if isinstance(value, str) else value


def recorded_actions(conn: Connection, program: str, keys: Collection[str]) -> dict[str, Recorded]:
    """The actions already recorded under ``keys``."""
    rows = fetch(
        conn,
        RECORDED_ACTIONS,
        (program,),
        keys,
    )
    return {
        key: Recorded(key, kind, fp, status, json_value(reasons), json_value(effects), external_id)
        for key, kind, fp, status, reasons, effects, external_id in rows
    }


def balances(
    conn: Connection, ids: Collection[int], account: str, *, lock: bool = False
) -> dict[int, tuple[int, int]]:
    """``{advocate_id: (balance, earned)}`` for advocates that have a balance row.

    ``lock`` takes the rows' locks in id order on PostgreSQL (``FOR UPDATE``);
    SQLite needs none, its ``BEGIN IMMEDIATE`` already makes the writer alone.
    """
    template = (
        "SELECT advocate_id, balance, earned FROM advokit_balances"
        " WHERE account = ? AND advocate_id IN (*)"
    )
    if lock and conn.dialect.name == "postgresql":
        template += " ORDER BY advocate_id FOR UPDATE"
    return {
        advocate_id: (int(balance), int(earned))
        for advocate_id, balance, earned in fetch(conn, template, (account,), ids)
    }


def upsert_balances(conn: Connection, rows: Sequence[tuple[int, str, str, int, int]]) -> None:
    """Add ``(advocate_id, account, program, balance delta, earned delta)`` to the balances."""
    cur = cursor(conn)
    try:
        cur.executemany(render(UPSERT_BALANCE, conn.dialect.name), rows)
    finally:
        cur.close()


def dialect_insert(conn: Connection, table: sa.Table) -> Any:
    """A SQLAlchemy INSERT that supports ``ON CONFLICT`` on this connection's database."""
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise ConfigurationError("database_url", name, "a sqlite or postgresql database")


class BulkStatement:
    """A statement run for many rows with the driver's ``executemany``.

    The SQL and the bind processors (UTCDateTime, JSON) are SQLAlchemy's,
    compiled once per dialect and statement shape; SQLAlchemy's per-row
    parameter handling, which cost more than the database's own work, is
    skipped. Rows are dicts keyed by bind name (an INSERT's are its column
    names); names in ``serialized`` already hold JSON text.
    """

    _cache: ClassVar[dict[Hashable, BulkStatement]] = {}

    def __init__(
        self,
        conn: Connection,
        statement: Any,
        *,
        column_keys: Sequence[str] | None = None,
        serialized: frozenset[str] = frozenset(),
    ) -> None:
        dialect = conn.dialect
        compiled = statement.compile(
            dialect=dialect, column_keys=list(column_keys) if column_keys is not None else None
        )
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        self.names = list(compiled.positiontup or []) if self.positional else list(compiled.binds)
        names = self.names
        self.values_of: Callable[[Any], Sequence[Any]] = _getter(names)
        self._orders: dict[tuple[str, ...], Callable[[Any], Sequence[Any]]] = {}
        # (position, processor, the bind's type: datetimes are memoized per type)
        self.processors = []
        for i, name in enumerate(names):
            bind_type = compiled.binds[name].type
            processor = bind_type.dialect_impl(dialect).bind_processor(dialect)
            if name not in serialized and processor is not None:
                self.processors.append((i, processor, type(bind_type)))

    @classmethod
    def cached(
        cls, conn: Connection, shape: Hashable, build: Callable[[], BulkStatement]
    ) -> BulkStatement:
        """The statement built once per dialect and ``shape`` (a hashable description)."""
        key = (conn.dialect.name, shape)
        found = cls._cache.get(key)
        if found is None:
            found = cls._cache[key] = build()
        return found

    def run(
        self,
        conn: Connection,
        rows: Sequence[Any],
        memo: dict[type, dict[datetime, Any]] | None = None,
        *,
        order: tuple[str, ...] | None = None,
    ) -> int:
        """Run the statement once per row; returns the rows it changed in all.

        Rows are dicts keyed by bind name, or, with ``order``, sequences of
        the values of those bind names in that order (cheaper to build).
        (An INSERT's conflicts ignored or an UPDATE's unmatched WHERE count
        0.) ``memo`` keeps converted datetimes per column type: a transaction
        repeats a few timestamps (its "now") in every row of every table it
        writes.
        """
        memo = {} if memo is None else memo
        processors = [
            (i, process, memo.setdefault(group, {})) for i, process, group in self.processors
        ]
        values_of, positional, names = self.values_of, self.positional, self.names
        if order is not None:
            values_of = self._orders.get(order)  # type: ignore[assignment]
            if values_of is None:
                values_of = self._orders[order] = _getter([order.index(n) for n in names])
        converted: list[Any] = []
        for row in rows:
            values = list(values_of(row))
            for i, process, known in processors:
                value = values[i]
                if value is None:
                    continue
                if type(value) is datetime:
                    text = known.get(value)
                    if text is None:
                        text = known[value] = process(value)
                    values[i] = text
                else:
                    values[i] = process(value)
            converted.append(values if positional else dict(zip(names, values, strict=True)))
        cur = cursor(conn)
        try:
            cur.executemany(self.sql, converted)
            return int(cur.rowcount)
        finally:
            cur.close()


def _getter(keys: Sequence[Any]) -> Callable[[Any], Sequence[Any]]:
    """``row -> (row[k] for k in keys)``, as a tuple (itemgetter returns a bare item for one)."""
    if len(keys) == 1:
        only = keys[0]
        return lambda row: (row[only],)
    return operator.itemgetter(*keys)


def bulk_insert(
    conn: Connection,
    table: sa.Table,
    *,
    ignore_conflicts: bool = False,
    serialized: frozenset[str] = frozenset(),
) -> BulkStatement:
    """The INSERT of whole rows (every column but the autoincrement id) into ``table``.

    ``ignore_conflicts``: ``ON CONFLICT DO NOTHING`` on its unique constraint
    (the caller compares the count :meth:`BulkStatement.run` returns).
    """

    def build() -> BulkStatement:
        statement: Any = dialect_insert(conn, table) if ignore_conflicts else table.insert()
        if ignore_conflicts:
            unique = next(c for c in table.constraints if isinstance(c, sa.UniqueConstraint))
            statement = statement.on_conflict_do_nothing(
                index_elements=[c.name for c in unique.columns]
            )
        columns = [c.key for c in table.columns if c is not table.autoincrement_column]
        return BulkStatement(conn, statement, column_keys=columns, serialized=serialized)

    shape = ("insert", table.name, ignore_conflicts, serialized)
    return BulkStatement.cached(conn, shape, build)
