"""The chaos suite's platform, whole and breakable: a Prefect server of its own, started as
``territoires up`` starts it (``cli.prefect_server``: SQLite with BEGIN IMMEDIATE writes), the
deployments served by ``territoires serve``, an SMTP sink that can be held or stopped, and the
application database (SQLite and PostgreSQL). Each case prints ``chaos: <case> lost=<n>
duplicated=<n>``."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings
from sqlalchemy import create_engine, text

from notifications.sink import SinkServer, _free_port
from services.db import get_engine
from services.migrate import upgrade
from tests.conftest import PG_ADMIN_URL, ScriptedSink, _pg_url
from tests.flows.conftest import ServedPlatform, _wait_http
from tests.prefect_servers import UNUSED_SERVICES, migrated_sqlite_home, shared_folder


class BreakableSink(ScriptedSink):
    """The sink, which can hold its reply at the end of DATA (the sender waits for it): ``hold``
    decides for which message; ``holding`` is set while one is held, until ``release``. A held
    message is stored at once when ``accept_held``, else refused with a temporary error."""

    def __init__(self, directory=None):
        super().__init__(directory)
        self.hold = None
        self.accept_held = False
        self.holding, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.hold is not None and self.hold(envelope):
            self.hold = None
            # Accepted means stored at once, as a server that committed the message before its
            # reply reached a sender that died meanwhile.
            reply = (
                await super().handle_DATA(server, session, envelope)
                if self.accept_held
                else "451 4.3.0 Service momentanément indisponible"
            )
            self.holding.set()
            await asyncio.to_thread(self.release.wait, 180)
            return reply
        return await super().handle_DATA(server, session, envelope)

    def message_ids(self) -> Counter:
        return Counter(str(m.message["Message-ID"]) for m in self.received)


class Stack:
    """One platform: Prefect server, served deployments, SMTP sink, application database."""

    def __init__(self, workdir: Path, db_url: str):
        self.workdir, self.db_url = workdir, db_url
        self.port = _free_port("127.0.0.1")
        self.api_url, self.ui_url = f"http://127.0.0.1:{self.port}/api", f"http://127.0.0.1:{self.port}"
        self.home = workdir / "prefect"
        self.server: subprocess.Popen | None = None
        self.sink = BreakableSink(workdir / "mail")
        self.sink_server = SinkServer(self.sink).start()
        self.platform = ServedPlatform(
            {"api_url": self.api_url, "ui_url": self.ui_url, "home": self.home},
            db_url,
            self.sink,
            self.sink_server.port,
            workdir,
        )
        self.engine = self.platform.engine
        self.server_starts = 0
        self.first_outbox_id = 1  # the outbox rows of the current test start here (``begin_test``)

    # --- Prefect server -----------------------------------------------------------------------

    def start_prefect(self) -> None:
        self.server_starts += 1
        log = self.workdir / f"prefect-server-{self.server_starts}.log"
        env = {
            **os.environ,
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_API_URL": self.api_url,
            "PREFECT_UI_URL": self.ui_url,
            **UNUSED_SERVICES,
        }
        env.pop("PREFECT_SERVER_DATABASE_CONNECTION_URL", None)  # its own SQLite, as ``territoires up`` has
        with log.open("w") as out:
            self.server = subprocess.Popen(
                [sys.executable, "-m", "cli.prefect_server", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_http(f"{self.api_url}/health", 120, self.server, log)

    def stop_prefect(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(timeout=10)
        self.server = None

    def prefect_log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.workdir.glob("prefect-server-*.log"))
        )

    # --- SMTP sink ----------------------------------------------------------------------------

    def stop_sink(self) -> None:
        self.sink_server.stop()

    def start_sink(self) -> None:
        self.sink_server = SinkServer(self.sink, port=self.sink_server.port).start()

    # --- what the suite reports ---------------------------------------------------------------

    def sql(self, query: str, **params) -> list:
        with self.engine.connect() as conn:
            return conn.execute(text(query), params).all()

    def begin_test(self) -> None:
        """The stack serves a module's tests in turn: what a test counts starts here."""
        self.first_outbox_id = (self.sql("SELECT max(id) FROM outbox_message")[0][0] or 0) + 1

    def email_duplicates(self) -> int:
        """Copies received beyond the first of each message (same Message-ID: the same outbox row)."""
        return sum(n - 1 for n in self.sink.message_ids().values())


REPORTED: list[str] = []


def report(case: str, lost: int, duplicated: int, database: str | None = None) -> None:
    """The suite's line for a case: in the test's output, and again in pytest's summary."""
    line = f"chaos: {case}{f' [{database}]' if database else ''} lost={lost} duplicated={duplicated}"
    print(line)
    REPORTED.append(line)


def pytest_terminal_summary(terminalreporter):
    if REPORTED:
        terminalreporter.section("chaos")
        for line in REPORTED:
            terminalreporter.write_line(line)


def _new_database(param: str, workdir: Path) -> tuple[str, str | None]:
    if param == "sqlite":
        return f"sqlite:///{workdir / 'territoires.db'}", None
    name = f"territoires_chaos_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return _pg_url(name), name


def _drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def build_stack(param: str, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"chaos-{param}")
    db_url, dropped = _new_database(param, workdir)
    upgrade(db_url)
    stack = Stack(workdir, db_url)
    migrated_sqlite_home(stack.home, shared_folder(tmp_path_factory))
    old = {k: os.environ.get(k) for k in ("TERRITOIRES_DATABASE_URL", "TERRITOIRES_SMTP_HOST", "TERRITOIRES_SMTP_PORT")}
    os.environ.update(
        {
            "TERRITOIRES_DATABASE_URL": db_url,
            "TERRITOIRES_SMTP_HOST": "127.0.0.1",
            "TERRITOIRES_SMTP_PORT": str(stack.sink_server.port),
        }
    )
    from settings import get_settings

    get_settings.cache_clear()
    try:
        stack.start_prefect()
        with temporary_settings(updates={PREFECT_API_URL: stack.api_url, PREFECT_UI_URL: stack.ui_url}):
            stack.platform.start()
            yield stack
    finally:
        stack.platform.kill()
        stack.stop_prefect()
        stack.sink_server.stop()
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        get_settings.cache_clear()
        get_engine(db_url).dispose()
        stack.engine.dispose()
        if dropped:
            _drop_database(dropped)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory):
    yield from build_stack(request.param, tmp_path_factory)


@pytest.fixture(autouse=True)
def _prefect_of_the_stack(request):
    """The test process talks to the stack's Prefect server (when the test has one)."""
    if "stack" not in request.fixturenames and "pg_stack" not in request.fixturenames:
        yield
        return
    current = request.getfixturevalue("pg_stack" if "pg_stack" in request.fixturenames else "stack")
    current.begin_test()
    with temporary_settings(updates={PREFECT_API_URL: current.api_url, PREFECT_UI_URL: current.ui_url}):
        yield
