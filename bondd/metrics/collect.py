"""Gather what the metrics say from the state directory and the configuration.

The kernel's view is handed in (the daemon reads it on its own loop; `bondctl
metrics` reads it once), everything else is read here: ownership, the
pending transaction, the counters, the last drills, and whether the
configuration files validate. The files are checked again only when their
names, sizes or modification times change, so a daemon writing a few times
a second does not re-validate a large configuration each time. Nothing here
fails: what cannot be read is reported as unknown, never as an exception.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bondd import config
from bondd.drill.measure import DrillSummary
from bondd.drill.records import DrillRecords
from bondd.engine.counters import Counters, Counts
from bondd.engine.store import Store
from bondd.errors import BonddError
from bondd.metrics.view import MetricsInput
from bondd.model import ActualState, DesiredState

NODE_EXPORTER_DIR = Path("/var/lib/prometheus/node-exporter")  # Debian's textfile directory
FILE_NAME = "bondd.prom"

Signature = tuple[tuple[str, int, int, int], ...]


@dataclass(frozen=True)
class ConfigView:
    valid: bool
    desired: DesiredState | None  # None when the files are not valid


class Collector:
    def __init__(
        self,
        dirs: Sequence[Path],
        explicit: bool,
        state_dir: Path,
        default_textfile: Path | None = None,
    ) -> None:
        self.dirs = list(dirs)
        self.default_textfile = default_textfile
        self.explicit = explicit
        self.store = Store(state_dir)
        self.counters = Counters(state_dir)
        self.drills = DrillRecords(state_dir)
        self._cached: tuple[Signature, ConfigView] | None = None

    def config(self) -> ConfigView:
        signature = self._signature()
        if self._cached is not None and self._cached[0] == signature:
            return self._cached[1]
        try:
            result = config.check(self.dirs, explicit=self.explicit)
            view = ConfigView(result.ok, result.state if result.ok else None)
        except BonddError:
            view = ConfigView(False, None)
        self._cached = (signature, view)
        return view

    def _signature(self) -> Signature:
        found = []
        for directory in self.dirs:
            try:
                entries = list(os.scandir(directory))
            except OSError:
                found.append((str(directory), -1, 0, 0))
                continue
            for entry in entries:
                if entry.name.endswith(".yaml"):
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    found.append((entry.path, st.st_size, st.st_mtime_ns, st.st_ino))
        return tuple(sorted(found))

    def committed(self) -> DesiredState | None:
        try:
            found = self.store.committed()
        except BonddError:
            return None
        return None if found is None else found[1]

    def gather(self, actual: ActualState, unsaved: Counts | None = None) -> MetricsInput:
        """Everything the metrics need; `unsaved`: counts not yet written to the file."""
        view = self.config()
        try:
            ownership = self.store.ownership()
        except BonddError:
            ownership = None
        try:
            pending = self.store.pending() is not None
        except BonddError:
            pending = False
        try:
            counts = self.counters.read()
        except BonddError:
            counts = Counts()
        return MetricsInput(
            actual=actual,
            ownership=ownership,
            configured=view.desired or self.committed(),
            config_valid=view.valid,
            counts=counts if unsaved is None else counts.plus(unsaved),
            drills=self._drills(),
            pending=pending,
        )

    def _drills(self) -> dict[str, DrillSummary]:
        try:
            return self.drills.summaries()
        except (BonddError, KeyError, TypeError, ValueError):
            return {}

    def textfile(self) -> Path | None:
        """Where the daemon writes: the configured path, else the daemon's
        --metrics-textfile, else node_exporter's directory when it exists."""
        desired = self.config().desired or self.committed()
        if desired is not None and desired.settings.metrics_textfile:
            return Path(desired.settings.metrics_textfile)
        if self.default_textfile is not None:
            return self.default_textfile
        return NODE_EXPORTER_DIR / FILE_NAME if NODE_EXPORTER_DIR.is_dir() else None
