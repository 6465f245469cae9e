"""A local SMTP sink (aiosmtpd): stores each message as a .eml file and prints to and subject.

It is how a newcomer reads the platform's emails on their own machine, and what the tests send to.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from models.types import utcnow


@dataclass(frozen=True)
class Received:
    to: tuple[str, ...]
    message: EmailMessage
    path: Path | None

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


class MailSink:
    """aiosmtpd handler. ``directory=None`` keeps messages in memory only."""

    def __init__(self, directory: Path | None = None, echo: bool = False):
        self.directory = directory
        self.echo = echo
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        path = None
        if self.directory is not None:
            stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
            path = self.directory / f"{stamp}-{next(self._counter):06d}.eml"
            path.write_bytes(raw)
        item = Received(tuple(envelope.rcpt_tos), message, path)
        with self._lock:
            self.received.append(item)
        if self.echo:
            print(f"{', '.join(item.to)} | {item.subject}", flush=True)
        return "250 Message accepted for delivery"


class SinkServer:
    """The sink on 127.0.0.1, in a background thread (aiosmtpd's Controller)."""

    def __init__(self, handler: MailSink, port: int = 0, host: str = "127.0.0.1"):
        self.handler, self.host, self.port = handler, host, port
        self._controller: Controller | None = None

    def start(self) -> SinkServer:
        self._controller = Controller(
            self.handler, hostname=self.host, port=self.port or _free_port(self.host), ready_timeout=10
        )
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
