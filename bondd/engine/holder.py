"""Who holds a transaction: a process named so that a later reader can tell it still runs.

A PID alone is not enough (PIDs are reused, and a command line can be
anything), so a holder is the PID plus the process's start time in clock
ticks since boot (field 22 of /proc/PID/stat) plus the boot id: a reused
PID has another start time, and after a reboot nothing from before runs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


UNKNOWN_BOOT = "unknown"


def rebooted(recorded: str, now: str) -> bool:
    """Proven to be another boot: both ids known and different.

    An unreadable id proves nothing, so it fails closed: the record is taken
    as this boot's and rolled back, never dropped as if a reboot had undone it.
    """
    return UNKNOWN_BOOT not in (recorded, now) and recorded != now


def boot_id() -> str:
    """This boot's id as /proc shows it (with dashes), or "unknown".

    Under the shipped unit /proc/sys is hidden (ProcSubset=pid) and systemd
    passes the id as BONDD_BOOT_ID (`%b`, without dashes).
    """
    try:
        return BOOT_ID.read_text().strip() or UNKNOWN_BOOT
    except OSError:
        pass
    given = os.environ.get("BONDD_BOOT_ID", "").strip().lower()
    if re.fullmatch(r"[0-9a-f]{32}", given):
        return "-".join((given[:8], given[8:12], given[12:16], given[16:20], given[20:]))
    return UNKNOWN_BOOT


def start_time(pid: int) -> int | None:
    """The process's start time (clock ticks after boot), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    if fields and fields[0] in ("Z", "X"):  # exited, not yet reaped: not running
        return None
    return int(fields[19]) if len(fields) > 19 else None


@dataclass(frozen=True)
class Holder:
    pid: int
    start: int
    boot_id: str
    role: str = ""  # "bondctl", "bondd", "guard", "guard (systemd unit X)"

    @classmethod
    def me(cls, role: str) -> Holder:
        pid = os.getpid()
        return cls(pid, start_time(pid) or 0, boot_id(), role)

    @classmethod
    def of(cls, pid: int, role: str) -> Holder | None:
        started = start_time(pid)
        return None if started is None else cls(pid, started, boot_id(), role)

    def alive(self) -> bool:
        return self.boot_id == boot_id() and start_time(self.pid) == self.start

    def describe(self) -> str:
        return f"{self.role or 'process'} pid {self.pid}"

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "start": self.start, "boot_id": self.boot_id, "role": self.role}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Holder | None:
        if not data:
            return None
        return cls(int(data["pid"]), int(data["start"]), str(data["boot_id"]), str(data["role"]))
