"""The command line starts fast: a command that needs no platform never imports Prefect (about
3 s of CPU); ``bench/cli_start.py`` measures the start against ``import typer, sqlmodel``."""

import os
import subprocess
import sys

import pytest

PROBE = """
import sys
from cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
loaded = sorted(m for m in sys.modules if m == "prefect" or m.startswith("prefect."))
print("PREFECT:" + ",".join(loaded[:5]), file=sys.stderr)
sys.exit(code)
"""


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize(
    "args",
    [("--help",), ("ctai", "list"), ("ctai", "liste", "--json"), ("approvals", "--help")],
    ids=" ".join,
)
def test_a_command_that_needs_no_platform_runs_without_importing_prefect(app_env, args):
    result = _run(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PREFECT:\n" in result.stderr, result.stderr  # the list after « PREFECT: » is empty


def test_a_command_that_talks_to_the_platform_does_import_prefect(app_env):
    result = _run("approbations", "liste", "--json")  # no platform here: it stops with PREFECT_INJOIGNABLE
    assert result.returncode == 2 and "PREFECT_INJOIGNABLE" in result.stdout
    assert "PREFECT:prefect" in result.stderr
