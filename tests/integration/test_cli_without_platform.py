"""With no platform to talk to, the commands that need Prefect stop at once with
« PREFECT_INJOIGNABLE » and say how to start it: no temporary Prefect server, no second writer
on Prefect's database, no telemetry. Run as an operator runs them, in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.platform_state import PlatformRecord, save
from notifications.sink import _free_port

TERRITOIRES = str(Path(sys.executable).with_name("territoires"))


def territoires(folder: Path, *args: str, within: float = 120) -> subprocess.CompletedProcess:
    """The command's run, which must end within ``within`` seconds (else it waits for a server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TERRITOIRES_"))}
    env["PREFECT_HOME"] = str(folder / "prefect-home")
    try:
        return subprocess.run([TERRITOIRES, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=within)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"territoires {' '.join(args)} still running after {within:g} s: {exc.output}") from None


COMMANDS = [
    ("approvals", "list", "--json"),
    ("ctai", "start", "--collectivite", "1", "--first-year", "2026"),
    ("ctai", "resume", "1"),
    ("ptai", "resume", "1"),
    ("steps", "repair", "--json"),
    ("delegation", "run", "--year", "2026"),
    (
        "approvals",
        "decide",
        "00000000-0000-0000-0000-000000000001",
        "--agent",
        "agent@prefecture-86.example",
        "--code",
        "ABCD-EFGH",
        "--decision",
        "approve",
    ),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_with_no_platform_a_command_stops_at_once_with_prefect_injoignable_and_starts_no_server(tmp_path, command):
    result = territoires(tmp_path, *command, within=20)  # it stops at once: no server is waited for
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "PREFECT_INJOIGNABLE" in output and "territoires up" in output
    assert "temporary" not in output.lower() and "telemetry" not in output.lower()
    assert not (tmp_path / "prefect-home").exists() or not list((tmp_path / "prefect-home").rglob("*.db"))


def test_a_platform_recorded_but_gone_is_named_in_the_refusal(tmp_path):
    port = _free_port("127.0.0.1")
    save(PlatformRecord(supervisor="ailleurs:1:0", api_url=f"http://127.0.0.1:{port}/api"), tmp_path / "var")
    result = territoires(tmp_path, "approvals", "list", "--json")
    assert result.returncode == 2
    refusal = json.loads(result.stdout)
    assert refusal["ok"] is False and [e["code"] for e in refusal["erreurs"]] == ["PREFECT_INJOIGNABLE"]
    assert f"le serveur Prefect http://127.0.0.1:{port}/api ne répond pas" in refusal["erreurs"][0]["message"]
