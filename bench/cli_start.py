"""The command line's start: ``territoires --help`` and ``territoires ctai list`` against the
imports every command needs anyway.

    python bench/cli_start.py [--rounds 9]

Measured, each in a new process, on a fresh migrated SQLite database in a temporary folder
(``TERRITOIRES_DATABASE_URL``, ``TERRITOIRES_DATA_DIR``, no platform running, no
``PREFECT_API_URL``): ``territoires --help`` and ``territoires ctai list``. Floor, in the same
run: ``python -c "import typer, sqlmodel"`` (the command-line toolkit and the database layer, the
least any command imports). Commands that need no platform must not import Prefect (about 3 s of
CPU on this machine).

Each of the three is run once to warm the disk cache, then ``--rounds`` times, alternated; the
median of each is kept, as CPU time of the child (user + system, what the issue measured: it does
not depend on what else the machine runs) and as wall time. Last line:
``cli_start: ratio <the worse command's median CPU time / the floor's> (target 2)``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET = 2.0


def timed(argv: list[str], env: dict) -> tuple[float, float]:
    """(CPU seconds of the child, wall seconds): the child runs under ``os.wait4`` for its rusage."""
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        detail = subprocess.run(argv, env=env, capture_output=True, text=True)
        raise SystemExit(f"{' '.join(argv)} failed ({status}):\n{detail.stderr[-2000:]}")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="territoires-bench-cli-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {
        "TERRITOIRES_DATA_DIR": str(tmp / "var"),
        "TERRITOIRES_DATABASE_URL": f"sqlite:///{tmp / 'territoires.db'}",
        "PYTHONDONTWRITEBYTECODE": "",
    }
    territoires = str(BIN / "territoires")
    subprocess.run([territoires, "db", "upgrade"], env=env, cwd=tmp, check=True, capture_output=True)
    cases = {
        "floor": [sys.executable, "-c", "import typer, sqlmodel"],
        "territoires --help": [territoires, "--help"],
        "territoires ctai list": [territoires, "ctai", "list"],
    }
    os.chdir(tmp)  # nothing of the checkout's own ./var is read
    for argv in cases.values():
        timed(argv, env)  # warm-up
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    wall: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, argv in cases.items():
            c, w = timed(argv, env)
            cpu[name].append(c)
            wall[name].append(w)
    floor_cpu, floor_wall = statistics.median(cpu["floor"]), statistics.median(wall["floor"])
    print(f"floor (python -c 'import typer, sqlmodel'): CPU {floor_cpu * 1000:.0f} ms, wall {floor_wall * 1000:.0f} ms")
    ratios = []
    for name in cases:
        if name == "floor":
            continue
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        ratios.append(c / floor_cpu)
        print(
            f"{name}: CPU {c * 1000:.0f} ms (ratio {c / floor_cpu:.2f}), wall {w * 1000:.0f} ms "
            f"(ratio {w / floor_wall:.2f}); median of {args.rounds}"
        )
    print(f"cli_start: ratio {max(ratios):.2f} (target {TARGET:g})")


if __name__ == "__main__":
    main()
