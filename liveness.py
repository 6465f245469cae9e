"""Whether the process that holds a claim is still alive.

A process is named ``host:pid:start`` (its start time in clock ticks since boot, read from
``/proc``), so that a pid reused by another process after a crash is not mistaken for the one
that made the claim. Only a process of this host can be checked; elsewhere the answer is
``None`` (unknown) and callers fall back to a time limit.
"""

from __future__ import annotations

import os
import socket

HOST = socket.gethostname()


def _start_ticks(pid: int) -> str | None:
    try:
        stat = open(f"/proc/{pid}/stat", encoding="ascii", errors="replace").read()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # the command name, in parentheses, may hold spaces
    if not fields or fields[0] in ("Z", "X"):  # a zombie has ended: it only waits to be reaped
        return None
    return fields[19] if len(fields) > 19 else None


def identity(pid: int | None = None) -> str:
    """``host:pid:start`` of a process (this one by default)."""
    pid = os.getpid() if pid is None else pid
    return f"{HOST}:{pid}:{_start_ticks(pid) or '0'}"


def alive(name: str | None) -> bool | None:
    """True or False for a process of this host named by ``identity`` (extra ``:…`` parts are
    ignored); None when it is another host's, or the name cannot be read."""
    host, _, rest = (name or "").partition(":")
    pid, _, rest = rest.partition(":")
    start = rest.partition(":")[0]
    if host != HOST or not pid.isdigit():
        return None
    ticks = _start_ticks(int(pid))
    if ticks is None:
        return False
    return start in ("", "0") or ticks == start
