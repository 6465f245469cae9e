"""Running the demonstration (``python -m demo``) as a program of its own: the platform never
imports the demo's data, so a production install can leave it out."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from models.errors import DomainError


class DemoFailed(DomainError):
    code = "DEMONSTRATION_EN_ECHEC"


def run_demo(command: str, env: dict | None = None, timeout: float = 600) -> dict:
    """Runs ``python -m demo COMMAND`` with this interpreter; returns the JSON it prints last."""
    done = subprocess.run([sys.executable, "-m", "demo", command], env=env or dict(os.environ), capture_output=True,
                          text=True, timeout=timeout)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise DemoFailed(f"[{DemoFailed.code}] « python -m demo {command} » a échoué (code {done.returncode}) :\n{tail}")
    return json.loads(lines[-1])
