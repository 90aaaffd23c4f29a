"""The confirm window: one object for every place that waits for "keep it" or the deadline.

A change applied with `--confirm-timeout N` ends one of three ways: someone
presses Enter on the terminal that applied it (end of input is never a
confirmation), it ends elsewhere (`bondctl confirm` or `bondctl rollback`
from another shell, the daemon, the guard), or its deadline passes. The
terminal of a standalone bondctl, the terminal of a bondctl talking to the
daemon, the guard and the daemon's timer all ask this object, over an
injected wall clock, sleep and input, so its rules are tested with a fake
clock and a real pseudo-terminal alike.
"""

from __future__ import annotations

import enum
import os
import select
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TextIO


class Ending(enum.StrEnum):
    ENTER = "enter"  # confirmed on this terminal
    ELSEWHERE = "elsewhere"  # committed or rolled back by someone else
    EXPIRED = "expired"  # the deadline passed


class Keys(Protocol):
    def line(self, timeout: float) -> str | None:
        """A line typed within `timeout` s; None if nothing was typed; "" at end of input."""


class TerminalKeys:
    """Lines from a terminal (or any readable stream); a hung-up terminal is end of input."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def line(self, timeout: float) -> str | None:
        try:
            if not select.select([self.stream], [], [], timeout)[0]:
                return None
            return self.stream.readline()
        except (OSError, ValueError):  # EIO after a hang-up, or a closed stream
            return ""


@dataclass
class ConfirmWindow:
    deadline: float  # wall-clock seconds (time.time()), as in the pending record
    wall: Callable[[], float]
    sleep: Callable[[float], None]
    ended: Callable[[], bool] = lambda: False  # True once committed or rolled back elsewhere
    keys: Keys | None = None  # None: no terminal to confirm on
    show: Callable[[int], None] = field(default=lambda seconds: None)  # the countdown
    tick: float = 0.25  # how often `ended` is asked

    def left(self) -> float:
        return self.deadline - self.wall()

    def expired(self) -> bool:
        return self.left() <= 0

    def run(self) -> Ending:
        """Wait until Enter, an ending elsewhere or the deadline, whichever comes first."""
        shown = -1
        keys = self.keys
        while True:
            if self.ended():
                return Ending.ELSEWHERE
            left = self.left()
            if left <= 0:
                return Ending.EXPIRED
            wait = min(self.tick, left)
            if keys is None:
                self.sleep(wait)
                continue
            if int(left) != shown:
                shown = int(left)
                self.show(shown)
            typed = keys.line(wait)
            if typed == "":
                keys = None  # end of input is never a confirmation: wait out the window
            elif typed is not None:
                return Ending.ENTER


def terminal_keys(stream: TextIO) -> Keys | None:
    """Keys from `stream` when it is a terminal, else None (a pipe never confirms)."""
    try:
        return TerminalKeys(stream) if os.isatty(stream.fileno()) else None
    except (OSError, ValueError):
        return None
