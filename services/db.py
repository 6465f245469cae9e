"""Engine and unit of work. SQLite by default, PostgreSQL (psycopg) for scale."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

from models.errors import RuleViolation, Violation
from settings import get_settings

DATABASE_URL_VARIABLE = "TERRITOIRES_DATABASE_URL"


def _prepare_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL, a busy timeout, and BEGIN IMMEDIATE so that writers queue up
    instead of failing on a stale snapshot (the audit chain needs serialized writers)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL; without a URL, the one the settings name now."""
    return _engine_for(url or get_settings().resolved_database_url)


def _check_url(parsed) -> None:
    """A PostgreSQL URL names the psycopg driver (the only one installed): a plain ``postgresql://``
    would ask SQLAlchemy for psycopg2 and fail with an import error. We refuse it rather than rewrite
    it, so that the URL the operator reads in the settings is the one in use."""
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise RuleViolation(
            [
                Violation(
                    "URL_BASE_INVALIDE",
                    DATABASE_URL_VARIABLE,
                    f"« {parsed.drivername}:// » demande le pilote {parsed.get_driver_name()}, non installé : écrivez "
                    " l'adresse sous la forme postgresql+psycopg://utilisateur:mot_de_passe@hôte:5432/base",
                )
            ]
        )


def _sqlite_directory(database: str) -> None:
    """The default data directory (``TERRITOIRES_DATA_DIR``) is the platform's: it is created when
    missing. Any other directory must exist: a typo in the URL must not create a new empty base."""
    directory = Path(database).parent.resolve()
    data_dir = get_settings().data_dir.resolve()
    if directory.is_dir():
        return
    if directory == data_dir or directory.is_relative_to(data_dir):
        directory.mkdir(parents=True, exist_ok=True)
        return
    raise RuleViolation(
        [
            Violation(
                "DOSSIER_INTROUVABLE",
                DATABASE_URL_VARIABLE,
                f"le dossier {directory} de la base SQLite n'existe pas : créez-le ou corrigez l'adresse",
            )
        ]
    )


@lru_cache(maxsize=16)
def _engine_for(url: str) -> Engine:
    parsed = make_url(url)
    _check_url(parsed)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _sqlite_directory(parsed.database)
        engine = create_engine(url, connect_args={"timeout": 30})
        _prepare_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commits when the block ends, rolls everything back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_postgresql(session_or_engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"
