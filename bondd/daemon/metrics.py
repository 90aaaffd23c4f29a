"""The daemon's metrics file: kept current, rate-limited, never in the loop's way.

It reads through bondd.kernel.bondview (bonds and ports only, one raw
dump: milliseconds where the full reader takes most of a second at 64
bonds). The loop tells the writer what it saw (`changed`, `failover`, `repaired`)
and calls `tick` after each wake-up; `due` says when the writer wants the
next tick. A burst of events collapses into one write; writes come at most
every MIN_INTERVAL seconds and at least every MAX_INTERVAL. On the loop's
thread the writer only reads the kernel, read-only, on a socket of its own; the
state files, the configuration check, the counters and the atomic write of
the textfile run on a thread of its own, so a slow disk never delays the
loop or its watchdog. When that thread is still busy, the next snapshot
replaces the one waiting: only the latest state is ever written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from bondd import lacp
from bondd.engine.counters import Counts
from bondd.errors import BonddError
from bondd.log import event
from bondd.metrics import view
from bondd.metrics.collect import Collector
from bondd.metrics.textfile import write_atomic
from bondd.model import ActualState

MIN_INTERVAL = 0.25  # at most four writes a second
MAX_INTERVAL = 60.0  # at least one a minute, so node_exporter's file never looks stale
COALESCE = 0.05  # the kernel's follow-up events of one change arrive within this
# LACP negotiates (and a partner falls silent) without a netlink event the
# daemon could wake on: while an 802.3ad bond has not negotiated, look again
# every second for two minutes after the last change (lacp_rate slow takes
# tens of seconds), then every ten seconds until it has.
SETTLE_INTERVAL = 1.0
SETTLE_WINDOW = 120.0
UNSETTLED_INTERVAL = 10.0


class BondReader(Protocol):
    def read(self) -> ActualState: ...

    def close(self) -> None: ...


class MetricsWriter:
    def __init__(
        self,
        reader: BondReader,
        collector: Collector,
        logger: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reader = reader
        self.collector = collector
        self.log = logger
        self.clock = clock
        self.dirty_at: float | None = clock() - COALESCE  # write at once at start
        self.last = float("-inf")
        self.changed_at = clock()  # the start is a change
        self.unsettled = False  # an 802.3ad bond had not negotiated at the last read
        self.failovers: Counter[str] = Counter()
        self.repairs: Counter[str] = Counter()
        self.writes = 0
        self._job: tuple[ActualState, Counts] | None = None
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._unsaved = Counts()  # counts the thread could not write to the file yet
        self._written: Path | None = None
        self._complained: set[str] = set()

    # -- what the loop calls -------------------------------------------------

    def changed(self) -> None:
        if self.dirty_at is None:
            self.dirty_at = self.changed_at = self.clock()

    def failover(self, bond: str) -> None:
        self.failovers[bond] += 1
        self.changed()

    def repaired(self, bonds: Iterable[str]) -> None:
        for bond in bonds:
            self.repairs[bond] += 1
        self.changed()

    def due(self) -> float:
        """The monotonic time of the next write."""
        if self.dirty_at is None:
            if not self.unsettled:
                return self.last + MAX_INTERVAL
            settling = self.last - self.changed_at < SETTLE_WINDOW
            return self.last + (SETTLE_INTERVAL if settling else UNSETTLED_INTERVAL)
        return max(self.dirty_at + COALESCE, self.last + MIN_INTERVAL)

    def tick(self) -> None:
        now = self.clock()
        if now < self.due():
            return
        self.dirty_at = None
        self.last = now
        try:
            actual = self.reader.read()
        except (BonddError, OSError) as exc:
            why = exc.message if isinstance(exc, BonddError) else (exc.strerror or repr(exc))
            self._complain(f"metrics not updated: cannot read the kernel: {why}")
            return
        self.unsettled = any(
            found is not None and not found.negotiated
            for found in (lacp.verdict(bond) for bond in actual.bonds)
        )
        delta = Counts(failovers=dict(self.failovers), drift_repairs=dict(self.repairs))
        self.failovers.clear()
        self.repairs.clear()
        with self._cond:
            if self._job is not None:  # not written yet: replace it, keep its counts
                delta = self._job[1].plus(delta)
            self._job = (actual, delta)
            self._cond.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="bondd-metrics", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 2.0) -> None:
        """Let the thread finish the write it has (and the one waiting), then stop it."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)
        self.reader.close()

    # -- the writer thread ---------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._cond:
                while self._job is None and not self._closed:
                    self._cond.wait()
                job, self._job = self._job, None
            if job is None:
                return
            try:
                self._write(*job)
            except Exception as exc:  # the thread must outlive any one write
                self._complain(f"metrics not written: {exc!r}")

    def _write(self, actual: ActualState, delta: Counts) -> None:
        unsaved = self._unsaved.plus(delta)
        if not unsaved.empty:
            try:
                self.collector.counters.add(unsaved)
                unsaved = Counts()
            except (BonddError, OSError) as exc:
                self._complain(f"metrics counters not saved: {exc}")
        self._unsaved = unsaved
        path = self.collector.textfile()
        if path is None:
            return
        text = view.text(self.collector.gather(actual, unsaved))
        try:
            write_atomic(path, text.encode())
        except OSError as exc:
            self._complain(f"cannot write metrics to {path}: {exc.strerror or exc}")
            return
        self.writes += 1
        if self._written is not None and self._written != path:
            self._written.unlink(missing_ok=True)  # the configuration moved the file
        self._written = path
        self._complained.clear()

    def _complain(self, message: str) -> None:
        # Once per distinct problem until a write succeeds again: a full disk
        # must not become four journal entries a second.
        if message not in self._complained:
            self._complained.add(message)
            event(self.log, "metrics_failed", message, level=logging.WARNING)
