"""Fulfilment: approved rewards handed to their fulfillers after commit, paid once.

The rewards table is the durable queue (the fulfilment outbox): an
``approved`` reward whose ``next_attempt_at`` has come is due. A worker
*claims* a batch of due rewards in one short transaction (``fulfilling``, a
lease in ``claimed_until``, one more attempt; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL so that several workers share the work), commits, calls each
reward's fulfiller outside any transaction, then writes the outcomes:

* the fulfiller returned -> ``fulfilled``, with what it returned;
* it raised :class:`RetryLater` or any other error -> back to ``approved``,
  due again after ``Retry-After`` or an exponential backoff with jitter;
* it raised :class:`FulfilmentFailed`, or the attempts ran out -> ``failed``
  (the dead letter), and ``advokit_on_fulfilment_error`` is called;
* it raised :class:`AwaitPerson` -> it stays ``fulfilling`` until a person
  marks it done (``program.complete_reward``) or failed.

A worker that dies at any point leaves the reward ``fulfilling`` with a lease
that lapses; the next worker claims it again and calls the fulfiller with the
same idempotency key, which the provider deduplicates: one payment. A reward
whose workers died on it ``max_attempts`` times is dead-lettered when claimed
again. Writing an outcome checks that the reward still holds the lease this
worker set, so a worker whose lease lapsed while it waited cannot overwrite a
newer try.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from advokit.core.errors import ConfigurationError, PluginError
from advokit.core.registry import Register
from advokit.core.retries import GiveUp, Report, Retries, RetryLater, short, span
from advokit.core.store import database
from advokit.hookspecs import hookimpl
from advokit.plugins.rewards.model import IssuedReward, RewardState
from advokit.plugins.rewards.rows import ADVOKIT, issued_rewards, move_row, transition
from advokit.plugins.rewards.tables import rewards_t, transitions_t

if TYPE_CHECKING:
    from advokit.core.program import Program

__all__ = [
    "AwaitPerson",
    "ByKind",
    "Fulfiller",
    "Fulfilment",
    "FulfilmentFailed",
    "FulfilmentReport",
    "RetryLater",
    "reverses",
]

log = logging.getLogger("advokit.rewards")


# --------------------------------------------------------------------------- what fulfillers say


class FulfilmentFailed(GiveUp):
    """Raised by a fulfiller: this reward can never be fulfilled as it is (a 400).

    The reward is dead-lettered (``failed``) at once, with ``reason``.
    """


class AwaitPerson(GiveUp):
    """Raised by a fulfiller: a person fulfils this one (swag posted by hand).

    The reward stays ``fulfilling``, with no lease, until a person calls
    ``program.complete_reward(key, ...)`` or ``program.fail_reward(key, ...)``.
    Raised by a reverse operation, the reversal is given up: a person undoes it.
    """


@runtime_checkable
class Fulfiller(Protocol):
    """What ``advokit_register_fulfillers`` registers, by the reward kind it fulfils.

    ``fulfil`` is called after commit, outside any transaction, with the
    reward; it passes ``reward.key`` to the provider as its idempotency key, so
    that a second call for the same reward (after a crash) pays nothing more.
    It returns what to keep as the reward's ``result`` (a code, an order id),
    or raises :class:`RetryLater`, :class:`FulfilmentFailed` or
    :class:`AwaitPerson`. Any other error is retried with backoff.

    A fulfiller may also have ``reverse(program, reward)``, to undo what
    ``fulfil`` did (take store credit back, cancel a gift card) once the
    reward is ``reversed`` (a refunded referral). It is called after commit,
    like ``fulfil``, with the reward as stored (``result``: what ``fulfil``
    returned; ``reversal``: why) and must be idempotent by ``reward.key``: a
    crash means a second call. It returns what to keep as
    ``result["reversal"]``, or raises :class:`RetryLater` or
    :class:`FulfilmentFailed` (any other error is retried with backoff).
    """

    def fulfil(self, program: Program, reward: IssuedReward) -> Mapping[str, Any] | None: ...


def reverses(fulfiller: Any) -> bool:
    """Whether ``fulfiller`` has a reverse operation (a callable ``reverse``)."""
    return callable(getattr(fulfiller, "reverse", None))


# --------------------------------------------------------------------------- settings


class ByKind:
    """Base of fulfillers that register themselves for each reward kind in ``kinds``."""

    kinds: tuple[str, ...]

    @hookimpl
    def advokit_register_fulfillers(self, register: Register) -> None:
        for kind in self.kinds:
            register(self, name=kind)


def check_kinds(owner: str, kinds: Collection[str]) -> tuple[str, ...]:
    """A fulfiller's ``kinds`` setting: a non-empty list of reward kinds, not one string."""
    if isinstance(kinds, str) or not kinds or not all(isinstance(k, str) for k in kinds):
        raise ConfigurationError(f"{owner}.kinds", kinds, "a list of reward kinds")
    return tuple(kinds)


