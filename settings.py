"""The platform's one settings class, read from ``TERRITOIRES_*`` environment variables.

The Prefect API address is not here: it stays Prefect's own ``PREFECT_API_URL``.

``TERRITOIRES_AUDIT_KEY`` keys the audit trail's chain and the approval codes. It lives outside
the database (environment or secret store), so that someone who can write to the database can
neither rewrite the chain nor read a usable code. Outside development the platform refuses to
start without it. In development only, when it is not set, a random key is generated once in the
data folder (``cle-audit``, readable by its owner only), so that no key is ever published.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_KEY_LENGTH = 32
DEFAULT_DATA_DIR = Path("./var")
DEVELOPMENT_KEY_FILE = "cle-audit"


@lru_cache(maxsize=8)
def _development_key(path: str) -> bytes:
    """The development key of a data folder: created once (exclusively, mode 0600), then read."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return file.read_text(encoding="utf-8").strip().encode("utf-8")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secrets.token_urlsafe(48))
    return file.read_text(encoding="utf-8").strip().encode("utf-8")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TERRITOIRES_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; defaults to a SQLite file under data_dir. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Territoires d'intégration <ne-pas-repondre@territoires.example>"
    smtp_timeout_seconds: float = 10.0

    mail_sink_port: int = 1025
    mail_dir: Path | None = None

    # The reports (the national dashboard as HTML): where they are written, and the address
    # ``territoires up`` serves them at on 127.0.0.1 (the Prefect artifacts link there).
    reports_dir: Path | None = None
    reports_port: int = 4280
    reports_url: str | None = None

    # One-time approval codes (CTAI/PTAI approvals).
    approval_code_ttl_hours: int = 24 * 14

    # The secret that keys the audit chain (HMAC-SHA256) and the approval codes.
    audit_key: SecretStr | None = None

    # Legal acts (PDF): a préfecture drops its own arrete.html.j2 / convention.html.j2 / acte.css here to override ours.
    acts_templates_dir: Path | None = None
    # The Marianne font files (Marianne-Regular.woff2, …); by default .vendor/dsfr/… of the repository (`make dsfr`).
    marianne_dir: Path | None = None

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment == "production" and self.smtp_password is not None:
            if self.smtp_password.get_secret_value() in {"", "changeme", "changethis"}:
                raise ValueError("TERRITOIRES_SMTP_PASSWORD : mot de passe d'exemple refusé en production")
        key = self.audit_key.get_secret_value() if self.audit_key is not None else ""
        if self.environment != "development" and not key:
            raise ValueError(
                "TERRITOIRES_AUDIT_KEY : clé secrète obligatoire hors développement "
                '(au moins 32 caractères, par exemple : python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        if key and len(key) < MIN_KEY_LENGTH:
            raise ValueError(f"TERRITOIRES_AUDIT_KEY : clé refusée, moins de {MIN_KEY_LENGTH} caractères")
        return self

    @property
    def audit_key_bytes(self) -> bytes:
        """The secret; in development without one, the key generated in the data folder."""
        if self.audit_key is not None:
            return self.audit_key.get_secret_value().encode("utf-8")
        return _development_key(str(self.development_key_file.resolve()))

    @property
    def development_key_file(self) -> Path:
        return self.data_dir / DEVELOPMENT_KEY_FILE

    @property
    def key_source(self) -> str:
        """Where the key comes from, for the start-up banner."""
        if self.audit_key is not None:
            return "TERRITOIRES_AUDIT_KEY"
        return f"{self.development_key_file.resolve()} (clé de développement générée sur ce poste)"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'territoires.db').resolve()}"

    @property
    def resolved_reports_dir(self) -> Path:
        return self.reports_dir or self.data_dir / "rapports"

    @property
    def resolved_mail_dir(self) -> Path:
        return self.mail_dir or self.data_dir / "mail"

    @property
    def uses_mail_sink(self) -> bool:
        return not self.smtp_host


@lru_cache
def get_settings() -> Settings:
    return Settings()
