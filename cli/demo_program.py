"""Running the demonstration (``python -m demo``) as a program of its own: the platform never
imports the demo's data (a test checks it), which stays apart from production code."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from models.errors import DomainError


class DemoFailed(DomainError):
    code = "DEMONSTRATION_EN_ECHEC"


def run_demo(command: str, env: dict | None = None, timeout: float = 600, args: tuple[str, ...] = ()) -> dict | list:
    """Runs ``python -m demo COMMAND [ARGS]`` with this interpreter; returns the JSON it prints last."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "demo", command, *args],
            env=env or dict(os.environ),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise DemoFailed(f"[{DemoFailed.code}] « python -m demo {command} » n'a pas fini en {timeout:.0f} s") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines:
        try:
            return json.loads(lines[-1])
        except json.JSONDecodeError:
            pass
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
    raise DemoFailed(f"[{DemoFailed.code}] « python -m demo {command} » a échoué (code {done.returncode}) :\n{tail}")
