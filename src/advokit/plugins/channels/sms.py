"""The SMS channel, on Twilio's SDK (``pip install 'advokit[sms]'``).

Each message's text is its ``.sms`` template. Numbers are checked with
``phonenumbers`` (E.164, a possible number for its region); the text's
segments are counted as carriers bill them (GSM-7, or UCS-2 as soon as one
character is outside GSM-7: :mod:`advokit.plugins.channels.segments`), and a
text longer than ``max_segments`` is dead-lettered rather than sent as an
expensive surprise. Marketing texts end with how to opt out ("Reply STOP to
opt out.") unless the template says so already ("reply/text/send STOP").

Twilio's answers: error 21610 (the number replied STOP) records the
advocate's SMS consent as withdrawn and suppresses the message
(:class:`~advokit.plugins.messages.OptedOut`); a refused account (401) waits
10 minutes without using up attempts; 429 and 5xx are tried again; any other
refusal (an invalid number, 21211) is dead-lettered. Twilio's Messages API
has no idempotency key: a send whose answer was lost is sent again.

Replies come back through the program's inbound webhook: pass the sender and
body to ``program.receive_sms(sender, body)``, which records STOP and START.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from advokit import Advocate, hookimpl
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError
from advokit.core.http import check_url
from advokit.core.registry import Register
from advokit.core.retries import RetryLater
from advokit.plugins.channels.segments import count_segments
from advokit.plugins.messages.delivery import DeliveryFailed, OptedOut
from advokit.plugins.messages.model import Category, Message

__all__ = ["OPTED_OUT", "TwilioSMS", "sms_text"]

#: Twilio's error: "Attempt to send to unsubscribed recipient".
OPTED_OUT = 21610
REFUSED_WAIT = timedelta(minutes=10)
_TWILIO_API = "https://api.twilio.com"
#: an opt-out instruction already in the text: "Reply STOP", "text STOP to..."
_SAYS_STOP = re.compile(r"\b(reply|text|send)\s+stop\b", re.IGNORECASE)
#: Twilio's client logs each request (numbers, texts) at INFO: quieter here
_QUIET = logging.getLogger("advokit.channels.twilio")
_QUIET.setLevel(logging.WARNING)


def sms_text(message: Message, opt_out_hint: str | None) -> str:
    """The text sent for ``message``: its ``.sms`` template, and for marketing the
    opt-out hint when the template does not mention STOP already."""
    text = message.rendered.sms
    if not text:
        raise DeliveryFailed(
            f"message {message.kind!r} has no SMS template ({message.kind}.sms): an SMS needs one"
        )
    if message.category is Category.MARKETING and opt_out_hint and not _SAYS_STOP.search(text):
        text = f"{text} {opt_out_hint}"
    return text


def _e164(number: str) -> str | None:
    """``number`` if phonenumbers takes it for a possible number, else None."""
    try:
        import phonenumbers
    except ImportError:  # pragma: no cover - the extra is in the test dependencies
        raise ConfigurationError(
            "phonenumbers", None, "installed: pip install 'advokit[sms]'"
        ) from None

    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class TwilioSMS:
    """Send messages as SMS through Twilio's Messages API.

    Args:
        account_sid, auth_token: the Twilio account.
        sender: the ``From`` number (E.164), or
        messaging_service_sid: a Messaging Service (``MG...``) to send from.
        max_segments: the most segments one text may take (it is dead-lettered
            beyond).
        opt_out_hint: what marketing texts end with (None: nothing).
        name: the channel's name (``SendMessage(channel=...)``).
        api_url: Twilio's API origin (a test server on loopback in tests).
        timeout: seconds to wait for Twilio.
    """

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str | None = None,
        messaging_service_sid: str | None = None,
        max_segments: int = 3,
        opt_out_hint: str | None = "Reply STOP to opt out.",
        name: str = "sms",
        api_url: str = _TWILIO_API,
        timeout: float = 15.0,
    ) -> None:
        if not isinstance(account_sid, str) or not account_sid.startswith("AC"):
            raise ConfigurationError(
                "TwilioSMS.account_sid", account_sid, "an account SID, 'AC...'"
            )
        if not isinstance(auth_token, str) or not auth_token:
            raise ConfigurationError("TwilioSMS.auth_token", "***", "the account's auth token")
        if (sender is None) == (messaging_service_sid is None):
            raise ConfigurationError(
                "TwilioSMS.sender", sender, "a number, or else a messaging_service_sid (one)"
            )
        if sender is not None and (not isinstance(sender, str) or _e164(sender) != sender):
            raise ConfigurationError("TwilioSMS.sender", sender, "an E.164 number, '+1415...'")
        if messaging_service_sid is not None and not str(messaging_service_sid).startswith("MG"):
            raise ConfigurationError(
                "TwilioSMS.messaging_service_sid", messaging_service_sid, "a SID, 'MG...'"
            )
        if not v.is_int(max_segments) or not 1 <= max_segments <= 10:
            raise ConfigurationError("TwilioSMS.max_segments", max_segments, "1 to 10")
        check_url("TwilioSMS.api_url", api_url)
        v.seconds("TwilioSMS.timeout", timeout)
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.sender = sender
        self.messaging_service_sid = messaging_service_sid
        self.max_segments = max_segments
        self.opt_out_hint = opt_out_hint
        self.name = name
        self.plugin_name = name
        self.api_url = api_url.rstrip("/")
        self.timeout = float(timeout)
        self._local = threading.local()

    def __repr__(self) -> str:
        sender = self.sender or self.messaging_service_sid
        return f"TwilioSMS(sender={sender!r}, name={self.name!r})"

    @hookimpl
    def advokit_register_channels(self, register: Register) -> None:
        register(self, name=self.name)

    def address(self, advocate: Advocate) -> str | None:
        return advocate.phone

    def send(self, program: Any, message: Message) -> Mapping[str, Any]:
        from twilio.base.exceptions import TwilioRestException

        text = sms_text(message, self.opt_out_hint)
        counted = count_segments(text)
        if counted.segments > self.max_segments:
            raise DeliveryFailed(
                f"the SMS {message.kind!r} takes {counted}: more than max_segments="
                f"{self.max_segments}"
            )
        to = _e164(message.advocate.phone or "")
        if to is None:
            raise DeliveryFailed(f"{message.advocate.phone!r} is not a possible phone number")
        sender = (
            {"from_": self.sender}
            if self.sender
            else {"messaging_service_sid": self.messaging_service_sid}
        )
        try:
            sent = self._client().messages.create(to=to, body=text, **sender)
        except TwilioRestException as error:
            said = f"Twilio answered {error.status} (error {error.code}): {error.msg}"
            if error.code == OPTED_OUT:
                raise OptedOut(said, source=f"twilio:{OPTED_OUT}") from None
            if error.status == 401:
                raise RetryLater(
                    f"{said} (check the credentials)", after=REFUSED_WAIT, counts=False
                ) from None
            if error.status in (408, 429) or error.status >= 500:
                raise RetryLater(said) from None
            raise DeliveryFailed(said) from None
        except OSError as error:  # requests' ConnectionError and Timeout are OSErrors
            raise RetryLater(f"Twilio unreachable: {error!r}") from None
        return {"sid": sent.sid, "segments": counted.segments, "encoding": counted.encoding}

    def _client(self) -> Any:
        """This thread's Twilio client (its HTTP session is not shared between threads)."""
        client = getattr(self._local, "client", None)
        if client is None:
            try:
                from twilio.http.http_client import TwilioHttpClient
                from twilio.rest import Client
            except ImportError:  # pragma: no cover - the extra is in the test dependencies
                raise ConfigurationError(
                    "twilio", None, "installed: pip install 'advokit[sms]'"
                ) from None
            origin = self.api_url

            class _Rebased(TwilioHttpClient):  # type: ignore[misc]
                """Twilio's client, its requests sent to ``api_url`` instead."""

                def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
                    if url.startswith(_TWILIO_API):
                        url = origin + url[len(_TWILIO_API) :]
                    return super().request(method, url, *args, **kwargs)

            http = _Rebased(timeout=self.timeout, max_retries=0, logger=_QUIET)
            client = Client(self.account_sid, self._auth_token, http_client=http)
            self._local.client = client
        return client
