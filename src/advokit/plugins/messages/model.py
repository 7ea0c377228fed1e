"""Messages as the outbox keeps them, and as a channel receives them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from advokit import Advocate

__all__ = ["Category", "Inbound", "Message", "MessageState", "QueuedMessage", "Rendered"]


class Category(enum.StrEnum):
    """Why a message is sent, which decides whether consent is needed.

    ``marketing`` (invitations, review requests, newsletters) goes only to an
    advocate who granted consent on the channel, and carries an unsubscribe
    link; ``transactional`` (a reward delivered, an account change) is part of
    what the advocate asked for and goes unless they withdrew consent on that
    channel.
    """

    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


class MessageState(enum.StrEnum):
    """Where a message is: ``queued`` -> ``sending`` -> ``sent`` or ``failed``
    (the dead letter); ``suppressed`` when, at send time, consent was missing
    or the advocate has no address on the channel: never sent, kept with why."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


@attrs.frozen(kw_only=True)
class Rendered:
    """A message's texts, rendered from its templates for one advocate."""

    subject: str | None = None
    text: str | None = None
    html: str | None = None
    sms: str | None = None


@attrs.frozen(kw_only=True)
class Message:
    """What a channel sends: ``channel.send(program, message)``.

    ``key`` is the outbox row's idempotency key: a channel derives what the
    provider deduplicates by from it (an email's ``Message-ID``), so a send
    retried after a crash is recognisable as the same message.
    """

    key: str
    channel: str
    kind: str  # the template: "review_request"
    category: Category
    advocate: Advocate
    rendered: Rendered
    attempt: int
    unsubscribe_url: str | None = None  # marketing only: the one-click link
    unsubscribe_mailto: str | None = None  # marketing only: mailto:...?subject=...
    unsubscribe_token: str | None = None
    context: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class QueuedMessage:
    """A message in the outbox: ``program.message(key)``, ``program.messages(advocate)``."""

    key: str
    advocate: str
    channel: str
    kind: str
    category: Category
    state: MessageState
    cause: str  # the key of the action that queued it
    context: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    result: Mapping[str, Any] | None = None  # what the channel answered (a provider id)
    error: str | None = None


@attrs.frozen(kw_only=True)
class Inbound:
    """What ``program.receive_sms(sender, body)`` made of a reply."""

    sender: str
    advocates: tuple[str, ...]  # the advocates with that number (none: a stranger)
    keyword: str  # the reply, normalised: "STOP"
    action: str | None  # "opted_out", "opted_in", or None: nothing changed
