"""Reversal by the fulfiller: what was paid for a reward later reversed, undone once.

A refund (``ReverseRewards``) moves a fulfilled reward to ``reversed`` in the
refund's own transaction; what was paid may still be out there (store credit
not spent yet, a gift card not redeemed yet). When the fulfiller of the
reward's kind has a ``reverse(program, reward)`` operation, that transaction
also makes the reversal due (``next_attempt_at``, attempts from 0), and the
worker calls it after commit, the way it calls ``fulfil``:

* claimed with a lease in ``claimed_until`` (the reward stays ``reversed``);
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that workers share the work;
* done -> the answer is kept as ``result["reversal"]``, nothing is due;
* :class:`~advokit.plugins.rewards.fulfilment.RetryLater` or any other error
  -> due again after ``Retry-After`` or the backoff;
* :class:`~advokit.plugins.rewards.fulfilment.FulfilmentFailed`, or the
  attempts ran out -> given up: nothing is due, ``error`` says why, and
  ``advokit_on_fulfilment_error`` is called; ``program.retry_reward`` makes
  it due again.

A worker that dies leaves its lease to lapse and the next one calls
``reverse`` again for the same reward: a reverse operation is idempotent by
``reward.key``, as ``fulfil`` is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from advokit.core.retries import span
from advokit.core.store import database
from advokit.plugins.rewards.fulfilment import (
    Claim,
    Fulfilment,
    FulfilmentReport,
    Tried,
    observe,
)
from advokit.plugins.rewards.model import IssuedReward, RewardState
from advokit.plugins.rewards.rows import ADVOKIT, issued_rewards, transition
from advokit.plugins.rewards.tables import rewards_t, transitions_t

if TYPE_CHECKING:
    from advokit.core.program import Program

__all__ = ["claim_reversals", "settle_reversals"]

#: literally the partial index's condition (SQLite uses it only for this text)
_DUE = sa.text("state = 'reversed' AND next_attempt_at IS NOT NULL")
_REVERSED = RewardState.REVERSED


def claim_reversals(
    program: Program, settings: Fulfilment, kinds: Sequence[str] | None, size: int
) -> tuple[list[Claim], list[tuple[IssuedReward, BaseException]]]:
    """Take up to ``size`` due reversals (of ``kinds``; None: every kind): leased, one
    more attempt; committed.

    A lapsed claim out of attempts (its workers kept dying on it) is given up
    instead: the second list, to observe.
    """
    r = rewards_t
    now = program.clock()
    with database.transaction(program.engine) as conn:
        rows = conn.execute(
            sa.select(r.c.id, r.c.key, r.c.attempts)
            .where(
                r.c.program == program.name,
                _DUE,
                r.c.next_attempt_at <= now,
                sa.true() if kinds is None else r.c.kind.in_(kinds),
                sa.or_(r.c.claimed_until.is_(None), r.c.claimed_until < now),
            )
            .order_by(r.c.next_attempt_at, r.c.id)
            .limit(size)
            .with_for_update(skip_locked=True)
        ).all()
        spent = [row for row in rows if row.attempts >= settings.max_attempts]
        rows = [row for row in rows if row.attempts < settings.max_attempts]
        dead: list[tuple[IssuedReward, BaseException]] = []
        if spent:
            reason = "reversal gave up after {} attempts: the worker died or overran its lease"
            given_up = [{"k": row.key, "error": reason.format(row.attempts)} for row in spent]
            conn.execute(_give_up_statement(program.name, now), given_up)
            conn.execute(
                transitions_t.insert(),
                [_move(program.name, one["k"], now, one["error"]) for one in given_up],
            )
            failed = issued_rewards(conn, program.name, r.c.id.in_([row.id for row in spent]))
            dead = [(reward, RuntimeError(reward.error)) for reward in failed]
        if not rows:
            return [], dead
        until = settings.leases(now, [row.id for row in rows])
        conn.execute(
            r.update()
            .where(r.c.id == sa.bindparam("row"))
            .values(
                claimed_until=sa.bindparam("until", type_=r.c.claimed_until.type),
                attempts=r.c.attempts + 1,
                updated_at=now,
            ),
            [{"row": row_id, "until": lease} for row_id, lease in until.items()],
        )
        claimed = issued_rewards(conn, program.name, r.c.id.in_(list(until)))
        by_key = {row.key: until[row.id] for row in rows}
        return [Claim(reward, by_key[reward.key]) for reward in claimed], dead


def settle_reversals(
    program: Program, settings: Fulfilment, tried: Sequence[Tried]
) -> FulfilmentReport:
    """Write each reverse call's outcome, where the claim is still this worker's."""
    r = rewards_t
    now = program.clock()
    counts = dict.fromkeys(("reversed", "retried", "failed", "lost"), 0)
    dead: list[tuple[IssuedReward, BaseException]] = []
    updates: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    with database.transaction(program.engine) as conn:
        claimed = {one.reward.key: one.claim.lease for one in tried}
        held = {
            key
            for key, until in conn.execute(
                sa.select(r.c.key, r.c.claimed_until)
                .where(r.c.program == program.name, r.c.key.in_(list(claimed)), _DUE)
                .with_for_update()
            ).all()
            if claimed[key] == until
        }
        for one in tried:
            reward, error = one.reward, one.error
            if reward.key not in held:  # claimed again since, after the lease lapsed
                counts["lost"] += 1
                continue
            row = {"k": reward.key, "lease": one.claim.lease, "attempts": reward.attempts}
            if error is None:
                row.update(result={**(reward.result or {}), "reversal": one.result}, error=None)
                row.update(next=None)
                reason, outcome = "undone by its fulfiller", "reversed"
            else:
                row["attempts"], wait, why = settings.after_failure(reward.attempts, error)
                row.update(result=reward.result, error=f"reversal: {why}"[:500])
                if wait is None:
                    row["next"], reason, outcome = None, row["error"], "failed"
                    stored = attrs.evolve(reward, error=row["error"], next_attempt_at=None)
                    dead.append((stored, error))
                else:
                    row["next"], outcome = now + wait, "retried"
                    reason = f"reversal: {why}; again after {span(wait)}"[:500]
            updates.append(row)
            moves.append(_move(program.name, reward.key, now, reason))
            counts[outcome] += 1
        if updates:
            conn.execute(_settle_statement(program.name, now), updates)
            conn.execute(transitions_t.insert(), moves)
    observe(program, dead)  # committed: observers see the reversal as it is stored
    return FulfilmentReport(claimed=len(tried), **counts)


def _move(program: str, key: str, now: Any, reason: str) -> dict[str, Any]:
    """The transition that keeps what the reversal did: the state stays ``reversed``."""
    return transition(program, key, _REVERSED, _REVERSED, now, ADVOKIT, reason)


def _settle_statement(program: str, now: Any) -> Any:
    r = rewards_t
    return (
        r.update()
        .where(
            r.c.program == program,
            r.c.key == sa.bindparam("k"),
            r.c.claimed_until == sa.bindparam("lease", type_=r.c.claimed_until.type),
        )
        .values(
            result=sa.bindparam("result", type_=sa.JSON(none_as_null=True)),
            error=sa.bindparam("error"),
            attempts=sa.bindparam("attempts"),
            next_attempt_at=sa.bindparam("next", type_=r.c.next_attempt_at.type),
            claimed_until=None,
            updated_at=now,
        )
    )


def _give_up_statement(program: str, now: Any) -> Any:
    r = rewards_t
    return (
        r.update()
        .where(r.c.program == program, r.c.key == sa.bindparam("k"))
        .values(
            error=sa.bindparam("error"), next_attempt_at=None, claimed_until=None, updated_at=now
        )
    )
