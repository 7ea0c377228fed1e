"""A real SMTP server on 127.0.0.1 for the email channel's tests (aiosmtpd).

Every message it accepts is kept with its envelope, so a test sees exactly
what reached the server. ``refuse`` scripts answers for recipients (550: an
unknown mailbox; 451: try later).
"""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["SmtpServer"]


def free_port() -> int:
    # Controller(port=0) cannot probe its own readiness: pick a free port first
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        answer = self.server.refuse.get(address)
        if answer is not None:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.server.lock:
            self.server.received.append(
                (
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    message_from_bytes(envelope.content, policy=policy.default),
                )
            )
        return "250 Message accepted"


class SmtpServer:
    """``with SmtpServer() as smtp:``; ``smtp.port``, ``smtp.received``."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.refuse: dict[str, str] = {}
        self.lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._controller.stop()

    def message_ids(self) -> list[str]:
        return [message["Message-ID"] for _, _, message in self.received]
