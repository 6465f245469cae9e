"""A real Prefect server for the session, the platform's deployments run in this process, and per
module and database: a database and an SMTP sink.

The flows run as ``territoires serve`` runs them, but in the test process: a runner thread polls
the session's Prefect server for the scheduled runs of the platform's deployments (a resumed run
is one), moves each to Pending and hands it to Prefect's flow engine in a thread of its own. So a
step costs no new Python process; the approvals still go through the resume API the UI uses, and a
suspended run is resumed and run again from the top as served. The tests that kill the serving
process (``served_platform``, and the chaos suite) still start ``territoires serve``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.exceptions import Abort, Pause
from prefect.flow_engine import run_flow
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_LOCAL_STORAGE_PATH,
    PREFECT_RESULTS_PERSIST_BY_DEFAULT,
    PREFECT_UI_URL,
    temporary_settings,
)
from prefect.states import Crashed, Pending
from prefect.utilities.engine import propose_state
from sqlalchemy import create_engine, text

from cli.processes import SERVING
from notifications.sink import SinkServer, _free_port
from services.db import get_engine
from services.migrate import upgrade
from tests.conftest import PG_ADMIN_URL, ScriptedSink, _pg_url
from tests.prefect_servers import UNUSED_SERVICES, migrated_postgresql_database, shared_folder
from tests.waiting import wait_until

BIN = Path(sys.executable).parent


def _wait_http(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    def answers() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"process exited early:\n{log.read_text()[-3000:]}")
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, timeout, f"{url} did not answer", every=0.3)


@pytest.fixture(scope="package")
def prefect_server(tmp_path_factory):
    """``prefect server start`` on 127.0.0.1 with its own home, on its own PostgreSQL database
    (on SQLite, the server's background services lock it for up to a minute under this load);
    yields the API URL. Its schema comes from a template and the services the platform does not
    use are off (tests/prefect_servers.py). Package-scoped: it stops, with its runner, once the test process has run
    its last test of this folder, instead of polling on through the rest of the suite."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port("127.0.0.1")
    log = home / "server.log"
    dbname = f"prefect_test_{uuid.uuid4().hex[:8]}"
    migrated_postgresql_database(PG_ADMIN_URL, dbname, shared_folder(tmp_path_factory))
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    server_db = _pg_url(dbname).replace("postgresql+psycopg", "postgresql+asyncpg")
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": server_db,
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_UI_URL": f"http://127.0.0.1:{port}",
        **UNUSED_SERVICES,
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


class InProcessRunner:
    """Runs the platform's deployments in this process, as ``territoires serve`` does in its own.

    One thread polls the Prefect server for the scheduled runs of the deployments (every 0.2 s;
    a resumed suspended run is Scheduled again); each run is moved to Pending (the server refuses
    a second claim) and run by Prefect's flow engine in a thread of its own, with results
    persisted as served. Runs created before ``since`` belong to an earlier module's database:
    they are left alone.
    """

    POLL = 0.2

    def __init__(self, server: dict, log: Path):
        self.server, self.log = server, log
        self.flows: dict = {}  # deployment id -> flow
        self.since = datetime.now(UTC)
        self.active = True  # False while a ``territoires serve`` of a test serves the same deployments
        self.running: set = set()
        self.quiet = 0  # polls in a row that found nothing to start while nothing ran
        self.lock = threading.Lock()
        self.ready, self.stop = threading.Event(), threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, name="runner-des-tests", daemon=True)

    def settings(self):
        return temporary_settings(
            updates={
                PREFECT_API_URL: self.server["api_url"],
                PREFECT_UI_URL: self.server["ui_url"],
                PREFECT_RESULTS_PERSIST_BY_DEFAULT: True,
                PREFECT_LOCAL_STORAGE_PATH: self.server["home"] / "storage",  # where a served run keeps them
            }
        )

    def start(self) -> InProcessRunner:
        self.thread.start()
        wait_until(lambda: self.ready.is_set() or self.error, 120, "the in-process runner registered no deployment")
        if self.error:
            raise self.error
        return self

    def _main(self) -> None:
        from deployments import platform_deployments

        with self.settings():
            try:
                deployments = platform_deployments()  # outside the loop: to_deployment answers a coroutine in one
                asyncio.run(self._poll(deployments))
            except BaseException as exc:  # shown by start() or settle()
                self.error = exc
                logging.getLogger(__name__).exception("in-process runner stopped")

    async def _poll(self, deployments: list) -> None:
        for flow, deployment in deployments:
            self.flows[await deployment.aapply()] = flow
        self.ready.set()
        async with get_client() as client:
            while not self.stop.is_set():
                started = False
                if self.active:
                    for run in await client.get_scheduled_flow_runs_for_deployments(
                        deployment_ids=list(self.flows), scheduled_before=datetime.now(UTC)
                    ):
                        if run.created is None or run.created < self.since or run.id in self.running:
                            continue
                        started = True
                        with self.lock:
                            self.running.add(run.id)
                        if await self._claim(client, run):
                            threading.Thread(target=self._execute, args=(run,), name=f"run-{run.id}").start()
                        else:
                            self._done(run.id)
                with self.lock:
                    self.quiet = 0 if started or self.running else self.quiet + 1
                await asyncio.sleep(self.POLL)

    async def _claim(self, client, run) -> bool:
        try:
            state = await propose_state(client, Pending(), flow_run_id=run.id)
        except Abort:  # another runner has it, or it is no longer scheduled
            return False
        return state.is_pending()

    def _execute(self, run) -> None:
        flow = self.flows[run.deployment_id]
        with self.settings():
            try:
                result = run_flow(flow, flow_run=run, return_type="state")
                if asyncio.iscoroutine(result):
                    asyncio.run(result)
            except (Abort, Pause):  # suspended on its form (or aborted): the engine recorded it
                pass
            except BaseException as exc:  # what a dying served process leaves: the run shown Crashed
                logging.getLogger(__name__).exception("run %s crashed", run.id)
                asyncio.run(self._crashed(run.id, exc))
            finally:
                self._done(run.id)

    async def _crashed(self, run_id, exc: BaseException) -> None:
        async with get_client() as client:
            try:
                await propose_state(client, Crashed(message=f"run crashed in the test runner: {exc!r}"), run_id)
            except Abort:
                pass

    def _done(self, run_id) -> None:
        with self.lock:
            self.running.discard(run_id)
            self.quiet = 0

    def settle(self, timeout: float = 120) -> None:
        """Until no run executes and two polls in a row found none to start: what a module
        started has ended or waits on its form, before the next module's database replaces it."""
        with self.lock:
            self.quiet = 0
        wait_until(
            lambda: self.error or self.quiet >= 2,
            timeout,
            lambda: f"runs still executing in the test process: {sorted(map(str, self.running))}\n{self.logs()}",
            every=0.05,
        )
        if self.error:
            raise self.error

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


