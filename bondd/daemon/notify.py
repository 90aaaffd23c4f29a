"""systemd notifications (READY, STATUS, WATCHDOG, RELOADING, STOPPING) via sdnotify."""

from __future__ import annotations

import os
import time

import sdnotify

SEND_TIMEOUT = 0.5


class Notifier:
    """Talks to NOTIFY_SOCKET when systemd (or a test) set one; silent otherwise."""

    def __init__(self) -> None:
        self.enabled = bool(os.environ.get("NOTIFY_SOCKET"))
        self.notifier = sdnotify.SystemdNotifier() if self.enabled else None
        if self.notifier is not None and self.notifier.socket is not None:
            # A notify socket nobody reads must not stall the loop that owns the kernel.
            self.notifier.socket.settimeout(SEND_TIMEOUT)
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        # Ping at half the interval systemd gave us, as sd_watchdog_enabled(3) advises.
        self.watchdog_interval = int(usec) / 2e6 if usec.isdigit() and mine else None
        self.last_status = ""
        self.last_pass = time.monotonic()  # when the loop last finished a pass

    def send(self, *lines: str) -> None:
        if self.notifier is not None:
            self.notifier.notify("\n".join(lines))

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
