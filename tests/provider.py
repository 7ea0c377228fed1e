"""A reward provider on 127.0.0.1 for fulfilment tests: real HTTP, a real socket.

It keeps the contract a gift-card provider documents: a POST to ``/fulfil``
creates an order once per idempotency key; the same key again answers the
original order. A POST to ``/reverse`` cancels the order of the body's ``key``
once per idempotency key (404 when there is no such order). A script of answers
(500, 429 with Retry-After...) is served first. Every call is counted, so a
test sees what reached the provider.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from advokit.core.signing import BadSignature, verify

__all__ = ["Provider"]

Answer = tuple[int, dict[str, str]]  # status, headers


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default 5 drops connections concurrent workers open


class Provider:
    """Start with ``with Provider(secret) as provider:``; POST to ``provider.url``."""

    def __init__(
        self,
        secret: str | None = None,
        script: Iterable[Answer] = (),
        *,
        drop_connections: bool = False,
    ) -> None:
        self.secret = secret
        self.script = list(script)
        self.drop_connections = drop_connections  # close kept-alive connections unannounced
        self.calls: list[tuple[str, int]] = []  # (key, status answered)
        self.orders: dict[str, dict[str, Any]] = {}  # by key: what was created
        self.reversals: dict[str, dict[str, Any]] = {}  # by key: what was canceled
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.peers: set[tuple[str, int]] = set()  # the client ends of the connections
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/fulfil"

    @property
    def reverse_url(self) -> str:
        return self.url.replace("/fulfil", "/reverse")

    def __enter__(self) -> Provider:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def created(self) -> int:
        """Orders created: one per key, however often it was asked."""
        return len(self.orders)

    def calls_for(self, key: str) -> list[int]:
        return [status for k, status in self.calls if k == key]

    def answer(
        self, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, str], Any]:
        """What to answer: the script first, then the order (created once per key)."""
        key = headers["Idempotency-Key"]
        with self.lock:
            if self.script:
                status, extra = self.script.pop(0)
                self.calls.append((key, status))
                return status, extra, {"error": f"scripted {status}"}
            if path == "/reverse":
                return self._reverse(key, body)
            created = key not in self.orders
            if created:
                self.orders[key] = {"id": f"order-{len(self.orders) + 1}", "key": key}
            status = 201 if created else 200
            self.calls.append((key, status))
            return status, {}, self.orders[key]

    def _reverse(self, key: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        order = self.orders.get(body["key"])
        if order is None:
            self.calls.append((key, 404))
            return 404, {}, {"error": f"no order {body['key']}"}
        created = key not in self.reversals
        if created:
            self.reversals[key] = {"canceled": order["id"], "key": key}
        status = 201 if created else 200
        self.calls.append((key, status))
        return status, {}, self.reversals[key]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # the body is written apart from the headers

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = dict(self.headers.items())
                if provider.secret is not None:
                    try:
                        verify(
                            provider.secret,
                            raw,
                            headers.get("X-Advokit-Timestamp"),
                            headers.get("X-Advokit-Signature"),
                        )
                    except BadSignature as error:
                        return self._send(401, {}, {"error": str(error)})
                body = json.loads(raw)
                with provider.lock:
                    provider.bodies.append(body)
                    provider.headers.append(headers)
                    provider.peers.add(self.client_address[:2])
                status, extra, answer = provider.answer(self.path, headers, body)
                return self._send(status, extra, answer)

            def _send(self, status: int, extra: dict[str, str], answer: Any) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                if provider.drop_connections:
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
