"""After an apply, read the kernel back until it matches the targets.

Some of the kernel's work is asynchronous (carrier, a port's admin state
after enslaving), so a mismatch is re-read a few times before it counts.
"""

from __future__ import annotations

from bondd.engine.boundary import Clock, Reader
from bondd.model import ActualState
from bondd.plan.diff import Difference, diff
from bondd.plan.target import Targets

VERIFY_TIMEOUT = 2.0
VERIFY_INTERVAL = 0.05


def verify(
    targets: Targets, reader: Reader, clock: Clock, timeout: float = VERIFY_TIMEOUT
) -> tuple[ActualState, list[Difference]]:
    deadline = clock.monotonic() + timeout
    while True:
        actual = reader.read()
        differences = diff(targets, actual)
        if not differences or clock.monotonic() >= deadline:
            return actual, differences
        clock.sleep(VERIFY_INTERVAL)
