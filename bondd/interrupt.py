"""Turn SIGHUP, SIGTERM and SIGINT into "roll back now" while a transaction runs.

A dying SSH session sends SIGHUP, `systemctl stop` and `kill` send SIGTERM,
Ctrl-C sends SIGINT: each means the person or the system that wanted the
change is going away, so the change must not stay half-done or unwatched.
The first such signal raises `Interrupted` in the main thread (the
transaction catches it and rolls back); later ones are ignored, so the
rollback itself runs to its end.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from bondd.errors import Interrupted

ROLLBACK_SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)

Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


@contextmanager
def rollback_on(signums: tuple[signal.Signals, ...] = ROLLBACK_SIGNALS) -> Iterator[list[int]]:
    """While inside, the first of `signums` raises Interrupted; yields the signals received."""
    received: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) == 1:
            raise Interrupted(signum)

    previous: dict[signal.Signals, Handler] = {s: signal.signal(s, handler) for s in signums}
    try:
        yield received
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
