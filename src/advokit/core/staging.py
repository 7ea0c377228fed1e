"""Rows plugins stage while a batch records, written in bulk when it flushes.

A plugin's effect usually writes a row or two (a badge award, a progress
counter, a leaderboard score). Run one by one, those statements cost far more
than the decision behind them; staged here, they are written with one
``executemany`` per table and shape when the recording transaction flushes,
after the ledger. Staging is journaled like the ledger: an action that is
held or refused halfway takes its staged rows back with it.

Three shapes cover what plugins write:

``insert``
    a new row. With ``unique`` columns, the row must not exist yet: another
    transaction inserting the same key first makes ours run again (the plugin
    then reads that row and decides anew), so a once-only row is written once.
``save``
    a row guarded by its ``version`` column (optimistic concurrency): saved
    several times in one batch, it is written once, updated only if its
    version is still the one first read, and otherwise the transaction runs
    again on what the other one wrote.
``add``
    a counter row: ``totals`` are added to the stored ones (``INSERT .. ON
    CONFLICT DO UPDATE SET n = n + excluded.n``), the other values replace
    theirs. Commutative, so concurrent batches need no retry.
``update``
    new values for the rows matching a key, written after the table's other
    staged rows (so it also reaches rows inserted earlier in the batch);
    ``where_null`` columns must still be NULL (the first revocation stands).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from advokit.core.errors import InvalidValue
from advokit.core.store.database import RetryTransaction
from advokit.core.store.driver import BulkStatement, dialect_insert

__all__ = ["Staging"]

Journal = Callable[[Callable[[], None]], None]


@attrs.define
class _Save:
    key: dict[str, Any]
    values: dict[str, Any]
    read: int


@attrs.define
class _Update:
    key: dict[str, Any]
    values: dict[str, Any]
    where_null: tuple[str, ...]  # columns that must still be NULL


@attrs.define
class _Add:
    key: dict[str, Any]
    totals: dict[str, int]
    values: dict[str, Any]


class Staging:
    """The rows staged in one transaction, by table, in the order first staged."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._tables: dict[str, sa.Table] = {}
        self._inserts: dict[str, dict[Any, dict[str, Any]]] = {}
        self._unique: dict[str, tuple[str, ...] | None] = {}
        self._saves: dict[str, dict[tuple[Any, ...], _Save]] = {}
        # (table, key names) -> (its saves, the key columns in table order)
        self._save_slots: dict[tuple[sa.Table, tuple[str, ...]], tuple[Any, tuple[str, ...]]] = {}
        self._adds: dict[str, dict[tuple[Any, ...], _Add]] = {}
        self._updates: dict[str, dict[tuple[Any, ...], _Update]] = {}
        self._count = 0  # keys of inserts without unique columns

    def __bool__(self) -> bool:
        return bool(self._tables)

    # -- staging

    def insert(
        self, table: sa.Table, row: Mapping[str, Any], unique: Sequence[str] | None = None
    ) -> None:
        rows = self._rows(self._inserts, table)
        columns = _unique_columns(table, tuple(unique)) if unique is not None else None
        if self._unique.setdefault(table.name, columns) != columns:
            raise InvalidValue(
                f"insert into {table.name} unique",
                columns,
                f"the columns its first insert named, {self._unique[table.name]}",
            )
        if columns is None:
            self._count += 1
            key: Any = self._count
        else:
            key = _key(table, row, columns)
            if key in rows:
                raise InvalidValue(
                    f"insert into {table.name}",
                    dict(zip(columns, key, strict=True)),
                    "a row not staged yet in this transaction (update your cache after staging)",
                )
        rows[key] = dict(row)
        self._journal(partial(rows.pop, key))

    def save(
        self,
        table: sa.Table,
        key: Mapping[str, Any],
        values: Mapping[str, Any],
        read: int,
    ) -> None:
        if type(read) is not int or read < 0:
            raise InvalidValue("save read", read, "the version read, 0 when there was no row")
        names = tuple(key)
        slot = self._save_slots.get((table, names))
        if slot is None:  # first save of this table and key shape: check them once
            if not _versioned(table):
                raise InvalidValue("save table", table.name, "a table with a version column")
            columns = _unique_columns(table, names)
            slot = self._save_slots[table, names] = (self._rows(self._saves, table), columns)
        saves, columns = slot
        if columns != names:
            key = {c: key[c] for c in columns}  # one order
        row_key = tuple(key.values())
        before = saves.get(row_key)
        if before is None:
            saves[row_key] = _Save(dict(key), dict(values), read)
            # partials, not closures: a batch keeps thousands; fewer objects, less GC
            self._journal(partial(saves.pop, row_key))
            return
        if before.read != read:
            raise InvalidValue(
                f"save into {table.name} read",
                read,
                f"the version first read in this transaction, {before.read}",
            )
        previous = before.values
        before.values = {**previous, **values}
        self._journal(lambda: setattr(before, "values", previous))

    def add(
        self,
        table: sa.Table,
        key: Mapping[str, Any],
        totals: Mapping[str, int],
        values: Mapping[str, Any] | None = None,
    ) -> None:
        adds = self._rows(self._adds, table)
        key = {c: key[c] for c in _unique_columns(table, tuple(key))}  # one order
        row_key = tuple(key.values())
        before = adds.get(row_key)
        if before is None:
            adds[row_key] = _Add(key, dict(totals), dict(values or {}))
            self._journal(partial(adds.pop, row_key))
            return
        previous = (before.totals, before.values)
        before.totals = {c: before.totals.get(c, 0) + n for c, n in totals.items()} | {
            c: n for c, n in before.totals.items() if c not in totals
        }
        before.values = {**before.values, **(values or {})}

        def undo() -> None:
            before.totals, before.values = previous

        self._journal(undo)

    def update(
        self,
        table: sa.Table,
        key: Mapping[str, Any],
        values: Mapping[str, Any],
        where_null: Sequence[str] = (),
    ) -> None:
        updates = self._rows(self._updates, table)
        guard = tuple(where_null)
        for column in guard:
            if column not in table.c:
                raise InvalidValue(f"update of {table.name} where_null", column, "a column")
        row_key = (tuple(key), guard, *key.values())
        before = updates.get(row_key)
        if before is None:
            updates[row_key] = _Update(dict(key), dict(values), guard)
            self._journal(partial(updates.pop, row_key))
            return
        previous = before.values
        before.values = {**previous, **values}
        self._journal(lambda: setattr(before, "values", previous))

    def _rows(self, store: dict[str, Any], table: sa.Table) -> Any:
        known = self._tables.setdefault(table.name, table)
        if known is not table:
            raise InvalidValue("table", table.name, "one Table object per table name")
        return store.setdefault(table.name, {})

    # -- writing

    def flush(self, conn: Connection, memo: dict[type, dict[datetime, Any]]) -> None:
        """Write every staged row; RetryTransaction when another transaction got there first."""
        # per table: updates last, so that they reach rows inserted in the batch
        steps = (
            (self._saves, self._flush_saves),
            (self._inserts, self._flush_inserts),
            (self._adds, self._flush_adds),
            (self._updates, self._flush_updates),
        )
        for name, table in self._tables.items():
            for store, write in steps:
                staged = store.get(name)
                if staged:
                    write(conn, table, staged, memo)

    def _flush_inserts(
        self, conn: Connection, table: sa.Table, inserts: dict[Any, dict[str, Any]], memo: Any
    ) -> None:
        rows = list(inserts.values())
        unique = self._unique[table.name]
        if unique is not None:
            rows = [row for _, row in _in_key_order(inserts)]  # one lock order
        for columns, group in _by_columns(rows).items():

            def build(columns: tuple[str, ...] = columns) -> BulkStatement:
                statement: Any = table.insert()
                if unique is not None:
                    statement = dialect_insert(conn, table).on_conflict_do_nothing(
                        index_elements=list(unique)
                    )
                return BulkStatement(conn, statement, column_keys=columns)

            statement = BulkStatement.cached(conn, ("stage-insert", table, unique, columns), build)
            _check_defaults(statement, table, columns)
            written = statement.run(conn, group, memo)
            if unique is not None and written != len(group):
                raise RetryTransaction  # another transaction inserted one of these keys

    def _flush_saves(
        self, conn: Connection, table: sa.Table, saves: dict[tuple[Any, ...], _Save], memo: Any
    ) -> None:
        new: dict[tuple[tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]] = {}
        # (key columns, value columns) -> (the UPDATE's bind names, its rows in their order)
        updates: dict[tuple[tuple[str, ...], tuple[str, ...]], Any] = {}
        for _, s in _in_key_order(saves):  # one lock order in every transaction
            if s.read == 0:
                row = {**s.key, **s.values, "version": 1}
                new.setdefault((tuple(s.key), tuple(row)), []).append(row)
            else:
                shape = (tuple(s.key), tuple(s.values))
                group = updates.get(shape)
                if group is None:
                    group = updates[shape] = (_update_names(*shape, versioned=True), [])
                group[1].append((*s.key.values(), *s.values.values(), s.read))
        for (key_columns, columns), group in new.items():

            def build_insert(
                key_columns: tuple[str, ...] = key_columns, columns: tuple[str, ...] = columns
            ) -> BulkStatement:
                statement = dialect_insert(conn, table).on_conflict_do_nothing(
                    index_elements=list(key_columns)
                )
                return BulkStatement(conn, statement, column_keys=columns)

            shape = ("stage-save-new", table, key_columns, columns)
            statement = BulkStatement.cached(conn, shape, build_insert)
            _check_defaults(statement, table, columns)
            if statement.run(conn, group, memo) != len(group):
                raise RetryTransaction  # created meanwhile by another transaction
        for (key_columns, value_columns), (names, group) in updates.items():
            statement = _update(conn, table, key_columns, value_columns, versioned=True)
            if statement.run(conn, group, memo, order=names) != len(group):
                raise RetryTransaction  # changed meanwhile by another transaction

    def _flush_adds(self, conn: Connection, table: sa.Table, adds: Any, memo: Any) -> None:
        shapes: dict[tuple[tuple[str, ...], ...], list[dict[str, Any]]] = {}
        for _, a in _in_key_order(adds):  # one lock order in every transaction
            shape = (tuple(a.key), tuple(a.totals), tuple(a.values))
            shapes.setdefault(shape, []).append({**a.key, **a.totals, **a.values})
        for (key_columns, total_columns, value_columns), group in shapes.items():

            def build(
                key_columns: tuple[str, ...] = key_columns,
                total_columns: tuple[str, ...] = total_columns,
                value_columns: tuple[str, ...] = value_columns,
            ) -> BulkStatement:
                insert = dialect_insert(conn, table)
                statement = insert.on_conflict_do_update(
                    index_elements=list(key_columns),
                    set_={c: table.c[c] + insert.excluded[c] for c in total_columns}
                    | {c: insert.excluded[c] for c in value_columns},
                )
                columns = (*key_columns, *total_columns, *value_columns)
                return BulkStatement(conn, statement, column_keys=columns)

            shape = ("stage-add", table, key_columns, total_columns, value_columns)
            statement = BulkStatement.cached(conn, shape, build)
            statement.run(conn, group, memo)

    def _flush_updates(self, conn: Connection, table: sa.Table, updates: Any, memo: Any) -> None:
        shapes: dict[tuple[tuple[str, ...], ...], list[dict[str, Any]]] = {}
        for _, u in _in_key_order(updates):
            shape = (tuple(u.key), tuple(u.values), u.where_null)
            names = _update_names(*shape[:2], versioned=False)
            shapes.setdefault(shape, []).append(
                dict(zip(names, (*u.key.values(), *u.values.values()), strict=True))
            )
        for (key_columns, value_columns, where_null), group in shapes.items():
            statement = _update(
                conn, table, key_columns, value_columns, versioned=False, where_null=where_null
            )
            statement.run(conn, group, memo)


