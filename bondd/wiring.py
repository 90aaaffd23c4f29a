"""Wire the real machine into the engine: kernel reader and writer, store, clock, probes.

The engine works over interfaces; `bondctl` and the daemon both get their
`Host` from here, so the kernel layer is opened one way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bondd.deadman import GuardStarter
from bondd.engine.boundary import Clock
from bondd.engine.clock import SystemClock
from bondd.engine.holder import Holder, boot_id
from bondd.engine.store import Store
from bondd.engine.transaction import Host
from bondd.kernel.probe import NetworkProber
from bondd.kernel.reader import KernelReader
from bondd.kernel.writer import KernelWriter


@contextmanager
def open_host(state_dir: Path, clock: Clock | None = None, role: str = "bondctl") -> Iterator[Host]:
    reader = KernelReader()
    writer = KernelWriter()
    # The daemon keeps a guard started ahead for its next transaction; bondctl
    # and the guard itself start one when they need it.
    guards = GuardStarter(state_dir, keep_spare=role == "bondd")
    if guards.keep_spare:
        guards.prepare(Holder.me(role))
    try:
        yield Host(
            reader,
            writer,
            Store(state_dir),
            clock or SystemClock(),
            NetworkProber(),
            boot_id(),
            deadman=guards,
            role=role,
        )
    finally:
        guards.close()
        reader.close()
        writer.close()
