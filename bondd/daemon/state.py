"""What the daemon's decisions share: the host, timers, the watch set, its notes.

The daemon is split by concern, each layer using only the ones under it:
this state, drift repair (bondd.daemon.drift), proposals and transactions
(bondd.daemon.proposals), control-socket answers (bondd.daemon.answers),
and the loop that waits on the event sources (bondd.daemon.loop). Time
comes from an injected clock, so the decisions run over fakes in unit
tests with no sleeping.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path

from bondd.daemon import control, queries
from bondd.daemon.metrics import MetricsWriter
from bondd.daemon.notify import Notifier
from bondd.daemon.ownwrites import NotingWriter
from bondd.daemon.watchset import Dirty, WatchSet
from bondd.engine.boundary import Clock
from bondd.engine.pending import Phase
from bondd.engine.transaction import Host
from bondd.kernel.bondview import BondViewReader
from bondd.metrics.collect import Collector


class DaemonState:
    def __init__(  # noqa: PLR0913 (each is its own setting of bondd's command line)
        self,
        host: Host,
        dirs: list[Path],
        *,
        explicit: bool,
        run_dir: Path,
        logger: logging.Logger,
        notifier: Notifier,
        socket_group: str | None = None,
        metrics_textfile: Path | None = None,
        clock: Clock | None = None,
    ) -> None:
        # The daemon's own writes are noted, so their echoes are not failovers.
        self.writer = NotingWriter(host.writer)
        host.writer = self.writer
        self.host = host
        self.dirs = dirs
        self.explicit = explicit
        self.run_dir = run_dir
        self.log = logger
        self.notify = notifier
        self.socket_group = socket_group
        self.clock: Clock = clock or host.clock
        self.timers: dict[str, float] = {}
        self.holds: dict[str, float] = {}
        self.managed = WatchSet()
        self.dirty = Dirty()
        self.backoff = 0.0
        self.degraded = ""
        self.proposal_note = ""
        self.last_pass = 0.0
        self.stopping = False
        self.reported: set[str] = set()
        self.failed: dict[str, str] = {}  # proposal hash -> permanent error, until files change
        self.problem = ""
        self.failovers: dict[str, tuple[float, int]] = {}  # bond -> last logged, folded
        self.stats: Counter[str] = Counter()  # wake-ups and passes, for status and tuning
        self.metrics = MetricsWriter(
            BondViewReader(), Collector(dirs, explicit, host.store.dir, metrics_textfile), logger
        )
        self.server: control.ControlServer | None = None
        self.last_read = queries.LastRead()  # what `bondctl status` is answered from

    def now(self) -> float:
        return self.clock.monotonic()

    def status_line(self) -> str:
        pending = self.host.store.pending()
        if pending is not None and pending.phase is Phase.WAITING:
            try:
                until = time.strftime("%H:%M:%S", time.localtime(pending.deadline))
            except (OverflowError, OSError, ValueError):  # a record from before spans had bounds
                until = "an unreadable deadline"
            return "waiting for confirmation until " + until
        if self.degraded:
            return f"degraded: {self.degraded}"[:200]
        bonds = len(self.managed.bonds)
        line = f"{bonds} bond{'s' if bonds != 1 else ''} converged"
        if self.holds:
            line += f"; repair paused for {', '.join(sorted(self.holds))}"
        if self.proposal_note:
            line += f"; {self.proposal_note}"
        if self.problem:
            line += f"; error: {self.problem}"
        return line[:200]