@attrs.frozen(kw_only=True)
class Fulfilment(Retries):
    """How rewards are fulfilled: ``Rewards(..., fulfilment=Fulfilment(...))``.

    Args:
        max_attempts: tries before a reward is dead-lettered (``failed``).
        first_retry: the backoff's scale: the first retry waits up to about this.
        longest_retry: the most the backoff waits between two tries.
        lease: how long one call may take; a worker that died lets its
            rewards go when their leases lapse. A batch's n-th wave of
            ``concurrency`` calls is leased for n leases.
        batch_size: rewards claimed per transaction.
        concurrency: fulfillers called at once (threads) within a batch.
    """


@attrs.frozen
class FulfilmentReport(Report):
    """What ``program.fulfil_pending()`` did.

    ``claimed``, ``retried``, ``failed`` and ``lost`` count the tries of
    reverse operations too; ``reversed`` counts the ones that succeeded.
    """

    claimed: int = 0
    fulfilled: int = 0
    retried: int = 0  # back to approved, due again later
    failed: int = 0  # dead-lettered
    with_person: int = 0  # handed to a person (AwaitPerson)
    canceled: int = 0  # reversed (a refund) while being tried, and not paid
    lost: int = 0  # outcomes not written: the claim lapsed and was taken meanwhile
    reversed: int = 0  # reversed rewards their fulfiller undid (``reverse``)


# --------------------------------------------------------------------------- the worker


@attrs.frozen
class Claim:
    """A reward this worker holds, and the end of its lease: the claim's identity."""

    reward: IssuedReward
    lease: datetime


@attrs.frozen
class Tried:
    """The outcome of one call of a fulfiller."""

    claim: Claim
    result: Mapping[str, Any] | None = None
    error: BaseException | None = None

    @property
    def reward(self) -> IssuedReward:
        return self.claim.reward


def claim_due(
    program: Program, settings: Fulfilment, kinds: Sequence[str], size: int
) -> tuple[list[Claim], list[tuple[IssuedReward, BaseException]]]:
    """Take up to ``size`` due rewards: ``fulfilling``, leased, one more attempt; committed.

    Leases are staggered by the order the calls will be made in: the n-th wave
    of ``concurrency`` calls holds ``n`` leases, so the end of a long batch does
    not lapse while its start is being called, and a dead worker's first
    rewards come back soonest. A lapsed reward out of attempts (its workers kept
    dying on it) is dead-lettered instead: the second list, to observe.
    """
    r = rewards_t
    now = program.clock()
    due = sa.or_(
        sa.and_(
            r.c.state == RewardState.APPROVED.value,
            sa.or_(r.c.next_attempt_at.is_(None), r.c.next_attempt_at <= now),
        ),
        # a worker died holding it (or overran its lease): claim it again
        sa.and_(r.c.state == RewardState.FULFILLING.value, r.c.claimed_until < now),
    )
    with database.transaction(program.engine) as conn:
        rows = conn.execute(
            sa.select(r.c.id, r.c.key, r.c.state, r.c.attempts)
            .where(r.c.program == program.name, r.c.kind.in_(kinds), due)
            .order_by(r.c.id)
            .limit(size)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite's writer is alone anyway
        ).all()
        if not rows:
            return [], []
        spent = [row for row in rows if row.attempts >= settings.max_attempts]
        rows = [row for row in rows if row.attempts < settings.max_attempts]
        dead = _give_up(conn, program.name, spent, now) if spent else []
        until = settings.leases(now, [row.id for row in rows])
        if rows:
            conn.execute(
                r.update()
                .where(r.c.id == sa.bindparam("row"))
                .values(
                    state=RewardState.FULFILLING.value,
                    claimed_until=sa.bindparam("until", type_=r.c.claimed_until.type),
                    attempts=r.c.attempts + 1,
                    updated_at=now,
                ),
                [{"row": row_id, "until": lease} for row_id, lease in until.items()],
            )
            conn.execute(
                transitions_t.insert(),
                [
                    transition(
                        program.name,
                        row.key,
                        RewardState(row.state),
                        RewardState.FULFILLING,
                        now,
                        ADVOKIT,
                        f"try {row.attempts + 1}"
                        + ("" if row.state == RewardState.APPROVED.value else _LAPSED),
                    )
                    for row in rows
                ],
            )
        by_key = {row.key: until[row.id] for row in rows}
        claimed = issued_rewards(conn, program.name, r.c.id.in_(list(until))) if rows else []
        return [Claim(reward, by_key[reward.key]) for reward in claimed], dead


