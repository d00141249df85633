"""Which process holds a piece of work, and whether it is known to be gone.

A claim (an Idempotency-Key being answered, a report run being rendered) names its holder as host:pid:start, the
process's start time making the pid unambiguous after the number is reused. A holder on this host whose process
is no longer there is gone for sure, and its work can be taken back at once; one on another host is judged by the
caller's own timeout."""

from __future__ import annotations

import os
import socket


def _process_start(pid: int) -> str | None:
    """When the process started (clock ticks since boot, /proc/<pid>/stat field 22). None: no such process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def holder_mark() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_process_start(os.getpid())}"


def holder_known_dead(holder: str | None) -> bool:
    """Whether the process that made `holder_mark()` is gone for sure (it ran on this host and is not there)."""
    if not holder or holder.count(":") < 2:
        return False
    host, pid, started = holder.rsplit(":", 2)
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return _process_start(int(pid)) != started
