"""A real Prefect server for the session, and per module: a database, an SMTP sink and the
platform's deployments served by ``territoires serve`` in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import create_engine, text

from notifications.sink import SinkServer, _free_port
from services.db import get_engine
from services.migrate import upgrade
from tests.conftest import PG_ADMIN_URL, ScriptedSink, _pg_url

BIN = Path(sys.executable).parent


def _wait_http(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"process exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """``prefect server start`` on 127.0.0.1 with its own home, on its own PostgreSQL database
    (on SQLite, the server's background services lock it for up to a minute under this load);
    yields the API URL."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port("127.0.0.1")
    log = home / "server.log"
    dbname = f"prefect_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    server_db = _pg_url(dbname).replace("postgresql+psycopg", "postgresql+asyncpg")
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": server_db,
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_UI_URL": f"http://127.0.0.1:{port}",
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/health", 120, proc, log)
        yield {"api_url": f"http://127.0.0.1:{port}/api", "ui_url": f"http://127.0.0.1:{port}", "home": home}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(autouse=True)
def prefect_api(prefect_server):
    """Only the tests in this folder talk to the Prefect server."""
    with temporary_settings(updates={PREFECT_API_URL: prefect_server["api_url"]}):
        yield prefect_server["api_url"]


class Platform:
    """The served deployments, with the database and the mail sink they use."""

    def __init__(self, server: dict, db_url: str, sink: ScriptedSink, sink_port: int, workdir: Path):
        self.server, self.db_url, self.sink, self.sink_port, self.workdir = server, db_url, sink, sink_port, workdir
        self.engine = get_engine(db_url)
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def env(self) -> dict:
        return {
            **os.environ,
            "PREFECT_API_URL": self.server["api_url"],
            "PREFECT_UI_URL": self.server["ui_url"],
            "PREFECT_HOME": str(self.server["home"]),
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": os.environ.get("TEST_PREFECT_LOGGING_LEVEL", "INFO"),
            "TERRITOIRES_DATABASE_URL": self.db_url,
            "TERRITOIRES_SMTP_HOST": "127.0.0.1",
            "TERRITOIRES_SMTP_PORT": str(self.sink_port),
            "TERRITOIRES_DATA_DIR": str(self.workdir),
        }

    def start(self) -> None:
        self.starts += 1
        log = self.workdir / f"serve-{self.starts}.log"
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [str(BIN / "territoires"), "serve"],
                env=self.env,
                cwd=self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"territoires serve exited:\n{log.read_text()[-3000:]}")
            if (
                "Your deployments are being served" in log.read_text()
                or "deployments are being served" in log.read_text()
            ):
                return
            time.sleep(0.3)
        raise AssertionError(f"territoires serve did not start:\n{log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group: the server and any run it is executing."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def logs(self) -> str:
        return "\n".join(p.read_text()[-4000:] for p in sorted(self.workdir.glob("serve-*.log")))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def platform(request, prefect_server, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("platform")
    if request.param == "sqlite":
        db_url = f"sqlite:///{workdir / 'territoires.db'}"
        drop = None
    else:
        name = f"territoires_flows_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        db_url, drop = _pg_url(name), name
    upgrade(db_url)
    sink = ScriptedSink(workdir / "mail")
    sink_server = SinkServer(sink).start()
    platform = Platform(prefect_server, db_url, sink, sink_server.port, workdir)
    old = {k: os.environ.get(k) for k in ("TERRITOIRES_DATABASE_URL", "TERRITOIRES_SMTP_HOST", "TERRITOIRES_SMTP_PORT")}
    os.environ.update(
        {
            "TERRITOIRES_DATABASE_URL": db_url,
            "TERRITOIRES_SMTP_HOST": "127.0.0.1",
            "TERRITOIRES_SMTP_PORT": str(sink_server.port),
        }
    )
    from settings import get_settings

    get_settings.cache_clear()
    platform.start()
    try:
        yield platform
    finally:
        platform.kill()
        sink_server.stop()
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        get_settings.cache_clear()
        get_engine(db_url).dispose()
        if drop:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture
def mail_env(app_env, smtp_sink, monkeypatch):
    """Settings that point in-process tasks at the test database and the test SMTP sink."""
    from settings import get_settings

    _, server = smtp_sink
    monkeypatch.setenv("TERRITOIRES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TERRITOIRES_SMTP_PORT", str(server.port))
    get_settings.cache_clear()
    yield smtp_sink[0]
    get_settings.cache_clear()
