"""Turn SIGHUP, SIGTERM and SIGINT into "roll back now" while a transaction runs.

A dying SSH session sends SIGHUP, `systemctl stop` and `kill` send SIGTERM,
Ctrl-C sends SIGINT: each means the person or the system that wanted the
change is going away, so the change must not stay half-done or unwatched.
The first such signal raises `Interrupted` in the main thread (the
transaction catches it and rolls back); later ones are ignored, so the
rollback itself runs to its end.

A signal raised at an arbitrary point could land between writing the
pending record and syncing its directory, or between a commit's two files:
the process would then stop with the record saying one thing and the caller
believing another. So the transaction marks its bookkeeping `shielded`: a
signal arriving there is held until the shield ends. A shield that `absorbs`
(a commit, a rollback) ends the question: the signal has had its answer.
And a caller that handles its own stop (the daemon, whose signals also reach
its main loop) asks for `Interrupted` only inside `interruptible` regions
(the apply and its probes), so that everywhere else it just finishes the step
and stops afterwards.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

from bondd.errors import Interrupted

ROLLBACK_SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)

Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


@dataclass
class _Watch:
    everywhere: bool
    received: list[int] = field(default_factory=list)
    raised: bool = False
    shields: int = 0
    regions: int = 0

    def may_raise(self) -> bool:
        return self.shields == 0 and (self.everywhere or self.regions > 0)

    def raise_held(self) -> None:
        """The held signal, now that it may be raised (once per watch)."""
        if self.received and not self.raised and self.may_raise():
            self.raised = True
            raise Interrupted(self.received[0])


_watch: _Watch | None = None


@contextmanager
def rollback_on(
    signums: tuple[signal.Signals, ...] = ROLLBACK_SIGNALS, *, everywhere: bool = True
) -> Iterator[list[int]]:
    """While inside, the first of `signums` raises Interrupted; yields the signals received.

    `everywhere=False`: only inside `interruptible()`; elsewhere the signal is
    recorded (and a wake-up fd, if the caller set one, still carries it).
    """
    global _watch  # noqa: PLW0603 - signals are process-wide; so is what they interrupt
    watch = _Watch(everywhere)

    def handler(signum: int, _frame: FrameType | None) -> None:
        watch.received.append(signum)
        watch.raise_held()

    outer = _watch
    previous: dict[signal.Signals, Handler] = {s: signal.signal(s, handler) for s in signums}
    _watch = watch
    try:
        yield watch.received
    finally:
        # Handlers first: one arriving in between still finds its watch.
        for signum, old in previous.items():
            signal.signal(signum, old)
        _watch = outer


@contextmanager
def shielded(*, absorb: bool = False) -> Iterator[None]:
    """A step that must finish once begun: a signal inside waits for its end.

    `absorb`: the step is the answer to any signal that arrives during it (a
    rollback undoes the change, a commit is past undoing), so none is raised
    after; unless it runs inside another shield (a recovery's rollback before
    a new apply), whose end raises it.
    """
    watch = _watch
    if watch is None:
        yield
        return
    watch.shields += 1
    try:
        yield
    finally:
        watch.shields -= 1
        if absorb and watch.shields == 0 and watch.received:
            watch.raised = True  # inside another shield, that one's step has the last word
    watch.raise_held()


@contextmanager
def interruptible() -> Iterator[None]:
    """Where a signal means "roll back now", also for a caller that asked for regions only."""
    watch = _watch
    if watch is None:
        yield
        return
    watch.regions += 1
    try:
        watch.raise_held()  # one that came just before: the region is where it is answered
        yield
    finally:
        watch.regions -= 1
