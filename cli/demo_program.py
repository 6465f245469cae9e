"""Running the demonstration (``python -m demo``) as a program of its own: the platform never
imports the demo's data (a test checks it), which stays apart from production code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from models.errors import DomainError


class DemoFailed(DomainError):
    code = "DEMONSTRATION_EN_ECHEC"


def run_demo(
    command: str,
    env: dict | None = None,
    timeout: float = 600,
    args: tuple[str, ...] = (),
    progress=None,
    every: float = 10.0,
) -> dict | list:
    """Runs ``python -m demo COMMAND [ARGS]`` with this interpreter; returns the JSON it prints last.
    ``progress(seconds)``, if given, is called every ``every`` seconds while it runs."""
    started = time.monotonic()
    with subprocess.Popen(
        [sys.executable, "-m", "demo", command, *args],
        env=env or dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        while True:
            left = timeout - (time.monotonic() - started)
            try:
                stdout, stderr = process.communicate(timeout=max(0.0, min(every, left)))
                break
            except subprocess.TimeoutExpired:  # output read so far is kept for the next call
                if time.monotonic() - started >= timeout:
                    process.kill()
                    process.communicate()
                    raise DemoFailed(
                        f"[{DemoFailed.code}] « python -m demo {command} » n'a pas fini en {timeout:.0f} s"
                    ) from None
                if progress is not None:
                    progress(time.monotonic() - started)
    lines = stdout.strip().splitlines()
    if process.returncode == 0 and lines:
        try:
            return json.loads(lines[-1])
        except json.JSONDecodeError:
            pass
    tail = "\n".join((stderr or stdout).strip().splitlines()[-15:])
    raise DemoFailed(f"[{DemoFailed.code}] « python -m demo {command} » a échoué (code {process.returncode}) :\n{tail}")