def _update(
    conn: Connection,
    table: sa.Table,
    key_columns: tuple[str, ...],
    value_columns: tuple[str, ...],
    *,
    versioned: bool,
    where_null: tuple[str, ...] = (),
) -> BulkStatement:
    """UPDATE ``value_columns`` WHERE ``key_columns`` (and, versioned, the version read)."""

    def build() -> BulkStatement:
        c = table.c
        where = [c[k] == sa.bindparam(f"k_{k}", type_=c[k].type) for k in key_columns]
        where.extend(c[n].is_(None) for n in where_null)
        values: dict[str, Any] = {v: sa.bindparam(f"v_{v}", type_=c[v].type) for v in value_columns}
        if versioned:
            where.append(c.version == sa.bindparam("read_version", type_=c.version.type))
            values["version"] = c.version + sa.literal_column("1", sa.Integer)
        return BulkStatement(conn, table.update().where(*where).values(values))

    shape = ("stage-update", table, key_columns, value_columns, versioned, where_null)
    return BulkStatement.cached(conn, shape, build)


def _key(table: sa.Table, row: Mapping[str, Any], columns: tuple[str, ...]) -> tuple[Any, ...]:
    try:
        return tuple(row[c] for c in columns)
    except KeyError as missing:
        raise InvalidValue(
            f"row for {table.name}", dict(row), f"a value for column {missing.args[0]!r}"
        ) from None


