"""A deadline for each benchmark step, so a run never hangs without saying where.

A benchmark that waits on the daemon, the kernel or a child process can wait
for ever when one of them misbehaves; the run then goes silent until some
outer time-out kills it, and nobody knows which step stalled. `step()` arms
SIGALRM around a step and, when the deadline passes, raises `StepTimeoutError`
naming the step in the main thread: blocking calls (select, subprocess waits,
sleeps) are interrupted, `finally` blocks tear the lab down as usual. Steps
nest: an inner step never outlives its outer one.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from types import FrameType


class StepTimeoutError(Exception):
    """A benchmark step ran past its deadline."""

    def __init__(self, name: str, seconds: float) -> None:
        super().__init__(f"bench step '{name}' did not finish within its {seconds:g} s deadline")
        self.name = name
        self.seconds = seconds


_active: list[tuple[str, float, float]] = []  # (name, seconds, monotonic deadline)


def _fire(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    now = time.monotonic()
    # The innermost step whose deadline has passed is the one that ran out.
    for name, seconds, deadline in reversed(_active):
        if deadline <= now + 0.001:
            raise StepTimeoutError(name, seconds)
    _arm()  # woken early (an outer step's timer was shorter): re-arm


def _arm() -> None:
    if not _active:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    left = min(deadline for _, _, deadline in _active) - time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))


@contextlib.contextmanager
def step(name: str, seconds: float) -> Iterator[None]:
    """Run the body with a deadline of `seconds`; StepTimeoutError(name) when it runs out."""
    previous = signal.signal(signal.SIGALRM, _fire) if not _active else None
    _active.append((name, seconds, time.monotonic() + seconds))
    _arm()
    try:
        yield
    finally:
        _active.pop()
        _arm()
        if previous is not None:
            signal.signal(signal.SIGALRM, previous)
