"""Shared fixtures: a migrated database on SQLite and on PostgreSQL.

PostgreSQL must be reachable at 127.0.0.1:5432 (trust auth): if it is not, the tests that need
it fail. They are never skipped.
"""

from __future__ import annotations

import os

# The test process itself does not ship its logs to the short-lived test servers, sends no usage
# analytics, and keys every database and code with one key, shared with the processes it starts.
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("TERRITOIRES_AUDIT_KEY", "cle-des-tests-" + "0123456789abcdef" * 3)

# The command line finds a platform that ``territoires up`` recorded in ./var: the tests never
# use one a developer may be running in this checkout (each test names its own Prefect server).
import cli  # noqa: E402,F401 - before Prefect reads its settings
from cli.platform_state import FROM_RECORD  # noqa: E402 - after the environment above is set, before Prefect reads it

if os.environ.pop(FROM_RECORD, None):
    os.environ.pop("PREFECT_API_URL", None)
    os.environ.pop("PREFECT_UI_URL", None)

import shutil  # noqa: E402 - after the environment above is set, before Prefect reads it
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.decision import GENESIS_HASH, head_seal
from notifications.sink import MailSink, SinkServer
from notifications.smtp import SmtpTarget
from services.db import get_engine
from services.engine.audit import chain_key
from services.migrate import upgrade
from settings import get_settings

PG_ADMIN_URL = os.environ.get("TERRITOIRES_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{dbname}"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    name = f"territoires_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg_url(name)
    upgrade(url)
    yield url
    get_engine(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    get_engine(url).dispose()
    return path


def _truncate_pg(engine: Engine) -> None:
    """Empties every table between tests. The chain refuses TRUNCATE (its triggers): the test
    superuser sets the session in replica mode, where ordinary triggers do not fire."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN "
                    "('alembic_version', 'installation')"
                )
            )
        ]
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        conn.execute(
            text("INSERT INTO audithead (id, last_decision_id, last_hash, seal) VALUES (1, NULL, :h, :s)"),
            {"h": GENESIS_HASH, "s": head_seal(None, GENESIS_HASH, chain_key())},
        )


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> Iterator[str]:
    """URL of an empty, migrated database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "territoires.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        yield url
        get_engine(url).dispose()
    else:
        url = request.getfixturevalue("pg_database")
        _truncate_pg(get_engine(url))
        yield url


@pytest.fixture
def engine(db_url) -> Engine:
    return get_engine(db_url)


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def app_env(db_url, tmp_path, monkeypatch) -> str:
    """Points the settings (hence the CLI) at the test database."""
    monkeypatch.setenv("TERRITOIRES_DATABASE_URL", db_url)
    monkeypatch.setenv("TERRITOIRES_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


# --- SMTP -----------------------------------------------------------------------------------------


class ScriptedSink(MailSink):
    """The real sink, plus scripted replies for chosen recipients (``{"x@y": "550 …"}``) and a
    count of SMTP sessions, to check connection reuse."""

    def __init__(self, directory=None):
        super().__init__(directory)
        self.replies: dict[str, str] = {}
        self.sessions = 0
        self.delay = 0.0  # seconds per message, to make concurrent senders overlap
        self.on_message = None  # called with each message received, before the reply

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.delay:
            await asyncio.sleep(self.delay)
        reply = await super().handle_DATA(server, session, envelope)
        if self.on_message is not None:
            await asyncio.to_thread(self.on_message, self.received[-1])
        return reply

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def to(self, address: str) -> list:
        return [r for r in self.received if address in r.to]


@pytest.fixture
def smtp_sink(tmp_path) -> Iterator[tuple[ScriptedSink, SinkServer]]:
    handler = ScriptedSink(tmp_path / "mail")
    server = SinkServer(handler).start()
    yield handler, server
    server.stop()


@pytest.fixture
def smtp_target_for(smtp_sink):
    _, server = smtp_sink
    return SmtpTarget(host="127.0.0.1", port=server.port, sender="Préfecture <ne-pas-repondre@territoires.example>")


# --- How ``make test`` shares the tests between its two processes ---------------------------------


def pytest_xdist_make_scheduler(config, log):
    """The tests are shared out by file, as ``--dist loadfile`` does, and a file's SQLite and
    PostgreSQL cases apart: a long file (the chaos cases, on both databases) no longer keeps one
    process busy while the other has finished. The platform a file builds per database (a
    module-scoped fixture) is still built once per database."""
    from xdist.scheduler import LoadScopeScheduling

    class ByFileAndDatabase(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file, _, test = nodeid.partition("::")
            params = test.rpartition("[")[2].rstrip("]").split("-") if test.endswith("]") else []
            database = next((p for p in params if p in BACKENDS), None)
            return file if database is None else f"{file}[{database}]"

    return ByFileAndDatabase(config, log)
