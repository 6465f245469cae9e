"""The platform's one settings class, read from ``TERRITOIRES_*`` environment variables.

The Prefect API address is not here: it stays Prefect's own ``PREFECT_API_URL``.

``TERRITOIRES_AUDIT_KEY`` keys the audit trail's chain and the approval codes. It lives outside
the database (environment or secret store), so that someone who can write to the database can
neither rewrite the chain nor read a usable code. Only a development setup may run without it,
on a published development key.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


# Published on purpose: a development database is not a State decision. Refused elsewhere.
DEVELOPMENT_AUDIT_KEY = "territoires-cle-de-developpement-publique-ne-protege-rien"
MIN_KEY_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TERRITOIRES_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./var")
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

    # One-time approval codes (CTAI/PTAI approvals).
    approval_code_ttl_hours: int = 24 * 14

    # The secret that keys the audit chain (HMAC-SHA256) and the approval codes.
    audit_key: SecretStr | None = None

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> "Settings":
        if self.environment == "production" and self.smtp_password is not None:
            if self.smtp_password.get_secret_value() in {"", "changeme", "changethis"}:
                raise ValueError("TERRITOIRES_SMTP_PASSWORD : mot de passe d'exemple refusé en production")
        if self.environment != "development":
            key = self.audit_key.get_secret_value() if self.audit_key is not None else ""
            if not key:
                raise ValueError("TERRITOIRES_AUDIT_KEY : clé secrète obligatoire hors développement "
                                 "(au moins 32 caractères, par exemple : python -c \"import secrets; print(secrets.token_urlsafe(48))\")")
            if len(key) < MIN_KEY_LENGTH or key == DEVELOPMENT_AUDIT_KEY:
                raise ValueError(f"TERRITOIRES_AUDIT_KEY : clé refusée (clé de développement, ou moins de {MIN_KEY_LENGTH} caractères)")
        return self

    @property
    def audit_key_bytes(self) -> bytes:
        """The secret, or the published development key when none is set (development only)."""
        key = self.audit_key.get_secret_value() if self.audit_key is not None else DEVELOPMENT_AUDIT_KEY
        return key.encode("utf-8")

    @property
    def uses_development_key(self) -> bool:
        return self.audit_key is None or self.audit_key.get_secret_value() == DEVELOPMENT_AUDIT_KEY

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'territoires.db').resolve()}"

    @property
    def resolved_mail_dir(self) -> Path:
        return self.mail_dir or self.data_dir / "mail"

    @property
    def uses_mail_sink(self) -> bool:
        return not self.smtp_host


@lru_cache
def get_settings() -> Settings:
    return Settings()
