"""Delivery: queued messages sent after commit, each once, consent checked at send time.

The outbox table is the durable queue. A worker claims a batch of due
messages in one short transaction (``sending``, a lease in ``claimed_until``,
one more attempt; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so that workers
share the work), commits, then for each message, outside any transaction:

* reads the advocate as they are now: a marketing message to an advocate
  without consent on the channel (withdrawn since it was queued, say), or to
  one the channel has no address for, is ``suppressed``, never sent;
* renders its templates (a template that does not render dead-letters it);
* hands it to the channel registered under its name.

Then it writes the outcomes under the same lease: ``sent``; ``queued`` again
after ``Retry-After`` or the backoff (:class:`~advokit.core.retries.RetryLater`,
or any other error); ``failed``, the dead letter, on
:class:`DeliveryFailed` or when the attempts run out, and
``advokit_on_delivery_error`` is called. A worker that dies leaves its claims
to lapse; the next one sends them again with the same key, from which a
channel derives what its provider deduplicates by (an email's Message-ID).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs
import sqlalchemy as sa

from advokit import Advocate, Consent
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError, PluginError
from advokit.core.retries import GiveUp, Report, Retries, RetryLater, short, span
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.driver import dialect_insert
from advokit.core.store.types import utc
from advokit.plugins.messages.consent import allowed
from advokit.plugins.messages.model import Category, Message, MessageState, QueuedMessage
from advokit.plugins.messages.tables import destinations_t, outbox_t
from advokit.plugins.messages.templates import TemplateError

if TYPE_CHECKING:
    from advokit.core.program import Program
    from advokit.plugins.messages.plugin import Messages

__all__ = [
    "Channel",
    "Delivery",
    "DeliveryFailed",
    "DeliveryReport",
    "DestinationGone",
    "OptedOut",
    "deliver_pending",
    "queued_messages",
]

log = logging.getLogger("advokit.messages")

_DESTINATION = 255  # the longest destination kept (messages_destinations.destination)
#: literally the partial index's condition (SQLite uses it only for this text)
_OPEN = sa.text("state IN ('queued', 'sending')")


class DeliveryFailed(GiveUp):
    """Raised by a channel: this message can never be delivered as it is (an
    unknown mailbox, a 400). It is dead-lettered (``failed``) at once."""


class DestinationGone(DeliveryFailed):
    """Raised by a channel: the destination is gone for good (a Slack webhook
    answering 404, 410 or ``no_service``; a deactivated account).

    The message is dead-lettered, and the destination disabled: later messages
    to it are dead-lettered at once, without a call, until
    ``program.enable_destination(channel, destination)``.

    Args:
        reason: why, kept with the message and the destination.
        destination: what ``channel.address`` gave for it (never a secret URL).
    """

    def __init__(self, reason: str, *, destination: str) -> None:
        super().__init__(reason)
        self.destination = destination


class OptedOut(Exception):
    """Raised by a channel: the provider says the advocate opted out on this
    channel (Twilio's error 21610: they replied STOP).

    The advocate's consent on the channel is recorded as withdrawn, with
    ``source``, and the message is suppressed.
    """

    def __init__(self, reason: str, *, source: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.source = source


class _Suppressed(Exception):
    """Not to be sent: no consent, or no address on the channel."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Deferred(Exception):
    """Not now: quiet hours, or a frequency cap. Queued again for ``until``, no attempt used."""

    def __init__(self, reason: str, until: datetime) -> None:
        super().__init__(reason)
        self.reason = reason
        self.until = until


@runtime_checkable
class Channel(Protocol):
    """What ``advokit_register_channels`` registers, by channel name (``"email"``).

    ``address(advocate)`` is where the channel reaches the advocate (an email
    address), or None: the message is then suppressed, not sent. A channel
    whose ``to_advocate`` attribute is False reaches the business instead (a
    team's Slack channel, an integration's webhook): its ``address`` names the
    destination whatever the advocate, and consent, quiet hours and caps do
    not apply to it. ``send`` is
    called after commit, outside any transaction, and returns what to keep as
    the message's ``result`` (a provider's id), or raises
    :class:`~advokit.core.retries.RetryLater` or :class:`DeliveryFailed`; any
    other error is retried with backoff; :class:`DestinationGone` and
    :class:`OptedOut` say what the provider answered about the destination
    and the advocate. A send after a crash carries the same
    ``message.key``: derive what the provider deduplicates by from it.
    """

    def address(self, advocate: Advocate) -> str | None: ...

    def send(self, program: Program, message: Message) -> Mapping[str, Any] | None: ...


@attrs.frozen(kw_only=True)
class Delivery(Retries):
    """How messages are delivered: ``Messages(..., delivery=Delivery(...))``.

    Args:
        max_attempts: tries before a message is dead-lettered (``failed``).
        first_retry: the backoff's scale: the first retry waits up to about this.
        longest_retry: the most the backoff waits between two tries.
        lease: how long one send may take; a worker that died lets its
            messages go when their leases lapse.
        batch_size: messages claimed per transaction.
        concurrency: messages sent at once (threads) within a batch.
    """


@attrs.frozen
class DeliveryReport(Report):
    """What ``program.deliver_pending()`` did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0  # queued again, due later
    failed: int = 0  # dead-lettered
    suppressed: int = 0  # not sent: no consent, or no address
    deferred: int = 0  # waiting: quiet hours, or a frequency cap
    lost: int = 0  # outcomes not written: the claim lapsed and was taken meanwhile


@attrs.frozen
class _Claim:
    message: QueuedMessage
    lease: datetime


@attrs.frozen
class _Tried:
    claim: _Claim
    result: Mapping[str, Any] | None = None
    error: BaseException | None = None


def deliver_pending(
    program: Program,
    plugin: Messages,
    *,
    limit: int | None = None,
    threads: Executor | None = None,
) -> DeliveryReport:
    """Claim, send and settle due messages until none is due (or ``limit`` were claimed)."""
    if limit is not None and not (v.is_int(limit) and limit >= 1):
        raise ConfigurationError("limit", limit, "None or a whole number of at least 1")
    settings = plugin.delivery
    report = DeliveryReport()
    observer_errors: list[BaseException] = []  # raised once the round is done
    while limit is None or report.claimed < limit:
        size = (
            settings.batch_size
            if limit is None
            else min(settings.batch_size, limit - report.claimed)
        )
        claimed, dead = database.retrying(functools.partial(_claim, program, settings, size))
        _observe(program, dead, observer_errors)
        report += DeliveryReport(failed=len(dead))
        if not claimed:
            if dead:
                continue
            break
        disabled = plugin.disabled_destinations(program)
        send = functools.partial(_send_and_settle, program, plugin, disabled, observer_errors)
        for done in threads.map(send, claimed) if threads else map(send, claimed):
            report += done
    if observer_errors:
        raise observer_errors[0]
    return report


def _send_and_settle(
    program: Program,
    plugin: Messages,
    disabled: dict[tuple[str, str], str],
    observer_errors: list[BaseException],
    claim: _Claim,
) -> DeliveryReport:
    """Send one message and write its outcome at once: a worker killed mid-batch has
    sent again nothing it recorded as sent. (Killed between the server's answer and
    this commit, the message is sent once more, with the same key.)"""
    tried = _send(program, plugin, disabled, claim)
    report, dead = database.retrying(functools.partial(_settle, program, plugin.delivery, tried))
    _observe(program, dead, observer_errors)
    return report


def _claim(
    program: Program, settings: Delivery, size: int
) -> tuple[list[_Claim], list[tuple[QueuedMessage, BaseException]]]:
    """Take up to ``size`` due messages: ``sending``, leased, one more attempt; committed."""
    o = outbox_t
    now = program.clock()
    due = sa.or_(
        sa.and_(
            o.c.state == MessageState.QUEUED.value,
            sa.or_(o.c.next_attempt_at.is_(None), o.c.next_attempt_at <= now),
        ),
        # a worker died holding it (or overran its lease): claim it again
        sa.and_(o.c.state == MessageState.SENDING.value, o.c.claimed_until < now),
    )
    with database.transaction(program.engine) as conn:
        rows = conn.execute(
            sa.select(o.c.id, o.c.key, o.c.attempts)
            .where(o.c.program == program.name, _OPEN, due)
            .order_by(o.c.id)
            .limit(size)
            .with_for_update(skip_locked=True)
        ).all()
        spent = [row for row in rows if row.attempts >= settings.max_attempts]
        rows = [row for row in rows if row.attempts < settings.max_attempts]
        dead: list[tuple[QueuedMessage, BaseException]] = []
        if spent:
            reason = "gave up after {} attempts: the worker died or overran its lease each time"
            conn.execute(
                _settle_statement(program.name, now, lease=False),
                [
                    {
                        "k": row.key,
                        "state": MessageState.FAILED.value,
                        "attempts": row.attempts,
                        "next": None,
                        "sent": None,
                        "result": None,
                        "error": reason.format(row.attempts),
                    }
                    for row in spent
                ],
            )
            failed = queued_messages(conn, program.name, o.c.id.in_([row.id for row in spent]))
            dead = [(message, RuntimeError(message.error)) for message in failed]
        if not rows:
            return [], dead
        until = settings.leases(now, [row.id for row in rows])
        conn.execute(
            o.update()
            .where(o.c.id == sa.bindparam("row"))
            .values(
                state=MessageState.SENDING.value,
                claimed_until=sa.bindparam("until", type_=o.c.claimed_until.type),
                attempts=o.c.attempts + 1,
                updated_at=now,
            ),
            [{"row": row_id, "until": lease} for row_id, lease in until.items()],
        )
        claimed = queued_messages(conn, program.name, o.c.id.in_(list(until)))
        by_key = {row.key: until[row.id] for row in rows}
        return [_Claim(message, by_key[message.key]) for message in claimed], dead


def _advocate(program: Program, external_id: str) -> tuple[int, Advocate] | None:
    """The advocate (and row id) as they are just before the send: an unsubscribe
    committed a moment ago counts."""
    a = q.advocates_t
    with database.transaction(program.engine, write=False) as conn:
        row = conn.execute(
            sa.select(a).where(a.c.program == program.name, a.c.external_id == external_id)
        ).first()
    return None if row is None else (row.id, q.advocate_from_row(row))


def _send(
    program: Program, plugin: Messages, disabled: dict[tuple[str, str], str], claim: _Claim
) -> _Tried:
    queued = claim.message
    channels = program.registries.channels
    channel = channels.get(queued.channel)
    in_channel = False  # whether an error comes from the channel's own code
    try:
        if channel is None:  # unregistered since it was queued: try again later
            raise RetryLater(f"no channel {queued.channel!r}")
        found = _advocate(program, queued.advocate)
        if found is None:  # erased since it was queued
            raise _Suppressed(f"advocate {queued.advocate!r} is gone")
        row_id, advocate = found
        direct = getattr(channel, "to_advocate", True)
        if direct:
            why_not = allowed(advocate, queued.channel, queued.category)
            if why_not is not None:
                raise _Suppressed(why_not)
        in_channel = True
        address = channel.address(advocate)
        in_channel = False
        if not address:
            raise _Suppressed(f"no {queued.channel} address for {advocate.external_id!r}")
        gone = disabled.get((queued.channel, str(address)[:_DESTINATION]))
        if gone is not None:
            raise DeliveryFailed(
                f"{queued.channel} destination {address!r} is disabled ({gone}); "
                "program.enable_destination() to send to it again"
            )
        if direct:
            _pace(program, plugin, claim, row_id, advocate)
        message = plugin.compose(program, queued, advocate)
        in_channel = True
        result = channel.send(program, message)
        if result is not None and not isinstance(result, Mapping):
            raise TypeError(f"send() returned {type(result).__name__}, not a mapping or None")
        return _Tried(claim, result=dict(result or {}))
    except TemplateError as error:  # the template is broken: fix it, then retry_message
        return _Tried(claim, error=DeliveryFailed(str(error)))
    except OptedOut as error:  # the provider knows better than our records: keep it
        try:
            plugin.set_consent(
                program,
                queued.advocate,
                queued.channel,
                Consent(granted=False, basis="withdrawn", source=error.source, at=program.clock()),
            )
        except Exception:  # erased meanwhile, say: the message is not sent either way
            log.warning("could not record the opt-out of %s", queued.advocate, exc_info=True)
        return _Tried(claim, error=_Suppressed(f"opted out: {error.reason}"))
    except Exception as error:
        if isinstance(error, DestinationGone):  # the rest of the round knows at once
            disabled[(queued.channel, error.destination[:_DESTINATION])] = short(error.reason)
        if isinstance(error, RetryLater | GiveUp | _Suppressed | _Deferred):
            return _Tried(claim, error=error)
        if in_channel:  # a bug in the channel: name its plugin
            plugin_name = channels.plugin_of(queued.channel)
            log.warning(
                "channel %r of plugin %r raised on %s",
                queued.channel,
                plugin_name,
                queued.key,
                exc_info=True,
            )
            error = PluginError(plugin_name, "send", error)
        else:  # the database, a clock: tried again with backoff
            log.warning("delivering %s failed", queued.key, exc_info=True)
        return _Tried(claim, error=error)


def _pace(
    program: Program, plugin: Messages, claim: _Claim, row_id: int, advocate: Advocate
) -> None:
    """Raise _Deferred if quiet hours or a frequency cap hold the message back; else, with
    caps, count it as sent from now on (its ``sent_at`` set under the advocate's lock)."""
    queued, now = claim.message, program.clock()
    channel, category = queued.channel, queued.category.value
    quiet = plugin.quiet_hours
    if quiet is not None and quiet.applies(channel, category):
        until = quiet.until(now, advocate.timezone)
        if until is not None:
            raise _Deferred(f"quiet hours in {advocate.timezone} until {until:%H:%M} UTC", until)
    caps = [cap for cap in plugin.caps if cap.applies(channel, category)]
    if not caps:
        return

    def reserve() -> None:
        o, a = outbox_t, q.advocates_t
        with database.transaction(program.engine) as conn:
            # one sender at a time per advocate: two workers cannot both take the last slot
            # FOR NO KEY UPDATE on PostgreSQL: recording actions for them goes on meanwhile
            lock = sa.select(a.c.id).where(a.c.id == row_id).with_for_update(key_share=True)
            conn.execute(lock).first()
            for cap in caps:
                since = now - cap.per
                counted = conn.execute(
                    sa.select(o.c.sent_at)
                    .where(
                        o.c.advocate_id == row_id,
                        o.c.program == program.name,
                        o.c.channel == channel,
                        o.c.category.in_(sorted(cap.categories)),
                        o.c.state.in_((MessageState.SENT.value, MessageState.SENDING.value)),
                        o.c.sent_at > since,
                        o.c.key != queued.key,
                    )
                    .order_by(o.c.sent_at)
                ).all()
                if len(counted) >= cap.limit:
                    frees = utc(counted[len(counted) - cap.limit].sent_at) + cap.per
                    raise _Deferred(
                        f"at most {cap.limit} {channel} per {span(cap.per)}: "
                        f"{len(counted)} already",
                        frees,  # type: ignore[arg-type]
                    )
            conn.execute(
                o.update()
                .where(o.c.program == program.name, o.c.key == queued.key)
                .values(sent_at=now)
            )

    database.retrying(reserve)


def _settle(
    program: Program, settings: Delivery, one: _Tried
) -> tuple[DeliveryReport, list[tuple[QueuedMessage, BaseException]]]:
    """Write a send's outcome, if the claim is still the one this worker made (the
    UPDATE names the lease: no row moved means it lapsed and was claimed again);
    the dead letter, committed, to observe."""
    now = program.clock()
    message, error = one.claim.message, one.error
    row: dict[str, Any] = {
        "k": message.key,
        "lease": one.claim.lease,
        "attempts": message.attempts,
        "next": None,
        "sent": None,
        "result": None,
        "error": None,
    }
    dead: list[tuple[QueuedMessage, BaseException]] = []
    if error is None:
        row.update(state=MessageState.SENT.value, sent=now, result=one.result)
        outcome = "sent"
    elif isinstance(error, _Suppressed):
        row.update(state=MessageState.SUPPRESSED.value, error=short(error.reason))
        row["attempts"] -= 1  # nothing was tried
        outcome = "suppressed"
    elif isinstance(error, _Deferred):
        row.update(state=MessageState.QUEUED.value, next=error.until, error=short(error.reason))
        row["attempts"] -= 1  # nothing was tried
        outcome = "deferred"
    else:
        row["attempts"], wait, reason = settings.after_failure(message.attempts, error)
        if wait is None:
            row.update(state=MessageState.FAILED.value, error=reason)
            stored = attrs.evolve(
                message, state=MessageState.FAILED, error=reason, attempts=row["attempts"]
            )
            dead.append((stored, error))
            outcome = "failed"
        else:
            row.update(state=MessageState.QUEUED.value, next=now + wait)
            row["error"] = f"{reason}; again after {span(wait)}"[:500]
            outcome = "retried"
    with database.transaction(program.engine) as conn:
        moved = conn.execute(_settle_statement(program.name, now, lease=True), row).rowcount
        if moved and isinstance(error, DestinationGone):
            conn.execute(
                dialect_insert(conn, destinations_t).on_conflict_do_nothing(),
                {
                    "program": program.name,
                    "channel": message.channel,
                    "destination": error.destination[:_DESTINATION],
                    "reason": short(error.reason),
                    "disabled_at": now,
                },
            )
    if not moved:  # claimed again since, after the lease lapsed
        return DeliveryReport(claimed=1, lost=1), []
    return DeliveryReport(claimed=1, **{outcome: 1}), dead


def _settle_statement(program: str, now: datetime, *, lease: bool) -> Any:
    o = outbox_t
    where = [o.c.program == program, o.c.key == sa.bindparam("k")]
    if lease:
        where.append(o.c.claimed_until == sa.bindparam("lease", type_=o.c.claimed_until.type))
    return (
        o.update()
        .where(*where)
        .values(
            state=sa.bindparam("state"),
            attempts=sa.bindparam("attempts"),
            next_attempt_at=sa.bindparam("next", type_=o.c.next_attempt_at.type),
            sent_at=sa.bindparam("sent", type_=o.c.sent_at.type),
            result=sa.bindparam("result", type_=sa.JSON(none_as_null=True)),
            error=sa.bindparam("error"),
            claimed_until=None,
            updated_at=now,
        )
    )


def _observe(
    program: Program,
    dead: Sequence[tuple[QueuedMessage, BaseException]],
    errors: list[BaseException],
) -> None:
    """Call the dead-letter observers for each message (committed: they see it as it is
    stored). One that raises stops neither the others nor the round: its error is kept
    in ``errors``, raised when the round is done."""
    for message, error in dead:
        try:
            program.hooks.on_delivery_error(program, message, error)
        except Exception as observer_error:
            log.exception("advokit_on_delivery_error failed for %s", message.key)
            errors.append(observer_error)


def queued_messages(
    conn: Any, program: str, *where: Any, limit: int | None = None
) -> list[QueuedMessage]:
    """The program's outbox rows matching ``where``, oldest first."""
    o, a = outbox_t, q.advocates_t
    rows = conn.execute(
        sa.select(o, a.c.external_id)
        .join(a, a.c.id == o.c.advocate_id)
        .where(o.c.program == program, *where)
        .order_by(o.c.id)
        .limit(limit)
    ).all()
    return [
        QueuedMessage(
            key=row.key,
            advocate=row.external_id,
            channel=row.channel,
            kind=row.kind,
            category=Category(row.category),
            state=MessageState(row.state),
            cause=row.cause,
            context=row.context,
            created_at=utc(row.created_at),  # type: ignore[arg-type]
            updated_at=utc(row.updated_at),  # type: ignore[arg-type]
            attempts=row.attempts,
            next_attempt_at=utc(row.next_attempt_at),
            sent_at=utc(row.sent_at),
            result=row.result,
            error=row.error,
        )
        for row in rows
    ]
