"""systemd notifications (READY, STATUS, WATCHDOG, RELOADING, STOPPING), sd_notify(3).

Each notification is one datagram of newline-separated KEY=VALUE lines to
$NOTIFY_SOCKET, sent by bondd.datagram, the sender bondd's journal records
use too: a notify socket nobody reads must cost a dropped notification
after a send timeout, never a stalled loop (the loop owns the kernel; a
missed WATCHDOG=1 is systemd's to judge, a hung loop nobody's). No library:
sdnotify has no send timeout, and the protocol is this one line.
"""

from __future__ import annotations

import os
import time

from bondd.datagram import SEND_TIMEOUT, DatagramSender

__all__ = ["SEND_TIMEOUT", "Notifier"]


class Notifier:
    """Talks to NOTIFY_SOCKET when systemd (or a test) set one; silent otherwise."""

    def __init__(self) -> None:
        path = os.environ.get("NOTIFY_SOCKET", "")
        self.enabled = bool(path)
        self.sender = DatagramSender(path, SEND_TIMEOUT) if path else None
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        # Ping at half the interval systemd gave us, as sd_watchdog_enabled(3) advises.
        self.watchdog_interval = int(usec) / 2e6 if usec.isdigit() and mine else None
        self.last_status = ""
        self.last_pass = time.monotonic()  # when the loop last finished a pass

    def send(self, *lines: str) -> None:
        # A lost notification is dropped (and counted in sender.failures):
        # the daemon never stops on a routine error, and this is one.
        if self.sender is not None:
            self.sender.send("\n".join(lines).encode())

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={status}")
        self.last_status = status

    def status(self, status: str) -> None:
        # The loop calls this once per pass: the proof that it makes progress.
        self.last_pass = time.monotonic()
        if status != self.last_status:
            self.send(f"STATUS={status}")
            self.last_status = status

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")

    def reloading(self) -> None:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.send("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> None:
        self.send("STOPPING=1")
