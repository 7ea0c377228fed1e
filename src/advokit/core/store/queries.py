"""The reads the engine and the view need, each batched over many advocates.

Every function takes a connection inside the caller's transaction and returns
plain Python values keyed by advocate id, so one statement serves a whole batch
of actions. The reads every recorded action runs are in
:mod:`advokit.core.store.driver`, re-exported here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from advokit.core.errors import UnknownAdvocate
from advokit.core.model import Advocate, Consent, Outcome
from advokit.core.store.driver import (
    advocate_ids,
    advocates_and_balances,
    balances,
    dialect_insert,
    recorded_actions,
)
from advokit.core.store.tables import (
    ActionRow,
    AdvocateRow,
    BalanceRow,
    LedgerEntryRow,
    LotRow,
    ReviewRow,
    TagRow,
)

__all__ = [
    "advocate_from_row",
    "advocate_ids",
    "advocate_row",
    "advocate_row_id",
    "advocates",
    "advocates_and_balances",
    "balances",
    "chunks",
    "decide_held",
    "earned_between",
    "expired_lots",
    "last_award_at",
    "lots",
    "recorded_actions",
    "reversal_totals",
    "tags",
    "timezones",
    "upsert_advocates",
]

advocates_t: sa.Table = AdvocateRow.__table__  # type: ignore[attr-defined]
actions_t: sa.Table = ActionRow.__table__  # type: ignore[attr-defined]
entries_t: sa.Table = LedgerEntryRow.__table__  # type: ignore[attr-defined]
balances_t: sa.Table = BalanceRow.__table__  # type: ignore[attr-defined]
lots_t: sa.Table = LotRow.__table__  # type: ignore[attr-defined]
tags_t: sa.Table = TagRow.__table__  # type: ignore[attr-defined]
reviews_t: sa.Table = ReviewRow.__table__  # type: ignore[attr-defined]

#: IN-lists are split so that no statement exceeds SQLite's parameter limit.
CHUNK = 2000
T = TypeVar("T")


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def advocate_row_id(conn: Connection, program: str, external_id: str) -> int:
    """The row id of an enrolled advocate; raises UnknownAdvocate otherwise."""
    ids = advocate_ids(conn, program, [external_id])
    if external_id not in ids:
        raise UnknownAdvocate(external_id, program)
    return ids[external_id]


def advocate_from_row(row: Any) -> Advocate:
    return Advocate(
        external_id=row.external_id,
        kind=row.kind,
        name=row.name,
        email=row.email,
        phone=row.phone,
        slack_id=row.slack_id,
        locale=row.locale,
        timezone=row.timezone,
        attributes=row.attributes,
        consent={k: Consent.from_json(c) for k, c in row.consent.items()},
    )


def advocate_row(program: str, advocate: Advocate, now: datetime) -> dict[str, Any]:
    """The advocates-table row of ``advocate``, enrolled (or updated) at ``now``."""
    return {
        "program": program,
        "external_id": advocate.external_id,
        "kind": advocate.kind.value,
        "name": advocate.name,
        "email": advocate.email,
        "phone": advocate.phone,
        "slack_id": advocate.slack_id,
        "locale": advocate.locale,
        "timezone": advocate.timezone,
        "attributes": dict(advocate.attributes),
        "consent": {k: c.to_json() for k, c in advocate.consent.items()},
        "enrolled_at": now,
        "updated_at": now,
    }


def upsert_advocates(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert :func:`advocate_row` rows; an advocate already enrolled is updated
    (all but its ``enrolled_at``)."""
    if not rows:
        return
    insert = dialect_insert(conn, advocates_t)
    updated = {
        name: getattr(insert.excluded, name)
        for name in rows[0]
        if name not in ("program", "external_id", "enrolled_at")
    }
    statement = insert.on_conflict_do_update(
        index_elements=["program", "external_id"], set_=updated
    )
    # sorted: the same lock order in every transaction
    for part in chunks(sorted(rows, key=lambda r: r["external_id"]), 5000):
        conn.execute(statement, part)


def advocates(conn: Connection, ids: Collection[int]) -> dict[int, Advocate]:
    t = advocates_t
    found = {}
    for part in chunks(ids):
        for row in conn.execute(sa.select(t).where(t.c.id.in_(part))):
            found[row.id] = advocate_from_row(row)
    return found


def timezones(conn: Connection, ids: Collection[int]) -> dict[int, str]:
    t = advocates_t
    found: dict[int, str] = {}
    for part in chunks(ids):
        found.update(conn.execute(sa.select(t.c.id, t.c.timezone).where(t.c.id.in_(part))).all())  # type: ignore[arg-type]
    return found


