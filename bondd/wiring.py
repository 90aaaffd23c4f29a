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
from bondd.engine.store import Store
from bondd.engine.transaction import Host, read_boot_id
from bondd.kernel.probe import NetworkProber
from bondd.kernel.reader import KernelReader
from bondd.kernel.writer import KernelWriter


@contextmanager
def open_host(state_dir: Path, clock: Clock | None = None, role: str = "bondctl") -> Iterator[Host]:
    reader = KernelReader()
    writer = KernelWriter()
    try:
        yield Host(
            reader,
            writer,
            Store(state_dir),
            clock or SystemClock(),
            NetworkProber(),
            read_boot_id(),
            deadman=GuardStarter(state_dir),
            role=role,
        )
    finally:
        reader.close()
        writer.close()