_LAPSED = ": the last claim lapsed"


def _give_up(
    conn: Connection, program: str, rows: Sequence[Any], now: datetime
) -> list[tuple[IssuedReward, BaseException]]:
    """Dead-letter lapsed claims out of attempts: their workers died or overran every time."""
    r = rewards_t
    reason = "gave up after {} attempts: the worker died or overran its lease each time"
    for row in rows:
        move_row(
            conn,
            program,
            row.key,
            RewardState.FULFILLING,
            RewardState.FAILED,
            now,
            ADVOKIT,
            reason.format(row.attempts),
            claimed_until=None,
            error=reason.format(row.attempts),
        )
    failed = issued_rewards(conn, program, r.c.id.in_([row.id for row in rows]))
    return [(reward, RuntimeError(reward.error)) for reward in failed]


def observe(program: Program, dead: Sequence[tuple[IssuedReward, BaseException]]) -> None:
    """Call the dead-letter observers for each reward; one that raises stops none of
    the others from being observed, and its error is raised at the end."""
    first: BaseException | None = None
    for reward, error in dead:
        try:
            program.hooks.on_fulfilment_error(program, reward, error)
        except Exception as observer_error:
            log.exception("advokit_on_fulfilment_error failed for %s", reward.key)
            first = first or observer_error
    if first is not None:
        raise first


def call(program: Program, fulfillers: Any, operation: str, claim: Claim) -> Tried:
    """Call the ``operation`` (``fulfil`` or ``reverse``) of the reward's fulfiller."""
    reward = claim.reward
    fulfiller = fulfillers.get(reward.reward.kind)
    try:
        if fulfiller is None:  # unregistered since the claim: try again later
            raise RetryLater(f"no fulfiller for kind {reward.reward.kind!r}")
        if operation == "reverse" and not reverses(fulfiller):  # lost it since the refund
            raise FulfilmentFailed(
                f"the fulfiller of {reward.reward.kind!r} rewards has no reverse operation "
                "now: undo what was paid by hand"
            )
        result = getattr(fulfiller, operation)(program, reward)
        if result is not None and not isinstance(result, Mapping):
            raise TypeError(
                f"{operation}() returned {type(result).__name__}, not a mapping or None"
            )
        return Tried(claim, result=dict(result or {}))
    except Exception as error:
        if not isinstance(error, RetryLater | FulfilmentFailed | AwaitPerson):
            plugin = fulfillers.plugin_of(reward.reward.kind)
            log.warning(
                "%s of fulfiller %r of plugin %r raised on %s",
                operation,
                reward.reward.kind,
                plugin,
                reward.key,
                exc_info=True,
            )
            error = PluginError(plugin, operation, error)
        return Tried(claim, error=error)


