"""Reading reward rows and moving them, shared by the plugin's decisions and its worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from advokit import Reward
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.types import utc
from advokit.plugins.rewards.model import IssuedReward, RewardState
from advokit.plugins.rewards.tables import rewards_t, transitions_t

__all__ = ["ADVOKIT", "issued_rewards", "move_row", "transition"]

ADVOKIT = "advokit"  # the actor of the moves the plugin makes itself


def move_row(
    conn: Connection,
    program: str,
    key: str,
    before: RewardState,
    after: RewardState,
    at: datetime,
    actor: str,
    reason: str,
    **values: Any,
) -> None:
    """Move the reward row from ``before`` to ``after`` (setting ``values``) and keep the move.

    Only if it is still ``before``: moved meanwhile (a person, a reversal, a
    worker), the transaction runs again and decides on what the reward is then.
    """
    r = rewards_t
    moved = conn.execute(
        r.update()
        .where(r.c.program == program, r.c.key == key, r.c.state == before.value)
        .values(state=after.value, updated_at=at, **values)
    ).rowcount
    if moved != 1:
        raise database.RetryTransaction
    conn.execute(transitions_t.insert(), transition(program, key, before, after, at, actor, reason))


def transition(
    program: str,
    key: str,
    before: RewardState | None,
    after: RewardState,
    at: datetime,
    actor: str,
    reason: str,
) -> dict[str, Any]:
    """A ``rewards_transitions`` row."""
    return {
        "program": program,
        "reward_key": key,
        "before": None if before is None else before.value,
        "after": after.value,
        "at": at,
        "actor": actor,
        "reason": reason,
    }


def issued_rewards(
    conn: Connection, program: str, *where: Any, limit: int | None = None
) -> list[IssuedReward]:
    """The program's rewards matching ``where``, oldest first (the first ``limit``)."""
    r, a = rewards_t, q.advocates_t
    rows = conn.execute(
        sa.select(r, a.c.external_id)
        .join(a, a.c.id == r.c.advocate_id)
        .where(r.c.program == program, *where)
        .order_by(r.c.id)
        .limit(limit)
    ).all()
    return [
        IssuedReward(
            key=row.key,
            advocate=row.external_id,
            reward=Reward(
                kind=row.kind,
                amount=row.amount,
                currency=row.currency,
                description=row.description,
                data=row.data,
            ),
            state=RewardState(row.state),
            cause=row.cause,
            item=row.item,
            created_at=utc(row.created_at),  # type: ignore[arg-type]
            updated_at=utc(row.updated_at),  # type: ignore[arg-type]
            attempts=row.attempts,
            result=row.result,
            error=row.error,
            next_attempt_at=utc(row.next_attempt_at),
            reversal=row.reversal,
        )
        for row in rows
    ]
