"""The engine's boundary: what it needs from outside, as typing.Protocol classes.

The engine orchestrates a change without importing the kernel: it reads state
through a Reader, sends ops to a Writer, waits on a Clock and arms a DeadMan.
bondd/kernel implements Reader and Writer, bondd/engine/clock.py the Clock,
bondd/deadman.py the DeadMan; bondd/wiring.py plugs them in, and the unit
tests plug in fakes (tests/unit/fakekernel.py).
"""

from __future__ import annotations

from typing import Protocol

from bondd.engine.holder import Holder
from bondd.model import ActualState
from bondd.plan.ops import Op


class Reader(Protocol):
    def read(self) -> ActualState: ...


class Writer(Protocol):
    writes: int

    def apply(self, op: Op) -> None:
        """Execute one op; raise bondd.errors.KernelOpError when the kernel refuses."""

    def ports_of(self, bond: str) -> list[str]:
        """The bond's current ports (for fallbacks that must release them)."""
        ...


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class DeadMan(Protocol):
    """Starts the guard that rolls a transaction back if its runner dies or overruns."""

    def start(self, txn: str, runner: Holder) -> None:
        """Launch the guard (it waits for the pending record of `txn`)."""

    def armed(self, txn: str) -> Holder:
        """Block until the guard is armed; raise GuardError if it never is."""
        ...
