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
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection

__all__ = ["Recorded", "advocate_ids", "balances", "cursor", "recorded_actions", "upsert_balances"]

#: Items per list parameter: below SQLite's limit of bound parameters.
CHUNK = 2000


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
    """Rows of ``template`` for every item of the list parameter, in chunks."""
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


class Recorded(NamedTuple):
    """An action recorded earlier, as far as replaying its outcome needs."""

    key: str
    kind: str
    fingerprint: str
    status: str
    reasons: list[str]
    effects: list[Any]
    external_id: str


def _json(value: Any) -> Any:
    # SQLite hands JSON columns back as text; psycopg has already decoded them
    return json.loads(value) if isinstance(value, str) else value


def recorded_actions(conn: Connection, program: str, keys: Collection[str]) -> dict[str, Recorded]:
    """The actions already recorded under ``keys``."""
    rows = fetch(
        conn,
        "SELECT x.key, x.kind, x.fingerprint, x.status, x.reasons, x.effects, a.external_id"
        " FROM advokit_actions x JOIN advokit_advocates a ON a.id = x.advocate_id"
        " WHERE x.program = ? AND x.key IN (*)",
        (program,),
        keys,
    )
    return {
        key: Recorded(key, kind, fp, status, _json(reasons), _json(effects), external_id)
        for key, kind, fp, status, reasons, effects, external_id in rows
    }


def balances(
    conn: Connection, ids: Collection[int], account: str, *, lock: bool = False
) -> dict[int, tuple[int, int]]:
    """``{advocate_id: (balance, earned)}`` for advocates that have a balance row.

    ``lock`` takes the rows' locks (PostgreSQL ``FOR UPDATE``), in id order.
    """
    template = (
        "SELECT advocate_id, balance, earned FROM advokit_balances"
        " WHERE account = ? AND advocate_id IN (*)"
    )
    if lock:
        template += " ORDER BY advocate_id FOR UPDATE"
    return {
        advocate_id: (int(balance), int(earned))
        for advocate_id, balance, earned in fetch(conn, template, (account,), ids)
    }


_UPSERT_BALANCE = (
    "INSERT INTO advokit_balances (advocate_id, account, program, balance, earned)"
    " VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (advocate_id, account) DO UPDATE SET"
    " balance = advokit_balances.balance + excluded.balance,"
    " earned = advokit_balances.earned + excluded.earned"
)


def upsert_balances(conn: Connection, rows: Sequence[tuple[int, str, str, int, int]]) -> None:
    """Add ``(advocate_id, account, program, balance delta, earned delta)`` to the balances."""
    cur = cursor(conn)
    try:
        cur.executemany(render(_UPSERT_BALANCE, conn.dialect.name), rows)
    finally:
        cur.close()
