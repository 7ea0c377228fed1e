"""The webhook channel: each message POSTed as signed JSON, for integrations.

A CRM, a help desk or an automation tool receives what advokit would have
sent, and does its own thing with it. The request::

    POST https://crm.example/advokit
    Content-Type: application/json
    Idempotency-Key: <the message's key: the same on every try>
    X-Advokit-Attempt: 1
    X-Advokit-Timestamp: 1780315200
    X-Advokit-Signature: v1=<HMAC-SHA256 of "{timestamp}.{body}" under the secret>

    {"program": "bakery", "key": "...", "kind": "detractor_alert",
     "category": "transactional",
     "advocate": {"external_id": "ann", "name": "Ann", "email": "...", "phone": null,
                  "locale": "en"},
     "context": {...}, "rendered": {"subject": "...", "text": "...", "sms": null}}

The receiver checks the signature with :func:`advokit.core.signing.verify`
and must treat a second request with the same ``Idempotency-Key`` as the same
message: a send whose answer was lost is made again, with the same key.

Answers: 2xx -> sent; 404 or 410 -> the destination is disabled
(:class:`~advokit.plugins.messages.DestinationGone`); 401 or 403 (the secret
is refused) -> tried again every 10 minutes without using up attempts; 408,
409, 425, 429 and 5xx -> tried again, after ``Retry-After`` when given; any
other answer -> dead-lettered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from advokit import Advocate, hookimpl
from advokit.core import validation as v
from advokit.core.http import HttpClient, check_url, origin, retry_after
from advokit.core.registry import Register
from advokit.core.retries import RetryLater
from advokit.core.signing import signed_headers
from advokit.plugins.messages.delivery import DeliveryFailed, DestinationGone
from advokit.plugins.messages.model import Message

__all__ = ["Webhook", "webhook_body"]

_RETRYABLE = frozenset({408, 409, 425, 429})
_GONE = frozenset({404, 410})
#: How long messages wait after a 401/403 before they are tried again.
REFUSED_WAIT = timedelta(minutes=10)


class Webhook:
    """POST each message on this channel, signed, to ``url``.

    The webhook reaches the business's own systems, not the advocate: consent,
    quiet hours and caps do not apply (``to_advocate = False``).

    Args:
        url: the ``http(s)://`` endpoint.
        secret: the HMAC secret this destination shares (at least 16 characters).
        name: the channel's name (``SendMessage(channel=...)``).
        timeout: seconds to wait for an answer.
    """

    to_advocate = False

    def __init__(self, *, url: str, secret: str, name: str = "webhook", timeout: float = 10.0):
        check_url("Webhook.url", url)
        v.secret("Webhook.secret", secret)
        v.seconds("Webhook.timeout", timeout)
        self.url = url
        self.name = name
        self.plugin_name = name
        self._secret = secret
        self._client = HttpClient(float(timeout))

    def __repr__(self) -> str:
        return f"Webhook({origin(self.url) + '/...'!r}, name={self.name!r})"

    @hookimpl
    def advokit_register_channels(self, register: Register) -> None:
        register(self, name=self.name)

    def address(self, advocate: Advocate) -> str:
        """The destination, by name: the URL may hold a secret and is not stored."""
        return self.name

    def send(self, program: Any, message: Message) -> Mapping[str, Any]:
        body = json.dumps(webhook_body(program.name, message), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.key,
            # not in the body: a retry sends the same body under the same key
            "X-Advokit-Attempt": str(message.attempt),
            # the wall clock, as the HTTP fulfiller: the receiver checks freshness by its own
            **signed_headers(self._secret, body),
        }
        status, answer_headers, raw = self._client.post(self.url, body, headers)
        if 200 <= status < 300:
            return {"status": status}
        text = " ".join(raw[:300].decode("utf-8", "replace").split())
        # the destination by name and host: the URL's path may be its secret
        said = f"webhook {self.name!r} ({origin(self.url)}) answered {status}: {text}"
        if status in _GONE:
            raise DestinationGone(said, destination=self.name)
        if status in (401, 403):
            raise RetryLater(f"{said} (check the secret)", after=REFUSED_WAIT, counts=False)
        if status in _RETRYABLE or status >= 500:
            raise RetryLater(said, after=retry_after(answer_headers.get("Retry-After")))
        raise DeliveryFailed(said)


def webhook_body(program: str, message: Message) -> dict[str, Any]:
    """The JSON object a webhook request sends for ``message``."""
    advocate, rendered = message.advocate, message.rendered
    return {
        "program": program,
        "key": message.key,
        "kind": message.kind,
        "category": message.category.value,
        "advocate": {
            "external_id": advocate.external_id,
            "name": advocate.name,
            "email": advocate.email,
            "phone": advocate.phone,
            "locale": advocate.locale,
        },
        "context": dict(message.context),
        "rendered": {"subject": rendered.subject, "text": rendered.text, "sms": rendered.sms},
    }
