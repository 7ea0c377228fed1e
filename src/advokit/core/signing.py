"""HMAC-SHA256 signatures of outgoing JSON requests, and their check on the receiving side.

The signed text is ``"{timestamp}.{body}"`` (as Stripe and Slack sign), so a
captured request cannot be replayed later with another timestamp, and the
receiver can refuse stale ones. Headers::

    X-Advokit-Timestamp: 1767225600
    X-Advokit-Signature: v1=5d41402abc4b2a76b9719d911017c592...
"""

from __future__ import annotations

import hashlib
import hmac
import time

from advokit.core.errors import AdvokitError

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "BadSignature",
    "sign",
    "signed_headers",
    "verify",
]

TIMESTAMP_HEADER = "X-Advokit-Timestamp"
SIGNATURE_HEADER = "X-Advokit-Signature"


class BadSignature(AdvokitError):
    """A request's signature is missing, wrong or too old."""


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The ``v1=...`` signature of ``body`` sent at ``timestamp`` (Unix seconds)."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def signed_headers(secret: str | bytes, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The timestamp and signature headers for ``body``, sent now."""
    timestamp = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify(
    secret: str | bytes,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    tolerance: float = 300,
    now: float | None = None,
) -> None:
    """Check a received request's headers; raise :class:`BadSignature` if it is not genuine.

    ``tolerance`` is how old (or how far ahead) the timestamp may be, in seconds.
    """
    if not timestamp or not signature:
        raise BadSignature(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
    try:
        sent = int(timestamp)
    except ValueError:
        raise BadSignature(f"{TIMESTAMP_HEADER}={timestamp!r} is not Unix seconds") from None
    if abs((time.time() if now is None else now) - sent) > tolerance:
        raise BadSignature(f"{TIMESTAMP_HEADER}={timestamp!r} is older than {tolerance:g}s")
    if not hmac.compare_digest(sign(secret, sent, body), signature):
        raise BadSignature(f"{SIGNATURE_HEADER} does not match the body")