def earned_between(
    conn: Connection,
    ids: Collection[int],
    account: str,
    since: datetime,
    until: datetime,
    reasons: frozenset[str] | None,
    *,
    net: bool = False,
) -> dict[int, int]:
    """Points awarded in ``[since, until)``, optionally only for some reason codes.

    ``net`` subtracts the reversals made in the window.
    """
    t = entries_t
    found = {}
    for part in chunks(ids):
        query = (
            sa.select(t.c.advocate_id, sa.func.sum(t.c.delta))
            .where(
                t.c.advocate_id.in_(part),
                t.c.account == account,
                t.c.type.in_(("award", "reverse")) if net else t.c.type == "award",
                t.c.effective_at >= since,
                t.c.effective_at < until,
            )
            .group_by(t.c.advocate_id)
        )
        if reasons is not None:
            query = query.where(t.c.reason.in_(sorted(reasons)))
        found.update((a, int(total or 0)) for a, total in conn.execute(query))
    return found


def last_award_at(
    conn: Connection, ids: Collection[int], account: str, reason: str
) -> dict[int, datetime]:
    t = entries_t
    found = {}
    for part in chunks(ids):
        query = (
            sa.select(t.c.advocate_id, sa.func.max(t.c.effective_at))
            .where(
                t.c.advocate_id.in_(part),
                t.c.account == account,
                t.c.type == "award",
                t.c.reason == reason,
            )
            .group_by(t.c.advocate_id)
        )
        # max() keeps the column's type, so UTCDateTime makes the result aware
        found.update((a, when) for a, when in conn.execute(query))
    return found


def tags(conn: Connection, ids: Collection[int]) -> dict[int, set[str]]:
    t = tags_t
    found: dict[int, set[str]] = {}
    for part in chunks(ids):
        for advocate_id, tag in conn.execute(
            sa.select(t.c.advocate_id, t.c.tag).where(t.c.advocate_id.in_(part))
        ):
            found.setdefault(advocate_id, set()).add(tag)
    return found


def lots(
    conn: Connection, advocate_id: int, account: str, *, lock: bool = False
) -> list[tuple[str, int, datetime, str | None]]:
    """Open lots of one account, soonest expiry first: ``(id, remaining, expires_at, action)``."""
    t = lots_t
    query = (
        sa.select(t.c.id, t.c.remaining, t.c.expires_at, t.c.action_key)
        .where(t.c.advocate_id == advocate_id, t.c.account == account, t.c.remaining > 0)
        .order_by(t.c.expires_at, t.c.id)
    )
    if lock:
        query = query.with_for_update()
    return [tuple(row) for row in conn.execute(query)]  # type: ignore[misc]


def reversal_totals(
    conn: Connection, program: str, advocate_id: int, account: str, action_key: str
) -> tuple[int, int]:
    """``(awarded, already_reversed)`` by the action ``action_key`` on one account."""
    t = entries_t
    awarded = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(t.c.delta), 0)).where(
            t.c.program == program,
            t.c.action_key == action_key,
            t.c.advocate_id == advocate_id,
            t.c.account == account,
            t.c.type == "award",
        )
    ).scalar_one()
    reversed_ = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(t.c.delta), 0)).where(
            t.c.advocate_id == advocate_id,
            t.c.account == account,
            t.c.type == "reverse",
            t.c.related_action_key == action_key,
        )
    ).scalar_one()
    return int(awarded), -int(reversed_)


def expired_lots(conn: Connection, program: str, now: datetime, limit: int) -> Sequence[Any]:
    t = lots_t
    return conn.execute(
        sa.select(t.c.id, t.c.advocate_id, t.c.account, t.c.remaining, t.c.expires_at)
        .where(t.c.program == program, t.c.expires_at <= now, t.c.remaining > 0)
        .order_by(t.c.advocate_id, t.c.account, t.c.expires_at)
        .limit(limit)
    ).all()


def decide_held(conn: Connection, program: str, key: str, outcome: Outcome) -> bool:
    """Store a reviewer's outcome of a held action; False if it was no longer held.

    The guard on the status makes two concurrent decisions on one action
    resolve to one: the second updates nothing and must roll back.
    """
    from advokit.core.codec import encode_effect

    t = actions_t
    result = conn.execute(
        t.update()
        .where(t.c.program == program, t.c.key == key, t.c.status == "held")
        .values(
            status=outcome.status.value,
            reasons=list(outcome.reasons),
            effects=[encode_effect(e) for e in outcome.effects],
        )
    )
    return bool(result.rowcount == 1)
