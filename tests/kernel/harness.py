"""Run bondd in-process inside the test's host namespace, with its own dirs."""

from __future__ import annotations

import errno
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from bondd import config
from bondd.deadman import GuardStarter
from bondd.engine.clock import SystemClock
from bondd.engine.converge import Outcome, converge, make_plan
from bondd.engine.serial import bond_to_json
from bondd.engine.store import Store
from bondd.engine.transaction import Host, Proposal, read_boot_id
from bondd.errors import KernelOpError
from bondd.kernel.netlink import IPRoute
from bondd.kernel.probe import NetworkProber
from bondd.kernel.reader import KernelReader
from bondd.kernel.writer import KernelWriter
from bondd.model import ActualState, DesiredState
from bondd.plan.ops import Op
from bondd.plan.planner import Plan
from bondd.plan.snapshot import bond_spec


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

    def host(self, writer: object | None = None, *, guarded: bool = False) -> Host:
        """The transaction's Host over this harness (optionally another writer).

        `guarded`: with the real dead-man timer (a guard process per transaction).
        """
        return Host(
            self.reader,
            writer or self.writer,  # type: ignore[arg-type]
            self.store,
            SystemClock(),
            NetworkProber(),
            read_boot_id(),
            deadman=GuardStarter(self.state_dir) if guarded else None,
        )

    def proposal(self, yaml_text: str | None = None) -> Proposal:
        if yaml_text is not None:
            self.write(yaml_text)
        found = config.check([self.config_dir], explicit=True).files
        return Proposal(self.desired(), config.content_hash(found))

    def close(self) -> None:
        self.reader.close()
        self.writer.close()
        self.ipr.close()


class FaultyWriter:
    """The real writer, except that op number `fail_at` (0-based) fails once with EIO."""

    def __init__(self, inner: KernelWriter, fail_at: int) -> None:
        self.inner = inner
        self.fail_at = fail_at
        self.calls = 0
        self.fired = False

    @property
    def writes(self) -> int:
        return self.inner.writes

    def apply(self, op: Op) -> None:
        index = self.calls
        self.calls += 1
        if index == self.fail_at and not self.fired:
            self.fired = True
            raise KernelOpError(op, errno.EIO, "injected fault")
        self.inner.apply(op)

    def ports_of(self, bond: str) -> list[str]:
        return self.inner.ports_of(bond)


def comparable(actual: ActualState, bonds: list[str], links: list[str]) -> dict[str, object]:
    """Everything a rollback must restore, as plain data: compares equal field by field."""
    view: dict[str, object] = {
        name: bond_to_json(bond_spec(bond)) if (bond := actual.bond(name)) else None
        for name in bonds
    }
    for name in links:
        link = actual.link(name)
        view[f"link {name}"] = (
            None
            if link is None
            else (link.up, link.master, link.addresses, link.mtu, link.macaddress)
        )
    return view