def settle(program: Program, settings: Fulfilment, tried: Sequence[Tried]) -> FulfilmentReport:
    """Write each try's outcome, where the claim is still the one this worker made.

    One statement for the claims still held, one UPDATE and one INSERT run for
    every row (executemany): per-row statements cost more than the HTTP call.
    """
    now = program.clock()
    counts = dict.fromkeys(("fulfilled", "retried", "failed", "with_person", "canceled", "lost"), 0)
    dead: list[tuple[IssuedReward, BaseException]] = []
    updates: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    with database.transaction(program.engine) as conn:
        held = _still_held(conn, program.name, tried)
        for one in tried:
            reward, error = one.reward, one.error
            if reward.key not in held:  # claimed again since, after the lease lapsed
                counts["lost"] += 1
                continue
            row = {"k": reward.key, "lease": one.claim.lease, "result": None, "next": None}
            row["attempts"], row["error"] = reward.attempts, None
            reversal = held[reward.key]
            if reversal is not None:  # refunded meanwhile: paid -> reversed, else canceled
                undo = reverses(program.registries.fulfillers.get(reward.reward.kind))
                _settle_reversed(program.name, one, reversal, undo, row, moves, now)
                updates.append(row)
                counts["fulfilled" if error is None else "canceled"] += 1
                continue
            if error is None:
                after, outcome, reason = RewardState.FULFILLED, "fulfilled", "fulfilled"
                row["result"] = one.result
            elif isinstance(error, AwaitPerson):
                after, outcome, reason = RewardState.FULFILLING, "with_person", error.reason
                row["error"] = short(error.reason)
            else:
                row["attempts"], wait, reason = settings.after_failure(reward.attempts, error)
                row["error"] = reason
                if wait is None:
                    after, outcome = RewardState.FAILED, "failed"
                    dead.append(
                        (attrs.evolve(reward, state=RewardState.FAILED, error=reason), error)
                    )
                else:
                    after, outcome = RewardState.APPROVED, "retried"
                    row["next"] = now + wait
                    reason = f"{reason}; again after {span(wait)}"[:500]
            row["state"] = after.value
            updates.append(row)
            moves.append(
                transition(
                    program.name, reward.key, RewardState.FULFILLING, after, now, ADVOKIT, reason
                )
            )
            counts[outcome] += 1
        if updates:
            conn.execute(_settle_statement(program.name, now), updates)
            conn.execute(transitions_t.insert(), moves)
    observe(program, dead)  # committed: observers see the dead letter as it is stored
    return FulfilmentReport(claimed=len(tried), **counts)


def _settle_reversed(
    program: str,
    one: Tried,
    reversal: str,
    undo: bool,
    row: dict[str, Any],
    moves: list[dict[str, Any]],
    now: datetime,
) -> None:
    """The outcome of a try whose reward was reversed while it was being fulfilled;
    ``undo``: its fulfiller has a reverse operation, due once it is reversed."""
    key = one.reward.key
    if one.error is None:  # paid: kept as fulfilled, then reversed
        row.update(state=RewardState.REVERSED.value, result=one.result)
        if undo:
            row.update(next=now, attempts=0)
        moves.append(
            transition(
                program,
                key,
                RewardState.FULFILLING,
                RewardState.FULFILLED,
                now,
                ADVOKIT,
                "fulfilled",
            )
        )
        moves.append(
            transition(
                program, key, RewardState.FULFILLED, RewardState.REVERSED, now, ADVOKIT, reversal
            )
        )
    else:  # not paid: it never will be
        row.update(state=RewardState.CANCELED.value, error=reversal)
        moves.append(
            transition(
                program, key, RewardState.FULFILLING, RewardState.CANCELED, now, ADVOKIT, reversal
            )
        )


def _still_held(conn: Connection, program: str, tried: Sequence[Tried]) -> dict[str, str | None]:
    """The keys among ``tried`` still held by this worker's claim (the same lease),
    with the reversal asked meanwhile, if any.

    The lease, not the attempt number, names a claim: a person's
    ``retry_reward`` starts the attempts again, and a worker that hung since
    try 1 must not take a newer try 1 for its own.
    """
    r = rewards_t
    claimed = {one.reward.key: one.claim.lease for one in tried}
    rows = conn.execute(
        sa.select(r.c.key, r.c.claimed_until, r.c.reversal)
        .where(
            r.c.program == program,
            r.c.key.in_(list(claimed)),
            r.c.state == RewardState.FULFILLING.value,
        )
        .with_for_update()  # PostgreSQL: no claim may change them until this commits
    ).all()
    return {key: reversal for key, until, reversal in rows if claimed[key] == until}


def _settle_statement(program: str, now: datetime) -> Any:
    r = rewards_t
    return (
        r.update()
        .where(
            r.c.program == program,
            r.c.key == sa.bindparam("k"),
            r.c.claimed_until == sa.bindparam("lease", type_=r.c.claimed_until.type),
        )
        .values(
            state=sa.bindparam("state"),
            result=sa.bindparam("result", type_=sa.JSON(none_as_null=True)),
            error=sa.bindparam("error"),
            attempts=sa.bindparam("attempts"),
            next_attempt_at=sa.bindparam("next", type_=r.c.next_attempt_at.type),
            claimed_until=None,  # settled: no lease
            updated_at=now,
        )
    )
