"""The email channel: stdlib ``smtplib`` and ``email.message.EmailMessage``.

Each message is ``multipart/alternative`` (text, and HTML when the kind has an
HTML template), with a ``Message-ID`` derived from the outbox row's key, so a
send retried after an ambiguous outcome (the connection dropped after DATA)
is recognisably the same message. Marketing messages carry
``List-Unsubscribe`` (the https link and a mailto) and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058).

Every header value is checked before anything is sent: CR, LF or NUL, also
inside an RFC 2047 encoded word, is refused. Python 3.11.7's ``email``
package still lets an encoded newline through into the headers it writes
(CVE-2024-6923, fixed in 3.11.10 and 3.12.5).
"""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
import ssl
import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from email.header import decode_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import Any

from advokit import Advocate, hookimpl
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError
from advokit.core.registry import Register
from advokit.core.retries import RetryLater
from advokit.plugins.messages.delivery import DeliveryFailed
from advokit.plugins.messages.model import Category, Message

__all__ = ["Email", "HeaderInjection", "check_header"]

_SECURITY = ("starttls", "ssl", "none")
#: How long messages wait after the server refused our login, before trying again.
AUTH_WAIT = timedelta(minutes=10)
#: A kept connection idle longer than this is checked with NOOP before it is used.
_IDLE = 5.0


class HeaderInjection(DeliveryFailed):
    """A header value would have carried a line break into the message's headers."""


def check_header(field: str, value: str) -> str:
    """``value`` if it is safe as the ``field`` header; raises :class:`HeaderInjection`.

    Refused: CR, LF and NUL, also where an RFC 2047 encoded word
    (``=?utf-8?q?a=0Ab?=``) would decode to one.
    """
    if not isinstance(value, str):
        raise HeaderInjection(f"header {field}: {value!r} is not text")
    if _breaks(value):
        raise HeaderInjection(f"header {field}: {value!r} holds a line break or NUL")
    if "=?" in value:
        try:
            parts = decode_header(value)
            texts = [
                part.decode(charset or "ascii", "replace") if isinstance(part, bytes) else part
                for part, charset in parts
            ]
        except Exception:  # a malformed word, an unknown charset: refuse rather than guess
            raise HeaderInjection(f"header {field}: {value!r} is not valid RFC 2047") from None
        if any(_breaks(text) for text in texts):
            raise HeaderInjection(f"header {field}: {value!r} holds an encoded line break or NUL")
    return value


def _breaks(text: str) -> bool:
    """Whether ``text`` holds NUL or anything Python counts as a line boundary
    (CR, LF, VT, FF, NEL, U+2028...)."""
    return "\0" in text or len(f"{text}x".splitlines()) > 1


