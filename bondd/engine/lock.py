"""One transaction at a time, across every bondd process (daemon, bondctl, guard)."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from bondd.errors import BonddError


class BusyError(BonddError):
    """Another bondd transaction is in progress; nothing was changed.

    Wait for it to finish (`bondctl status` shows a pending one and its
    deadline), or end it with `bondctl confirm` / `bondctl rollback`.
    """

    exit_code = os.EX_TEMPFAIL


class TransactionLock:
    """An exclusive flock on STATE_DIR/lock; released when the process dies."""

    def __init__(self, state_dir: Path, wait: float = 0.0) -> None:
        self.path = state_dir / "lock"
        self.wait = wait
        self.fd: int | None = None

    def __enter__(self) -> TransactionLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise BusyError(
                        "another bondd transaction is in progress",
                        "wait for it, or see `bondctl status`",
                    ) from None
                time.sleep(0.05)
        self.fd = fd
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


PROC_LOCKS = Path("/proc/locks")


def holders(state_dir: Path) -> set[int] | None:
    """The PIDs holding the lock now (from /proc/locks, without touching the lock:
    a probe that took it, however briefly, could fail a transaction starting
    then); None where that cannot be told."""
    try:
        inode = (state_dir / "lock").stat().st_ino
    except FileNotFoundError:
        return set()  # no lock file: nobody ever held it
    except OSError:
        return None
    try:
        text = PROC_LOCKS.read_text()
    except OSError:  # hidden (ProcSubset=pid) or unreadable: that tells nothing
        return None
    pids = set()
    for line in text.splitlines():
        # "1: FLOCK  ADVISORY  WRITE 1234 00:1f:5678 0 EOF"; waiters are marked "->"
        fields = line.split()
        if len(fields) < 6 or fields[1] == "->" or fields[1] != "FLOCK":
            continue
        device_inode = fields[5].rsplit(":", 1)
        if len(device_inode) == 2 and device_inode[1] == str(inode) and fields[4].isdigit():
            pids.add(int(fields[4]))
    return pids
