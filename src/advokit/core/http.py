"""Outgoing HTTP for the outboxes: kept-alive POSTs, ``Retry-After``, URL checks.

Shared by the callees that speak HTTP (the HTTP fulfiller, the webhook
channel, contrib fulfillers), so that each does not open its own connection
per call nor read ``Retry-After`` its own way.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from advokit.core.errors import ConfigurationError
from advokit.core.retries import RetryLater

__all__ = ["HttpClient", "check_url", "origin", "retry_after"]


class HttpClient:
    """POSTs over kept-alive connections, one per thread and host (no new TLS handshake
    per reward). A request on a kept connection the server had closed is sent once more
    on a new one: fulfilment requests carry their idempotency key, so that is safe."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._local = threading.local()

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, Any, bytes]:
        """(status, headers, body) of the answer; transport failures raise RetryLater."""
        parts = urllib.parse.urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += f"?{parts.query}"
        sent = {"User-Agent": "advokit", "Content-Length": str(len(body)), **headers}
        for fresh in (False, True):
            connection, reused = self._connection(parts, fresh)
            try:
                connection.request("POST", path, body=body, headers=sent)
                response = connection.getresponse()
                raw = response.read()
            except (http.client.HTTPException, OSError) as error:
                connection.close()
                self._forget(parts)
                if reused and not fresh and _stale(error):
                    continue  # the server closed the kept connection: once more, anew
                raise RetryLater(f"{origin(url)} unreachable: {error!r}") from None
            if response.will_close:
                self._forget(parts)
            return response.status, response.headers, raw
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(
        self, parts: urllib.parse.SplitResult, fresh: bool
    ) -> tuple[http.client.HTTPConnection, bool]:
        pool: dict[str, http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        kept = pool.get(parts.netloc)
        if kept is not None and not fresh:
            return kept, True
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = kind(parts.netloc, timeout=self.timeout)
        pool[parts.netloc] = connection
        return connection, False

    def _forget(self, parts: urllib.parse.SplitResult) -> None:
        pool = self._local.__dict__.get("pool", {})
        connection = pool.pop(parts.netloc, None)
        if connection is not None:
            connection.close()


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: what an error may say of it. A webhook's
    path and query often hold its secret (``/services/T0/B0/XXXX``): never stored."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"


def check_url(field: str, url: Any) -> None:
    """Refuse (ConfigurationError naming ``field``) anything but an http(s) URL."""
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        shown = origin(url) + "/..." if isinstance(url, str) else url  # may hold a secret
        raise ConfigurationError(field, shown, "an http:// or https:// URL")


def _stale(error: BaseException) -> bool:
    return isinstance(
        error,
        http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError,
    )


def retry_after(value: str | None, *, now: datetime | None = None) -> timedelta | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) as a wait; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - (now or datetime.now(UTC)), timedelta(0)) or None