@pytest.fixture(scope="package")
def flow_runner(prefect_server):
    """The runner of the platform's flows for this folder's tests (one per test process, as the
    server)."""
    log = prefect_server["home"] / "runs.log"
    handler = logging.FileHandler(log, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    runner = InProcessRunner(prefect_server, log).start()
    try:
        yield runner
    finally:
        runner.close()
        root.removeHandler(handler)
        handler.close()


class Platform:
    """The platform's flows run by the test process (``flow_runner``), with the database and
    the mail sink they use."""

    def __init__(self, server: dict, db_url: str, sink: ScriptedSink, sink_port: int, workdir: Path, runner=None):
        self.server, self.db_url, self.sink, self.sink_port, self.workdir = server, db_url, sink, sink_port, workdir
        self.runner = runner
        self.engine = get_engine(db_url)

    def logs(self) -> str:
        return self.runner.logs() if self.runner else ""


def _new_platform_database(param: str, workdir: Path, request) -> tuple[str, str | None]:
    if param == "sqlite":
        path = workdir / "territoires.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)  # migrated once per session
        url = f"sqlite:///{path}"
        with get_engine(url).begin() as conn:  # an installation of its own: runs are keyed by it in Prefect
            conn.execute(text("UPDATE installation SET instance_id = :id"), {"id": str(uuid.uuid4())})
        return url, None
    name = f"territoires_flows_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = _pg_url(name)
    upgrade(url)
    return url, name


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def platform(request, prefect_server, flow_runner, tmp_path_factory):
    """Per module and database: a database, an SMTP sink, and the settings that point the flows
    (run by ``flow_runner``) and the command line at them."""
    workdir = tmp_path_factory.mktemp("platform")
    db_url, drop = _new_platform_database(request.param, workdir, request)
    sink = ScriptedSink(workdir / "mail")
    sink_server = SinkServer(sink).start()
    old = {k: os.environ.get(k) for k in ("TERRITOIRES_DATABASE_URL", "TERRITOIRES_SMTP_HOST", "TERRITOIRES_SMTP_PORT")}
    from settings import get_settings

    flow_runner.settle()  # nothing of the previous module still runs against its database
    os.environ.update(
        {
            "TERRITOIRES_DATABASE_URL": db_url,
            "TERRITOIRES_SMTP_HOST": "127.0.0.1",
            "TERRITOIRES_SMTP_PORT": str(sink_server.port),
        }
    )
    get_settings.cache_clear()
    flow_runner.since = datetime.now(UTC)
    try:
        yield Platform(prefect_server, db_url, sink, sink_server.port, workdir, flow_runner)
    finally:
        flow_runner.settle()
        sink_server.stop()
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        get_settings.cache_clear()
        get_engine(db_url).dispose()
        if drop:
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)'))
            admin.dispose()


class ServedPlatform:
    """The platform's deployments served by ``territoires serve`` in a subprocess, on the
    module's database and mail sink: for the tests that kill the serving process."""

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

        def served() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"territoires serve exited:\n{log.read_text()[-3000:]}")
            return SERVING in log.read_text()

        wait_until(served, 90, lambda: f"territoires serve did not start:\n{log.read_text()[-3000:]}", every=0.3)

    def kill(self) -> None:
        """SIGKILL the whole process group: the server and any run it is executing."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def logs(self) -> str:
        return "\n".join(p.read_text()[-4000:] for p in sorted(self.workdir.glob("serve-*.log")))

    def fork_server(self) -> int | None:
        """The process the served runs are forked from (deployments/forked_runs.py), if any."""
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(
                    self.proc.pid
                ):
                    if b"multiprocessing.forkserver" in (entry / "cmdline").read_bytes():
                        return int(entry.name)
            except OSError:  # a process that ended meanwhile
                continue
        return None


@pytest.fixture
def served_platform(platform, flow_runner):
    """The module's database and sink, served by ``territoires serve`` for one test; the
    in-process runner steps aside meanwhile (both would serve the same deployments), and leaves
    what the served process started to it."""
    flow_runner.settle()
    flow_runner.active = False
    served = ServedPlatform(platform.server, platform.db_url, platform.sink, platform.sink_port, platform.workdir)
    try:
        served.start()
        yield served
    finally:
        served.kill()
        flow_runner.since = datetime.now(UTC)
        flow_runner.active = True


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
