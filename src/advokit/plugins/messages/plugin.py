"""The messages plugin: ``SendMessage`` effects become outbox rows, sent after commit."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

from advokit import Advocate, Consent, SendMessage, Transaction, hookimpl
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError, InvalidValue, UnknownAdvocate, one_of
from advokit.core.http import check_url
from advokit.core.model import E164_ACCEPTED, E164_PATTERN, derived_key
from advokit.core.registry import Register
from advokit.core.retries import KeptThreads
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.plugins.messages.consent import read_token, unsubscribe_token
from advokit.plugins.messages.delivery import (
    Delivery,
    DeliveryReport,
    deliver_pending,
    queued_messages,
)
from advokit.plugins.messages.model import (
    Category,
    Inbound,
    Message,
    MessageState,
    QueuedMessage,
    Rendered,
)
from advokit.plugins.messages.pacing import Cap, QuietHours
from advokit.plugins.messages.tables import destinations_t, outbox_t
from advokit.plugins.messages.templates import BUILT_IN, Templates

__all__ = ["MIGRATIONS", "Messages"]

MIGRATIONS = Path(__file__).parent.parent / "migrations" / "messages"

_QUEUED = ("messages", "queued by")  # messages queued so far by one recorded action


class Messages:
    """The messages plugin: queues ``SendMessage`` effects and delivers them.

    Args:
        templates: the program's own template folder, searched first.
        secret: the HMAC key of unsubscribe tokens (at least 16 characters).
        unsubscribe_url: the one-click unsubscribe link of marketing
            messages, with ``{token}`` where the token goes
            (``"https://shop.example/unsubscribe/{token}"``).
        unsubscribe_mailto: the mailbox of ``List-Unsubscribe``'s mailto.
        default_locale: the locale templates fall back to.
        delivery: retries, backoff, lease and batch of ``deliver_pending``.
        quiet_hours: when messages wait, in each advocate's time zone
            (:class:`~advokit.plugins.messages.QuietHours`).
        caps: at most so many messages per advocate per channel per period
            (:class:`~advokit.plugins.messages.Cap`).
    """

    plugin_name = "messages"
    advokit_applies = (SendMessage,)

    def __init__(
        self,
        *,
        templates: str | Path | None = None,
        secret: str,
        unsubscribe_url: str | None = None,
        unsubscribe_mailto: str | None = None,
        default_locale: str = "en",
        delivery: Delivery | None = None,
        quiet_hours: QuietHours | None = None,
        caps: Sequence[Cap] = (),
    ) -> None:
        v.secret("Messages.secret", secret)
        if unsubscribe_url is not None:
            check_url("Messages.unsubscribe_url", unsubscribe_url)
            if unsubscribe_url.count("{token}") != 1:
                raise ConfigurationError(
                    "Messages.unsubscribe_url",
                    unsubscribe_url,
                    "an http(s) URL with one {token}, such as "
                    "'https://shop.example/unsubscribe/{token}'",
                )
        if unsubscribe_mailto is not None and (
            not isinstance(unsubscribe_mailto, str) or "@" not in unsubscribe_mailto
        ):
            raise ConfigurationError(
                "Messages.unsubscribe_mailto", unsubscribe_mailto, "an email address"
            )
        if delivery is not None and not isinstance(delivery, Delivery):
            raise ConfigurationError("Messages.delivery", delivery, "a Delivery or None")
        if quiet_hours is not None and not isinstance(quiet_hours, QuietHours):
            raise ConfigurationError("Messages.quiet_hours", quiet_hours, "a QuietHours or None")
        if isinstance(caps, Cap) or not all(isinstance(cap, Cap) for cap in caps):
            raise ConfigurationError("Messages.caps", caps, "a list of Cap")
        self.own_templates = None if templates is None else Path(templates)
        if self.own_templates is not None and not self.own_templates.is_dir():
            raise ConfigurationError("Messages.templates", str(templates), "a folder of templates")
        self.default_locale = default_locale
        self.unsubscribe_url = unsubscribe_url
        self.unsubscribe_mailto = unsubscribe_mailto
        self.delivery = delivery or Delivery()
        self.quiet_hours = quiet_hours
        self.caps = tuple(caps)
        self._secret = secret
        self._templates: Templates | None = None
        self._threads = KeptThreads(self.delivery.concurrency, "advokit-send")

    def __repr__(self) -> str:
        return f"Messages(templates={str(self.own_templates)!r})"

    # -- registration

    @hookimpl
    def advokit_register_migrations(self, register: Register) -> None:
        register(MIGRATIONS, name="messages")

    @hookimpl
    def advokit_register_queries(self, register: Register) -> None:
        register(self.deliver_pending, name="deliver_pending")
        register(self.message, name="message")
        register(self.messages, name="messages")
        register(self.retry_message, name="retry_message")
        register(self.preview, name="preview")
        register(self.unsubscribe, name="unsubscribe")
        register(self.unsubscribe_token, name="unsubscribe_token")
        register(self.set_consent, name="set_consent")
        register(self.receive_sms, name="receive_sms")
        register(self.disabled_destinations, name="disabled_destinations")
        register(self.enable_destination, name="enable_destination")

    @hookimpl
    def advokit_register_workers(self, register: Register) -> None:
        register(self._work, name="delivery")

    @hookimpl
    def advokit_register_commands(self, register: Register) -> None:
        from advokit.plugins.messages.commands import templates_group  # click: the CLI's alone

        register(templates_group, name="templates")

    # -- queueing

    @hookimpl
    def advokit_apply_effect(self, tx: Transaction, effect: SendMessage) -> bool:
        view, now, program = tx.view, tx.now, tx.program
        if effect.channel not in program.registries.channels:
            raise InvalidValue(
                "SendMessage.channel", effect.channel, one_of(program.registries.channels)
            )
        # the key: the recorded action and this message's place among the ones it queued
        queued = view.lookup(_QUEUED, tx.root_key, lambda conn, key: 0)
        view.remember_lookup(_QUEUED, tx.root_key, queued + 1)
        tx.insert(
            outbox_t,
            {
                "program": program.name,
                "key": derived_key(tx.root_key, f"message:{queued}"),
                "advocate_id": view.advocate_id(effect.advocate),
                "channel": effect.channel,
                "kind": effect.template,
                "category": effect.category,
                "context": dict(effect.context),
                "cause": tx.root_key,
                "state": MessageState.QUEUED.value,
                "created_at": now,
                "updated_at": now,
                "attempts": 0,
                "next_attempt_at": None,
                "claimed_until": None,
                "sent_at": None,
                "result": None,
                "error": None,
            },
            unique=("program", "key"),
        )
        return True

    # -- composing

    def templates(self, program: Any) -> Templates:
        """The program's templates: its own folder, the plugins', then advokit's."""
        if self._templates is None:
            folders: list[Path] = [] if self.own_templates is None else [self.own_templates]
            folders += [Path(p) for p in program.registries.template_dirs.items().values()]
            folders.append(BUILT_IN)
            self._templates = Templates(folders, default_locale=self.default_locale)
        return self._templates

    def compose(self, program: Any, queued: QueuedMessage, advocate: Advocate) -> Message:
        """The message ``queued`` becomes for ``advocate`` now: rendered, with its links."""
        token = url = mailto = None
        if queued.category is Category.MARKETING:
            token = self.unsubscribe_token(program, advocate.external_id, queued.channel)
            url = None if self.unsubscribe_url is None else self.unsubscribe_url.format(token=token)
            if self.unsubscribe_mailto is not None:
                mailto = f"mailto:{self.unsubscribe_mailto}?subject=unsubscribe%20{token}"
        context = template_context(program.name, advocate_context(advocate), queued.context, url)
        rendered = self.templates(program).render(queued.kind, advocate.locale, context)
        return Message(
            key=queued.key,
            channel=queued.channel,
            kind=queued.kind,
            category=queued.category,
            advocate=advocate,
            rendered=rendered,
            attempt=queued.attempts,
            unsubscribe_url=url,
            unsubscribe_mailto=mailto,
            unsubscribe_token=token,
            context=queued.context,
        )

    def preview(
        self,
        program: Any,
        kind: str,
        advocate: str,
        *,
        context: dict[str, Any] | None = None,
        category: str = "marketing",
        channel: str = "email",
    ) -> Rendered:
        """``program.preview(kind, advocate)``: the message as ``advocate`` would get it
        on ``channel`` (its unsubscribe link is the channel's)."""
        if channel not in program.registries.channels:
            raise InvalidValue("channel", channel, one_of(program.registries.channels))
        found = program.advocate(advocate)
        queued = QueuedMessage(
            key="preview",
            advocate=found.external_id,
            channel=channel,
            kind=kind,
            category=Category(category),
            state=MessageState.QUEUED,
            cause="preview",
            context=dict(context or {}),
            created_at=program.clock(),
            updated_at=program.clock(),
        )
        return self.compose(program, queued, found).rendered

    # -- delivering

    def deliver_pending(self, program: Any, *, limit: int | None = None) -> DeliveryReport:
        """``program.deliver_pending()``: send every due message now, after commit."""
        return deliver_pending(program, self, limit=limit, threads=self._threads.get())

    def _work(self, program: Any) -> int:
        """``advokit worker``'s round: the messages claimed."""
        return self.deliver_pending(program, limit=self.delivery.batch_size).claimed

    # -- reading and deciding

    def message(self, program: Any, key: str) -> QueuedMessage | None:
        """``program.message(key)``: one message by its key (None: no such message)."""
        with database.transaction(program.engine, write=False) as conn:
            found = queued_messages(conn, program.name, outbox_t.c.key == key)
        return found[0] if found else None

    def messages(
        self,
        program: Any,
        advocate: str | None = None,
        *,
        states: Collection[MessageState | str] | None = None,
        limit: int | None = None,
    ) -> list[QueuedMessage]:
        """``program.messages(advocate)``: the advocate's messages, oldest first
        (without an advocate: everyone's; ``states=["failed"]``: the dead letters)."""
        if isinstance(states, str):
            raise InvalidValue("states", states, "a list of states, not one")
        if limit is not None and not (isinstance(limit, int) and limit >= 1):
            raise InvalidValue("limit", limit, "None or a whole number of at least 1")
        where = []
        if states is not None:
            where.append(outbox_t.c.state.in_([_state(s).value for s in states]))
        with database.transaction(program.engine, write=False) as conn:
            if advocate is not None:
                where.append(
                    outbox_t.c.advocate_id == q.advocate_row_id(conn, program.name, advocate)
                )
            return queued_messages(conn, program.name, *where, limit=limit)

    def retry_message(self, program: Any, key: str) -> QueuedMessage:
        """``program.retry_message(key)``: a dead letter (or a suppressed message, once
        consent is given) is queued again, attempts reset, with the same key."""
        o = outbox_t

        def attempt() -> QueuedMessage:
            now = program.clock()
            with database.transaction(program.engine) as conn:
                moved = conn.execute(
                    o.update()
                    .where(
                        o.c.program == program.name,
                        o.c.key == key,
                        o.c.state.in_([MessageState.FAILED.value, MessageState.SUPPRESSED.value]),
                    )
                    .values(
                        state=MessageState.QUEUED.value,
                        attempts=0,
                        next_attempt_at=None,
                        error=None,
                        updated_at=now,
                    )
                ).rowcount
                found = queued_messages(conn, program.name, o.c.key == key)
            if not found:
                raise InvalidValue("key", key, f"the key of a message of {program.name!r}")
            if not moved:
                raise InvalidValue(
                    f"message {key!r} state", found[0].state.value, "failed or suppressed"
                )
            return found[0]

        return database.retrying(attempt)

    # -- consent

    def unsubscribe_token(self, program: Any, advocate: str, channel: str) -> str:
        """``program.unsubscribe_token(advocate, channel)``: the signed token of the
        one-click unsubscribe link."""
        return unsubscribe_token(self._secret, program.name, advocate, channel)

    def unsubscribe(
        self, program: Any, token: str, *, source: str = "unsubscribe_link"
    ) -> tuple[str, str]:
        """``program.unsubscribe(token)``: withdraw the consent the token names; returns
        (advocate, channel). What was queued for them and not sent yet is not sent."""
        advocate, channel = read_token(self._secret, program.name, token)
        self.set_consent(
            program,
            advocate,
            channel,
            Consent(granted=False, basis="withdrawn", source=source, at=program.clock()),
        )
        return advocate, channel

    def set_consent(self, program: Any, advocate: str, channel: str, consent: Consent) -> Advocate:
        """``program.set_consent(advocate, channel, consent)``: record consent as given,
        verbatim (basis, source, time): it is data, never inferred."""
        if not isinstance(consent, Consent):
            raise InvalidValue("consent", consent, "an advokit.Consent")
        a = q.advocates_t
        mine = (a.c.program == program.name, a.c.external_id == advocate)

        def attempt() -> Advocate:
            # only this channel's consent, under the row's lock: an unsubscribe and
            # another channel's change at once both stay
            with database.transaction(program.engine) as conn:
                row = conn.execute(sa.select(a).where(*mine).with_for_update()).first()
                if row is None:
                    raise UnknownAdvocate(advocate, program.name)
                current = q.advocate_from_row(row)
                consents = {**current.consent, channel: consent}
                stored = {name: c.to_json() for name, c in consents.items()}
                conn.execute(
                    a.update().where(*mine).values(consent=stored, updated_at=program.clock())
                )
            return attrs.evolve(current, consent=consents)

        return database.retrying(attempt)

    def receive_sms(self, program: Any, sender: str, body: str, *, channel: str = "sms") -> Inbound:
        """``program.receive_sms(sender, body)``: an SMS an advocate sent (the provider's
        inbound webhook). A stop word (STOP, UNSUBSCRIBE, CANCEL, END, QUIT, STOPALL,
        OPTOUT, REVOKE) withdraws their consent on ``channel``; a start word (START,
        UNSTOP, YES) grants it, as they asked in so many words. Anything else changes
        nothing."""
        if not isinstance(sender, str) or not _E164.fullmatch(sender):
            raise InvalidValue("sender", sender, E164_ACCEPTED)
        if not isinstance(body, str):
            raise InvalidValue("body", body, "the message's text")
        word = " ".join(body.split()).upper().strip(".!")
        granted = True if word in START_WORDS else False if word in STOP_WORDS else None
        a = q.advocates_t
        with database.transaction(program.engine, write=False) as conn:
            found = (
                conn.execute(
                    sa.select(a.c.external_id)
                    .where(a.c.program == program.name, a.c.phone == sender)
                    .order_by(a.c.id)
                )
                .scalars()
                .all()
            )
        if granted is not None:
            consent = Consent(
                granted=granted,
                basis="consent" if granted else "withdrawn",
                source=f"sms_reply:{word}",
                at=program.clock(),
            )
            for advocate in found:  # a shared number: everyone on it said so
                self.set_consent(program, advocate, channel, consent)
        action = None if granted is None or not found else "opted_in" if granted else "opted_out"
        return Inbound(sender=sender, advocates=tuple(found), keyword=word, action=action)

    def disabled_destinations(self, program: Any) -> dict[tuple[str, str], str]:
        """``program.disabled_destinations()``: ``(channel, destination) -> why``, for the
        destinations a provider said are gone (nothing is sent to them)."""
        d = destinations_t
        with database.transaction(program.engine, write=False) as conn:
            rows = conn.execute(
                sa.select(d.c.channel, d.c.destination, d.c.reason)
                .where(d.c.program == program.name)
                .order_by(d.c.channel, d.c.destination)
            ).all()
        return {(row.channel, row.destination): row.reason for row in rows}

    def enable_destination(self, program: Any, channel: str, destination: str) -> bool:
        """``program.enable_destination(channel, destination)``: send to it again (the
        webhook was replaced); False if it was not disabled. Its dead letters stay dead:
        ``retry_message`` them."""
        d = destinations_t

        def attempt() -> bool:
            with database.transaction(program.engine) as conn:
                return bool(
                    conn.execute(
                        d.delete().where(
                            d.c.program == program.name,
                            d.c.channel == channel,
                            d.c.destination == destination,
                        )
                    ).rowcount
                )

        return database.retrying(attempt)


#: Replies that opt out, and back in, as carriers and Twilio read them.
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
_E164 = re.compile(E164_PATTERN)


def template_context(
    program: str,
    advocate: Mapping[str, Any],
    data: Mapping[str, Any],
    unsubscribe_url: str | None,
) -> dict[str, Any]:
    """What a message's templates render with: its data, and the keys every message
    has (they win over the data's)."""
    return {**data, "advocate": advocate, "program": program, "unsubscribe_url": unsubscribe_url}


def advocate_context(advocate: Advocate) -> dict[str, Any]:
    """What templates see of the advocate: who they are, not how to reach them."""
    return {
        "external_id": advocate.external_id,
        "name": advocate.name,
        "locale": advocate.locale,
        "attributes": dict(advocate.attributes),
    }


def _state(value: MessageState | str) -> MessageState:
    try:
        return MessageState(value)
    except ValueError:
        raise InvalidValue("states", value, one_of([s.value for s in MessageState])) from None