@functools.cache
def _keys_of(table: sa.Table) -> frozenset[frozenset[str]]:
    """The column sets ``table`` keeps unique: its primary key and unique constraints."""
    keys = {frozenset(c.name for c in table.primary_key.columns)}
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            keys.add(frozenset(c.name for c in constraint.columns))
    keys.update(frozenset(c.name for c in index.columns) for index in table.indexes if index.unique)
    return frozenset(keys)


@functools.cache
def _versioned(table: sa.Table) -> bool:
    return "version" in table.c


@functools.cache
def _unique_columns(table: sa.Table, columns: tuple[str, ...]) -> tuple[str, ...]:
    """``columns`` in the table's order, if they are a key of ``table`` (``ON CONFLICT``'s)."""
    if frozenset(columns) not in _keys_of(table):
        raise InvalidValue(
            f"key of {table.name}",
            columns,
            "the columns of its primary key or of a unique constraint, "
            + " or ".join(str(sorted(k)) for k in sorted(_keys_of(table), key=sorted)),
        )
    return tuple(c.name for c in table.columns if c.name in columns)


def _by_columns(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return groups


def _in_key_order(rows: dict[Any, Any]) -> list[tuple[Any, Any]]:
    """``rows.items()`` sorted by key (stored key tuples), as staged if they do not compare."""
    try:
        return sorted(rows.items(), key=operator.itemgetter(0))
    except TypeError:  # a None or mixed types in a key: no order to keep
        return list(rows.items())


@functools.cache
def _update_names(
    key: tuple[str, ...], values: tuple[str, ...], *, versioned: bool
) -> tuple[str, ...]:
    """The bind names of an UPDATE (:func:`_update`), in the order rows give their values."""
    names = (*(f"k_{c}" for c in key), *(f"v_{c}" for c in values))
    return (*names, "read_version") if versioned else names


def _check_defaults(statement: BulkStatement, table: sa.Table, columns: tuple[str, ...]) -> None:
    """Refuse rows that leave out a column SQLAlchemy fills on the Python side."""
    missing = [n for n in statement.names if n not in columns]
    if missing:
        raise InvalidValue(
            f"row for {table.name}", columns, f"values for every column, including {missing}"
        )
