"""Run bondd in-process inside the test's host namespace, with its own dirs."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from bondd import config
from bondd.engine.clock import SystemClock
from bondd.engine.converge import Outcome, converge, make_plan
from bondd.engine.store import Store
from bondd.kernel.netlink import IPRoute
from bondd.kernel.reader import KernelReader
from bondd.kernel.writer import KernelWriter
from bondd.model import ActualState, DesiredState
from bondd.plan.planner import Plan


@dataclass
class Bondd:
    config_dir: Path
    state_dir: Path
    ipr: IPRoute = field(default_factory=IPRoute)

    def __post_init__(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.reader = KernelReader(self.ipr)
        self.writer = KernelWriter(self.ipr)
        self.store = Store(self.state_dir)

    def write(self, yaml_text: str, name: str = "50-test.yaml") -> None:
        (self.config_dir / name).write_text(textwrap.dedent(yaml_text))

    def desired(self) -> DesiredState:
        return config.load_desired([self.config_dir], explicit=True)

    def plan(self, yaml_text: str | None = None) -> Plan:
        if yaml_text is not None:
            self.write(yaml_text)
        return make_plan(self.desired(), self.reader, self.store)[0]

    def apply(self, yaml_text: str | None = None) -> Outcome:
        """Apply; returns the outcome. `writes_last` counts this apply's kernel writes."""
        if yaml_text is not None:
            self.write(yaml_text)
        before = self.writer.writes
        outcome = converge(self.desired(), self.reader, self.writer, self.store, SystemClock())
        self.writes_last = self.writer.writes - before
        return outcome

    def read(self) -> ActualState:
        return self.reader.read()

    def close(self) -> None:
        self.reader.close()
        self.writer.close()
        self.ipr.close()
