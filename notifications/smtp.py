"""Where mail goes: the configured SMTP server, or the local sink when none is configured."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.utils import parseaddr

import aiosmtplib

from settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    security: str = "none"  # none, starttls, tls
    username: str | None = None
    password: str | None = None
    sender: str = "ne-pas-repondre@territoires.example"
    timeout: float = 10.0
    is_local_sink: bool = False

    @property
    def message_id_domain(self) -> str:
        return parseaddr(self.sender)[1].rpartition("@")[2] or "territoires.example"

    def client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.security == "tls",
            start_tls=self.security == "starttls",
            timeout=self.timeout,
        )

    def describe(self) -> str:
        if self.is_local_sink:
            return f"puits local {self.host}:{self.port} (aucun serveur SMTP configuré)"
        return f"serveur SMTP {self.host}:{self.port} ({self.security})"


def smtp_target(settings: Settings | None = None) -> SmtpTarget:
    s = settings or get_settings()
    if s.uses_mail_sink:
        return SmtpTarget(
            host="127.0.0.1",
            port=s.mail_sink_port,
            sender=s.smtp_from,
            timeout=s.smtp_timeout_seconds,
            is_local_sink=True,
        )
    return SmtpTarget(
        host=s.smtp_host,
        port=s.smtp_port,
        security=s.smtp_security,
        username=s.smtp_username,
        password=s.smtp_password.get_secret_value() if s.smtp_password else None,
        sender=s.smtp_from,
        timeout=s.smtp_timeout_seconds,
    )


def announce(target: SmtpTarget) -> str:
    """The start-up line: says plainly when mail goes to the local sink."""
    line = f"Courriels : {target.describe()}"
    if target.is_local_sink:
        log.warning(line)
    else:
        log.info(line)
    return line
