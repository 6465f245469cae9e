"""``prefect deploy --all`` accepts ``prefect.yaml`` against a running server, as an operator
sets up workers on several machines: a server of its own (so no test's served deployments are
replaced), a process work pool, then every deployment with its schedules."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from cli.processes import answers, spawn, wait_until
from notifications.sink import _free_port
from tests.prefect_servers import migrated_sqlite_home, shared_folder

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture
def prefect_server(tmp_path, tmp_path_factory):
    """Started and stopped by the same supervision as ``territoires up``."""
    port = _free_port("127.0.0.1")
    migrated_sqlite_home(tmp_path / "prefect", shared_folder(tmp_path_factory))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        TERRITOIRES_HOME=str(ROOT),
    )
    server = spawn(
        "prefect server",
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env,
        tmp_path / "server.log",
    )
    try:
        wait_until(
            lambda: answers(f"{env['PREFECT_API_URL']}/health"), server, threading.Event(), 120, "prefect server"
        )
        yield env
    finally:
        server.stop()


def prefect(env, *args) -> str:
    done = subprocess.run(
        [str(BIN / "prefect"), "--no-prompt", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_prefect_deploy_all_creates_every_deployment_on_the_process_work_pool(prefect_server):
    env = prefect_server
    prefect(env, "work-pool", "create", "territoires", "--type", "process")
    prefect(env, "deploy", "--all")

    found = httpx.post(f"{env['PREFECT_API_URL']}/deployments/filter", json={}, timeout=10).json()
    assert len(found) == 18 and {d["name"] for d in found} == {"territoires"}
    assert {d["work_pool_name"] for d in found} == {"territoires"}
    crons = {
        d["entrypoint"]: [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in d["schedules"]] for d in found
    }
    assert crons["flows/reminders.py:relances"] == [("0 8 * * *", "Europe/Paris")]
    assert crons["flows/delegation.py:delegation_credits"] == [("0 8 1 * *", "Europe/Paris")]
    assert crons["flows/dashboard.py:tableau_de_bord_national"] == [("30 7 * * *", "Europe/Paris")]
    assert sum(bool(c) for c in crons.values()) == 3
    assert all(
        d["pull_steps"][0]["prefect.deployments.steps.set_working_directory"]["directory"] == str(ROOT) for d in found
    )
