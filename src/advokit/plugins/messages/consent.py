"""Consent at send time, and one-click unsubscribe tokens.

A token names the program, the advocate and the channel, signed with
HMAC-SHA256 under the program's secret: the integrating web app puts it in
the unsubscribe link (``List-Unsubscribe``) and calls
``program.unsubscribe(token)`` when it is followed. Tokens do not expire: a
link in a mail read a year later must still work.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from advokit import Advocate
from advokit.core.errors import InvalidValue
from advokit.plugins.messages.model import Category

__all__ = ["allowed", "read_token", "unsubscribe_token"]

_TAG = 16  # bytes of the HMAC kept: 128 bits


def unsubscribe_token(secret: str, program: str, advocate: str, channel: str) -> str:
    """The token that unsubscribes ``advocate`` from ``channel``."""
    payload = _b64(json.dumps([program, advocate, channel], separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(secret, payload))}"


def read_token(secret: str, program: str, token: Any) -> tuple[str, str]:
    """The (advocate, channel) a token unsubscribes; InvalidValue if it is not one of
    this program's, or was altered."""
    accepted = "an unsubscribe token of this program, as unsubscribe_token made it"
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 2000:
        raise InvalidValue("token", _shown(token), accepted)
    payload, tag = token.split(".")
    try:
        good = hmac.compare_digest(_unb64(tag), _mac(secret, payload))
        named = json.loads(_unb64(payload))
    except ValueError:
        raise InvalidValue("token", _shown(token), accepted) from None
    if not good or not (isinstance(named, list) and len(named) == 3) or named[0] != program:
        raise InvalidValue("token", _shown(token), accepted)
    return str(named[1]), str(named[2])


def allowed(advocate: Advocate, channel: str, category: Category) -> str | None:
    """Why ``advocate`` may not get a ``category`` message on ``channel`` now, or None.

    Marketing needs consent granted on the channel; transactional messages
    (a reward delivered) are part of what the advocate asked for and go.
    """
    if category is Category.TRANSACTIONAL:
        return None
    consent = advocate.consent.get(channel)
    if consent is None:
        return f"no consent on {channel} for marketing"
    if not consent.granted:
        source = f" ({consent.source})" if consent.source else ""
        return f"consent on {channel} withdrawn{source}"
    return None


def _mac(secret: str, payload: str) -> bytes:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:_TAG]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError(str(error)) from None


def _shown(token: Any) -> Any:
    return token[:40] + "..." if isinstance(token, str) and len(token) > 40 else token