class Email:
    """Send messages by SMTP (submission, port 587 with STARTTLS by default).

    Args:
        host, port: the SMTP server.
        sender: the ``From`` address (``"Bakery <hello@bakery.example>"``).
        security: ``"starttls"``, ``"ssl"`` (implicit TLS, port 465) or ``"none"``
            (a local relay only).
        username, password: SMTP AUTH, when the server wants it.
        reply_to: a ``Reply-To`` address.
        timeout: seconds for the connection and each command.
        name: the channel's name (``"email"``).
    """

    def __init__(
        self,
        *,
        host: str,
        port: int = 587,
        sender: str,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        reply_to: str | None = None,
        timeout: float = 30.0,
        name: str = "email",
    ) -> None:
        if not isinstance(host, str) or not host or any(ch in host for ch in " /\r\n"):
            raise ConfigurationError("Email.host", host, "a host name or address")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ConfigurationError("Email.port", port, "a port number, 1 to 65535")
        if security not in _SECURITY:
            raise ConfigurationError("Email.security", security, "'starttls', 'ssl' or 'none'")
        for field, value in (("sender", sender), ("reply_to", reply_to)):
            if value is None and field == "reply_to":
                continue
            try:
                check_header(field, value)  # type: ignore[arg-type]
            except HeaderInjection:
                raise ConfigurationError(f"Email.{field}", value, "an email address") from None
            if "@" not in parseaddr(value)[1]:  # type: ignore[arg-type]
                raise ConfigurationError(f"Email.{field}", value, "an email address")
        if (username is None) != (password is None):
            raise ConfigurationError("Email.username", username, "a username with a password")
        v.seconds("Email.timeout", timeout)
        self.host, self.port, self.sender = host, port, sender
        self.security, self.username, self.reply_to = security, username, reply_to
        self.timeout = float(timeout)
        self.plugin_name = name
        self.name = name
        self._password = password
        self._envelope_sender = parseaddr(sender)[1]  # MAIL FROM: the bare address
        self._domain = self._envelope_sender.rpartition("@")[2]
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"Email({self.host!r}, port={self.port}, sender={self.sender!r})"

    @hookimpl
    def advokit_register_channels(self, register: Register) -> None:
        register(self, name=self.name)

    def address(self, advocate: Advocate) -> str | None:
        return advocate.email

    def message_id(self, program: str, key: str) -> str:
        """The ``Message-ID`` of the outbox row keyed ``key``: the same on every try."""
        digest = hashlib.blake2b(f"{program}\0{key}".encode(), digest_size=16).hexdigest()
        return f"<{digest}@{self._domain}>"

    def build(self, program: Any, message: Message) -> EmailMessage:
        """The email for ``message``, every header checked."""
        rendered = message.rendered
        if rendered.text is None:
            raise DeliveryFailed(
                f"message {message.kind!r} has no text template ({message.kind}.txt): "
                "an email needs one"
            )
        advocate = message.advocate
        to = str(Address(display_name=advocate.name or "", addr_spec=advocate.email or ""))
        email = EmailMessage(policy=SMTP)
        headers = {
            "From": self.sender,
            "To": to,
            "Subject": rendered.subject or message.kind.replace("_", " "),
            "Message-ID": self.message_id(program.name, message.key),
            "Date": format_datetime(program.clock()),
        }
        if self.reply_to:
            headers["Reply-To"] = self.reply_to
        if message.category is Category.MARKETING:
            links = []
            if message.unsubscribe_url:
                links.append(f"<{message.unsubscribe_url}>")
            if message.unsubscribe_mailto:
                links.append(f"<{message.unsubscribe_mailto}>")
            if links:
                headers["List-Unsubscribe"] = ", ".join(links)
            if message.unsubscribe_url and message.unsubscribe_url.startswith("https://"):
                headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        for field, value in headers.items():
            check_header(field, value)
        for field, value in headers.items():
            email[field] = value
        email.set_content(rendered.text)
        if rendered.html is not None:
            email.add_alternative(rendered.html, subtype="html")
        return email

    def send(self, program: Any, message: Message) -> Mapping[str, Any]:
        try:
            email = self.build(program, message)
        except DeliveryFailed:
            raise
        except Exception as error:  # a value the email package refuses: never, as it is
            raise DeliveryFailed(f"the email cannot be built: {error}") from None
        recipient = message.advocate.email or ""
        try:
            refused = self._send(email, self._envelope_sender, recipient)
        except smtplib.SMTPAuthenticationError as error:
            raise RetryLater(
                f"the SMTP server refused the login: {_said(error)} (check the password)",
                after=AUTH_WAIT,
                counts=False,
            ) from None
        except smtplib.SMTPNotSupportedError as error:  # no STARTTLS: never in plain text
            raise RetryLater(
                f"{self.host}:{self.port} cannot do what Email(security=...) asks: {error}",
                after=AUTH_WAIT,
                counts=False,
            ) from None
        except smtplib.SMTPSenderRefused as error:
            if error.smtp_code >= 500:  # our sender: the program's to fix, not the message's
                raise RetryLater(
                    f"the SMTP server refused the sender {self.sender!r}: {_said(error)}",
                    after=AUTH_WAIT,
                    counts=False,
                ) from None
            raise RetryLater(f"the SMTP server answered {_said(error)}") from None
        except smtplib.SMTPRecipientsRefused as error:
            code, said = next(iter(error.recipients.values()))
            raise _failure(code, f"{recipient} refused: {code} {said!r}") from None
        except smtplib.SMTPResponseException as error:
            raise _failure(error.smtp_code, f"the SMTP server answered {_said(error)}") from None
        except (smtplib.SMTPException, OSError) as error:
            # the outcome is unknown (the connection dropped): again, with the same Message-ID
            raise RetryLater(f"{self.host}:{self.port} unreachable: {error!r}") from None
        if refused:
            code, said = next(iter(refused.values()))
            raise _failure(code, f"{recipient} refused: {code} {said!r}")
        return {"message_id": email["Message-ID"]}

    def _send(self, email: EmailMessage, sender: str, recipient: str) -> Any:
        """Send once, over this thread's kept connection if it still answers (NOOP),
        else a new one. Never sent again within the try: a connection lost after DATA
        may have delivered it; the next try sends it with the same Message-ID."""
        connection = self._connection()
        try:
            return connection.send_message(email, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPServerDisconnected:
            self._forget()
            raise
        except smtplib.SMTPResponseException as error:
            if error.smtp_code == 421:  # the server is closing the connection
                self._forget()
            raise

    def _connection(self) -> smtplib.SMTP:
        kept = getattr(self._local, "connection", None)
        if kept is not None:
            used = time.monotonic() - self._local.used
            self._local.used = time.monotonic()
            if used < _IDLE:  # busy: the server has not dropped it (a failure is tried later)
                return kept  # type: ignore[no-any-return]
            try:
                if kept.noop()[0] == 250:
                    return kept  # type: ignore[no-any-return]
            except (smtplib.SMTPException, OSError):
                pass  # closed by the server while idle: a new one
        self._forget()
        if self.security == "ssl":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                connection.starttls(context=ssl.create_default_context())
            if self.username is not None:
                connection.login(self.username, self._password or "")
        except BaseException:
            connection.close()  # no socket left behind by a refused STARTTLS or login
            raise
        self._local.connection = connection
        self._local.used = time.monotonic()
        return connection

    def _forget(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            with contextlib.suppress(Exception):  # a broken connection: nothing to save
                connection.close()


def _failure(code: int, said: str) -> Exception:
    """4xx: not now; 5xx: never (this mailbox, this message)."""
    return RetryLater(said) if 400 <= code < 500 else DeliveryFailed(said)


def _said(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{error.smtp_code} {' '.join(str(text).split())}"
