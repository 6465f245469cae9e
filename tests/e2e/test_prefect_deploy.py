"""``prefect deploy --all`` accepts ``prefect.yaml`` against a running server, as an operator
sets up workers on several machines: a server of its own (so no test's served deployments are
replaced), a process work pool, then every deployment with its schedules."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from notifications.sink import _free_port
from tests.e2e.test_platform_up import until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture
def prefect_server(tmp_path):
    port = _free_port("127.0.0.1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", TERRITOIRES_HOME=str(ROOT))
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def healthy():
        assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
        try:
            return httpx.get(f"{env['PREFECT_API_URL']}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
    try:
        until(healthy, 120, "prefect server")
        yield env
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def prefect(env, *args) -> str:
    done = subprocess.run([str(BIN / "prefect"), "--no-prompt", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_prefect_deploy_all_creates_every_deployment_on_the_process_work_pool(prefect_server):
    env = prefect_server
    prefect(env, "work-pool", "create", "territoires", "--type", "process")
    prefect(env, "deploy", "--all")

    found = httpx.post(f"{env['PREFECT_API_URL']}/deployments/filter", json={}, timeout=10).json()
    assert len(found) == 13 and {d["name"] for d in found} == {"territoires"}
    assert {d["work_pool_name"] for d in found} == {"territoires"}
    crons = {d["entrypoint"]: [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in d["schedules"]] for d in found}
    assert crons["flows/reminders.py:relances"] == [("0 8 * * *", "Europe/Paris")]
    assert crons["flows/delegation.py:delegation_credits"] == [("0 8 1 * *", "Europe/Paris")]
    assert sum(bool(c) for c in crons.values()) == 2
    assert all(d["pull_steps"][0]["prefect.deployments.steps.set_working_directory"]["directory"] == str(ROOT)
               for d in found)
