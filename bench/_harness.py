"""A throw-away platform for benchmarks: Prefect server, database, mail sink, served flows."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from cli.processes import SERVING

BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("TERRITOIRES_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pg_database(prefix: str) -> tuple[str, callable]:
    """A new database on the PostgreSQL test server (as its admin); returns its name and the
    function that drops it, whoever is still connected."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return name, drop


def fresh_database(kind: str, tmp: Path, stem: str = "bench") -> tuple[str, callable]:
    """An empty database for one measurement: a SQLite file in ``tmp``, or a PostgreSQL database
    created on the test server; returns its URL and the function that drops it."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / f'{stem}-{uuid.uuid4().hex[:6]}.db'}", lambda: None
    from services.db import get_engine

    name, drop_database = pg_database("territoires_bench")
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"

    def drop():
        get_engine(url).dispose()
        drop_database()

    return url, drop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Harness:
    def __init__(self, prefect_db: str = "postgresql", poll_seconds: int = 1):
        self.tmp = Path(tempfile.mkdtemp(prefix="territoires-bench-"))
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.prefect_db = prefect_db
        self.poll_seconds = poll_seconds  # PREFECT_RUNNER_POLL_FREQUENCY of the served flows
        self.drop_prefect_db = None
        self.procs: list[subprocess.Popen] = []
        self.db_url = f"sqlite:///{self.tmp / 'territoires.db'}"

    def start_prefect(self) -> None:
        env = {
            **os.environ,
            "PREFECT_HOME": str(self.tmp / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_API_URL": self.api_url,
        }
        if self.prefect_db == "postgresql":
            name, self.drop_prefect_db = pg_database("prefect_bench")
            env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = (
                PG_ADMIN.rsplit("/", 1)[0].replace("postgresql+psycopg", "postgresql+asyncpg") + f"/{name}"
            )
        log = (self.tmp / "server.log").open("w")
        self.procs.append(
            subprocess.Popen(
                [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    os.environ["PREFECT_API_URL"] = self.api_url
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise SystemExit("the Prefect server did not start: see " + str(self.tmp / "server.log"))

    def env(self, sink_port: int) -> dict:
        return {
            **os.environ,
            "PREFECT_API_URL": self.api_url,
            "PREFECT_HOME": str(self.tmp / "prefect"),
            "PREFECT_RUNNER_POLL_FREQUENCY": str(self.poll_seconds),
            "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
            "TERRITOIRES_DATABASE_URL": self.db_url,
            "TERRITOIRES_SMTP_HOST": "127.0.0.1",
            "TERRITOIRES_SMTP_PORT": str(sink_port),
            "TERRITOIRES_DATA_DIR": str(self.tmp),
        }

    def serve(self, sink_port: int) -> None:
        log_path = self.tmp / "serve.log"
        log = log_path.open("w")
        self.procs.append(
            subprocess.Popen(
                [str(BIN / "territoires"), "serve"],
                env=self.env(sink_port),
                cwd=self.tmp,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if SERVING in log_path.read_text():
                return
            time.sleep(0.3)
        raise SystemExit("territoires serve did not start: see " + str(log_path))

    def stop(self) -> None:
        for proc in reversed(self.procs):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        if self.drop_prefect_db:
            self.drop_prefect_db()
