"""Which process owns something, and whether that process still lives.

A pid alone is not an identity: pids are reused. The kernel's start time of the process (field 22
of /proc/<pid>/stat, clock ticks since boot) and the boot id make one, so a container whose owner
died is told apart from one whose owner's pid now belongs to another process.
"""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
BOOT_ID = PROC / "sys/kernel/random/boot_id"


@dataclass(frozen=True, slots=True)
class Owner:
    """A process on a host: its pid, its start time and the host's boot."""

    host: str
    boot: str
    pid: int
    start: str


def start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot); None when there is no such process.

    Returns "" where /proc does not exist (macOS): the pid alone is then all there is to check.
    """
    if not PROC.is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return ""  # it exists, as another user's
        return ""
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or parentheses.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


@functools.cache
def boot_id() -> str:
    """This boot of the machine ("" where the kernel does not say)."""
    try:
        return BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def host() -> str:
    """This machine's name, as recorded in owner labels."""
    return socket.gethostname()


def current() -> Owner:
    """The process running this code (fresh after a fork: the pid is read each time)."""
    pid = os.getpid()
    return Owner(host(), boot_id(), pid, start_time(pid) or "")


def alive(pid: int, start: str, boot: str = "") -> bool:
    """Tells whether process `pid`, started at `start` during boot `boot`, still runs here."""
    if boot and boot_id() and boot != boot_id():
        return False  # the machine rebooted since: every process of then is gone
    now = start_time(pid)
    if now is None:
        return False
    return not (start and now and now != start)
