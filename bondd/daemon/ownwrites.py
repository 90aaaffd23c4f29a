"""The bonds the daemon's own writes touched, so their echoes are not taken for failovers.

The kernel announces a bonding failover whenever a bond's active port
changes, whoever changed it: a new bond's first port becoming active, a
port released or re-enslaved by a mode change, a primary an admin asked
for. Those are this daemon's doing, not a cable or a switch failing, and
counted as failovers they would fire an alert on every apply. The writer
notes each bond it writes to; the loop drains the kernel's events just
before and just after each action that may write (the kernel queues a
write's announcements within the write), so the set covers exactly the
events that action queued, and is cleared by that drain even when the
kernel refused the write and announced nothing. A real failover on the same
bond during the action (its probes run for seconds) is taken for the
action's own; on real NICs the first active port is often chosen later, by
miimon after autonegotiation, and is then counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bondd.engine.boundary import Writer
from bondd.plan.ops import Op


@dataclass
class NotingWriter:
    """A Writer that remembers which bonds it wrote to since `take()`."""

    inner: Writer
    touched: set[str] = field(default_factory=set)

    @property
    def writes(self) -> int:
        return self.inner.writes

    @writes.setter
    def writes(self, value: int) -> None:
        self.inner.writes = value

    def apply(self, op: Op) -> None:
        self.touched.add(op.bond)  # before: a write the kernel half-did is announced too
        self.inner.apply(op)

    def ports_of(self, bond: str) -> list[str]:
        return self.inner.ports_of(bond)

    def take(self) -> set[str]:
        touched, self.touched = self.touched, set()
        return touched
