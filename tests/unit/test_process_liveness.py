"""Telling a live process from a dead one, and stopping what a killed ``territoires up`` left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import liveness
from cli import platform_state
from cli.platform_state import PlatformRecord, Process
from tests.waiting import wait_until


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_this_process_is_alive_and_a_finished_one_is_not():
    assert liveness.alive(liveness.identity()) is True
    assert liveness.alive(liveness.identity(_dead_pid())) is False


def test_a_killed_process_not_yet_reaped_is_dead():
    """A run's process killed with its parent stays a zombie until someone reaps it: the sweep
    must not take it for a live worker."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    recorded = liveness.identity(child.pid)
    assert liveness.alive(recorded) is True
    child.kill()
    deadline = time.monotonic() + 10
    while open(f"/proc/{child.pid}/stat").read().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline, "the child never became a zombie"
        time.sleep(0.05)
    try:
        assert liveness.alive(recorded) is False
    finally:
        child.wait()


def test_a_pid_reused_by_another_process_is_not_taken_for_the_one_recorded():
    host, pid, start = liveness.identity().split(":")
    assert liveness.alive(f"{host}:{pid}:{int(start) + 1}") is False


def test_a_process_of_another_host_cannot_be_judged():
    assert liveness.alive(f"autre-machine.example:{os.getpid()}:1") is None
    assert liveness.alive("") is None and liveness.alive(None) is None


def _group_with_grandchild() -> subprocess.Popen:
    """A group leader that starts a child of its own in the same group (as the serving process starts runs)."""
    script = (
        "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; "
        "time.sleep(60)']); time.sleep(60)"
    )
    return subprocess.Popen([sys.executable, "-c", script], start_new_session=True)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_a_new_up_stops_the_groups_a_killed_one_left_even_when_their_leader_is_gone(tmp_path):
    from cli.processes import _members

    kept, orphaned = _group_with_grandchild(), _group_with_grandchild()
    wait_until(lambda: all(len(_members(group.pid)) == 2 for group in (kept, orphaned)), 30, "the groups' runs started")
    record = PlatformRecord(
        liveness.identity(_dead_pid()),
        "http://127.0.0.1:1/api",
        None,
        [
            Process("serveur", kept.pid, liveness.identity(kept.pid)),
            Process("service", orphaned.pid, liveness.identity(orphaned.pid)),
        ],
    )
    platform_state.save(record, tmp_path)
    os.kill(orphaned.pid, signal.SIGKILL)  # its leader dies, its run lives on in the group
    orphaned.wait()
    assert _group_alive(orphaned.pid)

    assert platform_state.running_supervisor(tmp_path) is None
    stopped = platform_state.stop_leftovers(tmp_path, grace=5)

    assert sorted(stopped) == ["serveur", "service"]
    kept.wait(timeout=10)
    deadline = time.monotonic() + 10
    while (_group_alive(kept.pid) or _group_alive(orphaned.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _group_alive(kept.pid) and not _group_alive(orphaned.pid)
    assert not platform_state.record_path(tmp_path).exists()


def test_a_running_supervisor_is_recognised_and_its_record_is_only_removed_by_itself(tmp_path):
    mine = PlatformRecord(liveness.identity(), "http://127.0.0.1:4200/api", "http://127.0.0.1:4200")
    platform_state.save(mine, tmp_path)
    assert platform_state.running_supervisor(tmp_path) == mine
    platform_state.remove(PlatformRecord(liveness.identity(_dead_pid())), tmp_path)
    assert platform_state.load(tmp_path) == mine
    platform_state.remove(mine, tmp_path)
    assert platform_state.load(tmp_path) is None


def test_an_unreadable_record_is_ignored(tmp_path):
    platform_state.record_path(tmp_path).write_text("{pas du json", encoding="utf-8")
    assert platform_state.load(tmp_path) is None and platform_state.stop_leftovers(tmp_path) == []


SERVING = """
import subprocess, sys, time
from cli.processes import serve_until_stopped

def serving():  # starts a run in the serving process's group, as Prefect's runner does, then serves
    run = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                                  "time.sleep(120)"])
    print(run.pid, flush=True)
    time.sleep(120)

sys.exit(serve_until_stopped(serving, "service"))
"""


def test_the_runs_of_a_serving_process_end_with_it_when_it_is_told_to_stop():
    serving = subprocess.Popen(
        [sys.executable, "-c", SERVING],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    run = int(serving.stdout.readline())
    recorded = liveness.identity(run)
    try:
        assert liveness.alive(recorded) is True
        serving.send_signal(signal.SIGTERM)  # the serving process only, as PR_SET_PDEATHSIG sends it
        assert serving.wait(timeout=20) == 0  # even a run that ignores SIGTERM is not waited for long
        deadline = time.monotonic() + 10
        while liveness.alive(recorded) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert liveness.alive(recorded) is False
    finally:
        for pid in (serving.pid, run):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _handles_sigterm(group: int) -> bool:
    """A member of the group but its leader catches or ignores SIGTERM (/proc's signal masks)."""
    from cli.processes import _members

    bit = 1 << (signal.SIGTERM - 1)
    for pid in _members(group):
        if pid == group:
            continue
        try:
            status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        except (OSError, ValueError):
            continue
        if (int(status.get("SigCgt", "0"), 16) | int(status.get("SigIgn", "0"), 16)) & bit:
            return True
    return False


SLOW_TO_END = (
    "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: (time.sleep(1), sys.exit(0))); time.sleep(60)"
)
DEAF = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"


@pytest.mark.parametrize("member, grace", [(SLOW_TO_END, 20), (DEAF, 1)])
def test_stopping_a_group_waits_for_its_runs_not_only_its_leader(member, grace):
    """A served run that takes a second to end, or ignores SIGTERM, is still running when its
    leader has exited: the stop returns only once none of the group runs (SIGKILL after the grace)."""
    from cli.processes import _members, _until_group_gone

    leader = subprocess.Popen(["bash", "-c", f'"{sys.executable}" -c "{member}" & wait'], start_new_session=True)
    wait_until(lambda: _handles_sigterm(leader.pid), 30, "the run set what SIGTERM does to it")
    os.killpg(leader.pid, signal.SIGTERM)
    leader.wait(timeout=10)
    assert _members(leader.pid)  # the leader is gone, its run is not
    _until_group_gone(leader.pid, grace)
    assert not _members(leader.pid)
