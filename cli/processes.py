"""Supervising ``territoires up``'s processes: start each in its own process group with its log,
wait until it answers, stop it (and the runs it executes) with a grace period.

Each child asks the kernel to be sent SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), so a
``territoires up`` killed with SIGKILL does not leave its Prefect server and its serving process
running as orphans; what might still remain (the runs the serving process had started) is
stopped when the serving process ends (``serve_until_stopped``), or else by the next
``territoires up`` (``cli/platform_state.py``)."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

STOP_GRACE_SECONDS = 20


class PlatformError(Exception):
    """A start-up failure, with a stable code for scripts and a French message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(f"[{code}] {message}")
        self.code = code


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self) -> None:
        """SIGTERM to its whole process group (the runs it executes too), SIGKILL after a grace."""
        if not self.alive():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        _until_group_gone(self.process.pid, STOP_GRACE_SECONDS)


def _until_group_gone(group: int, grace: float) -> None:
    """The leader's exit is not the group's: the runs it executed got the same SIGTERM and may
    still be ending. Waits for them (SIGKILL after ``grace``), so that once the platform says it
    stopped, nothing of it runs."""
    if _ended(group, grace):
        return
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        return
    _ended(group, 10)


def _ended(group: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while _members(group):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int):
    """Runs in the child between fork and exec: SIGTERM when the parent dies; and if it died
    already (before this line ran), stop at once."""
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def spawn(name: str, args: list[str], env: dict, log: Path) -> Child:
    with log.open("a") as out:
        process = subprocess.Popen(
            args,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )
    return Child(name, process, log)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def wait_until(ready, child: Child, stop: threading.Event, timeout: float, what: str, progress=None) -> None:
    """Until ``ready()``; a child that stops, or ``timeout`` seconds, is a start-up failure."""
    if not wait_for(ready, [child], stop, timeout, progress):
        raise PlatformError(
            "DEMARRAGE_TROP_LONG", f"{what} n'est pas prêt après {timeout:.0f} s ; journal : {child.log}"
        )


def wait_for(ready, children: list[Child], stop: threading.Event, timeout: float, progress=None, every=10.0) -> bool:
    """Until ``ready()`` (True), or ``timeout`` seconds (False). Ctrl-C (``stop``) interrupts the
    wait; one of ``children`` that stops meanwhile is a start-up failure. ``progress(seconds)``,
    if given, is called every ``every`` seconds of waiting, so that a long wait can be said."""
    started = time.monotonic()
    deadline, said = started + timeout, started
    while not ready():
        if stop.is_set():
            raise KeyboardInterrupt
        dead = next((c for c in children if not c.alive()), None)
        if dead is not None:
            raise PlatformError(
                "DEMARRAGE_ECHOUE",
                f"{dead.name} s'est arrêté au démarrage ; fin du journal {dead.log} :\n{dead.tail()}",
            )
        now = time.monotonic()
        if now > deadline:
            return False
        if progress is not None and now - said >= every:
            said = now
            progress(now - started)
        time.sleep(0.5)
    return True


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


# Printed by ``territoires serve`` once its deployments exist, before their runs are polled:
# ``up``, the tests and the benches wait for it.
SERVING = "Déploiements servis"


def announce_served(names: list[str]) -> None:
    print(f"{SERVING} ({len(names)}) : {', '.join(names)}", flush=True)


def serve_until_stopped(serving, name: str) -> int:
    """For ``territoires serve``: runs ``serving`` in a thread (so Prefect installs no signal
    handler of its own: its SIGTERM handler exits without waiting for the runs it started, and
    was seen to leave the process running) while the main thread waits for SIGTERM (sent by the
    kernel when ``up`` dies, or by ``up`` on Ctrl-C) or SIGINT. Then the runs it executes, which
    share its process group, are stopped with it, never left as orphans. Returns the exit code:
    0 when stopped by a signal, 1 when ``serving`` ended by itself."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=serving, name=name, daemon=True)
    thread.start()
    while not stop.wait(0.5):
        if not thread.is_alive():
            break
    end_group()
    return 0 if stop.is_set() else 1


def end_group(grace: float = 5.0) -> None:
    """SIGTERM to the other members of this process's group, SIGKILL to those left after
    ``grace``; only when it leads a group of its own (as ``up`` starts it), never a shell's job."""
    group = os.getpid()
    if os.getpgrp() != group:
        return
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while (members := _members(group)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in members:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _members(group: int) -> list[int]:
    """The processes of a group but the caller (zombies excluded: they have ended)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[0] != "Z" and fields[2] == str(group):
            found.append(int(entry.name))
    return found
