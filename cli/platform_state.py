"""Where the platform that ``territoires up`` started lives: its Prefect API and its processes.

``up`` writes ``plateforme.json`` in the data folder (its own process, the address of the Prefect
API, and each process it started, which leads a process group of its own). The other commands
read it to find the Prefect API when ``PREFECT_API_URL`` is not set (``cli/__init__.py``); a new
``up`` reads it to stop what a previous one, killed, left behind. Processes are named by
``liveness.identity``, so a pid reused since is never mistaken for one of ours.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import liveness

RECORD_NAME = "plateforme.json"
FROM_RECORD = "TERRITOIRES_PREFECT_DEPUIS_PLATEFORME"  # set when PREFECT_API_URL was read from the record


@dataclass
class Process:
    name: str
    pid: int
    identity: str


@dataclass
class PlatformRecord:
    supervisor: str  # identity of the ``territoires up`` process
    api_url: str | None = None
    ui_url: str | None = None
    processes: list[Process] = field(default_factory=list)


def data_dir() -> Path:
    """The data folder as the settings see it, without building them (this runs before Prefect
    is imported, and must not fail on a setting that a later command will report properly)."""
    from settings import DEFAULT_DATA_DIR

    return Path(os.environ.get("TERRITOIRES_DATA_DIR") or DEFAULT_DATA_DIR)


def record_path(folder: Path | None = None) -> Path:
    return (folder or data_dir()) / RECORD_NAME


def load(folder: Path | None = None) -> PlatformRecord | None:
    try:
        raw = json.loads(record_path(folder).read_text(encoding="utf-8"))
        return PlatformRecord(
            raw["supervisor"], raw.get("api_url"), raw.get("ui_url"), [Process(**p) for p in raw.get("processes", [])]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(record: PlatformRecord, folder: Path | None = None) -> None:
    """Written whole (a new file renamed over the old one), readable by its owner only."""
    path = record_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(record), out, ensure_ascii=False, indent=2)
    os.replace(temporary, path)


def remove(record: PlatformRecord, folder: Path | None = None) -> None:
    """Removes the record if it is still this supervisor's."""
    current = load(folder)
    if current is not None and current.supervisor == record.supervisor:
        record_path(folder).unlink(missing_ok=True)


def running_supervisor(folder: Path | None = None) -> PlatformRecord | None:
    """The record of a ``territoires up`` still running on this machine, if any."""
    record = load(folder)
    return record if record is not None and liveness.alive(record.supervisor) else None


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_leftovers(folder: Path | None = None, grace: float = 15.0) -> list[str]:
    """Stops the process groups a previous ``territoires up`` left (it was killed, so they may
    have outlived it): SIGTERM, then SIGKILL after ``grace``. Returns their names. A group whose
    leader is gone but whose members remain (runs started by the served deployments) is stopped
    too: Linux does not give a group's id to anyone else while it has members."""
    record = load(folder)
    if record is None:
        return []
    groups = [p for p in record.processes if _left_over(p)]
    for process in groups:
        _signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(_group_exists(p.pid) for p in groups) and time.monotonic() < deadline:
        time.sleep(0.2)
    for process in groups:
        if _group_exists(process.pid):
            _signal_group(process.pid, signal.SIGKILL)
    record_path(folder).unlink(missing_ok=True)
    return [p.name for p in groups]


def _left_over(process: Process) -> bool:
    state = liveness.alive(process.identity)
    if state:  # our process, still running
        return True
    # Its leader is gone: the group may live on in its members, unless the pid names another process now.
    return state is False and _group_exists(process.pid) and not os.path.exists(f"/proc/{process.pid}")


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
