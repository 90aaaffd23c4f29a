"""The daemon's decisions over fakes: which events cost a pass, what a pass reads,
timers, signals, control answers, and the loop itself on its real sources.

The lab proves per-bond repair on the real kernel (tests/kernel/test_drift_scoped.py);
these pin down the rules: an event on one bond reads and plans that bond only,
and every case the partial view cannot be trusted with reads the host.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Collection, Iterable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bondd import config
from bondd.daemon.loop import Daemon
from bondd.daemon.notify import Notifier
from bondd.daemon.repair import UnscopedError, narrow, splice
from bondd.daemon.watchset import Names, Scope, WatchSet
from bondd.errors import BonddError
from bondd.kernel.events import KernelEvent
from bondd.kernel.reader import Scoped
from bondd.model import ActualState, BondOptions, BondState, PortState, VlanSpec
from bondd.plan import ops as o
from bondd.plan.addresses import address_ops
from bondd.plan.ownership import Ownership
from tests.unit.fakekernel import FakeKernel
from tests.unit.test_engine_fakes import FakeClock, host

pytestmark = pytest.mark.unit

TWO = """network:
  version: 2
  ethernets: {p0: {}, p1: {}, p2: {}, p3: {}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters: {mode: active-backup, mii-monitor-interval: 100}
      addresses: [192.0.2.2/24]
    bond1:
      interfaces: [p2, p3]
      parameters: {mode: active-backup, mii-monitor-interval: 100}
      addresses: [198.51.100.2/24]
bondd: {probes: []}
"""


class ScopedKernel(FakeKernel):
    """The fake kernel with the daemon's per-bond read, counting reads and writes."""

    def __init__(self, links: list[str]) -> None:
        super().__init__(links)
        self.full_reads = 0
        self.scoped: list[str] = []
        self.ops: list[o.Op] = []

    def read(self) -> ActualState:
        self.full_reads += 1
        return super().read()

    def apply(self, op: o.Op) -> None:
        self.ops.append(op)
        super().apply(op)

    def read_scope(
        self, bond: str, also: Iterable[str] = (), vlans: Collection[str] | None = None
    ) -> Scoped:
        self.scoped.append(bond)
        found = self.state.bond(bond)
        names = set(also) | ({p.name for p in found.ports} if found else set())
        links = tuple(x for x in self.state.links if x.name in names)
        foreign = tuple(x.name for x in links if x.master not in (None, bond))
        bonds = (found,) if found else ()
        return Scoped(ActualState(bonds, links, self.state.unsupported), foreign)

    def drift(self, bond: str, **options: int) -> None:
        found = self._bond(bond)
        self._put(replace(found, options=BondOptions({**found.options, **options})))


def make(tmp_path: Path, text: str = TWO) -> tuple[Daemon, ScopedKernel, FakeClock]:
    kernel, clock = ScopedKernel(["p0", "p1", "p2", "p3"]), FakeClock()
    conf = tmp_path / "bondd.d"
    conf.mkdir()
    (conf / "10-bonds.yaml").write_text(text)
    daemon = Daemon(
        host(tmp_path, kernel, clock),
        [conf],
        explicit=True,
        run_dir=tmp_path / "run",
        logger=logging.getLogger("bondd.test"),
        notifier=Notifier(),
        metrics_textfile=tmp_path / "bondd.prom",
    )
    daemon.startup()
    assert kernel.read().bond("bond1") is not None
    return daemon, kernel, clock


def index(kernel: FakeKernel, name: str) -> int:
    found = kernel.state.bond(name) or kernel.state.link(name)
    assert found is not None
    return found.ifindex


def option_event(kernel: FakeKernel, bond: str) -> KernelEvent:
    return KernelEvent("link", index(kernel, bond), bond, up=True, options_changed=True)


def fire(daemon: Daemon, clock: FakeClock) -> None:
    """Run whatever timers are due after the repair delay."""
    clock.now += 1.0
    daemon.run_timers()


def test_an_option_drift_on_one_bond_reads_and_writes_that_bond_only(tmp_path: Path) -> None:
    daemon, kernel, clock = make(tmp_path)
    kernel.drift("bond1", miimon=50)
    reads, kernel.ops = kernel.full_reads, []
    daemon.on_kernel_events([option_event(kernel, "bond1")], lost=False)
    assert daemon.dirty.scopes == {"bond1": Scope("bond1")} and "repair" in daemon.timers
    fire(daemon, clock)
    bond = kernel.state.bond("bond1")
    assert bond is not None and bond.options["miimon"] == 100
    assert kernel.full_reads == reads  # no whole-host read
    assert set(kernel.scoped) == {"bond1"}  # the plan's read and its verify's
    assert kernel.ops and {op.bond for op in kernel.ops} == {"bond1"}
    assert daemon.stats["repair-scoped"] == 1 and not daemon.stats["repair-unscoped"]


def test_a_converged_scope_writes_nothing_and_a_carrier_flap_costs_no_pass(
    tmp_path: Path,
) -> None:
    daemon, kernel, clock = make(tmp_path)
    kernel.ops = []
    daemon.on_kernel_events([option_event(kernel, "bond0")], lost=False)
    fire(daemon, clock)
    assert not kernel.ops and kernel.scoped == ["bond0"]
    port = kernel.state.link("p0")
    assert port is not None
    flap = KernelEvent("link", port.ifindex, "p0", up=True, master=index(kernel, "bond0"))
    daemon.on_kernel_events([flap, flap], lost=False)
    assert "repair" not in daemon.timers and not daemon.dirty


def test_a_port_moved_to_another_managed_bond_dirties_both(tmp_path: Path) -> None:
    daemon, kernel, _ = make(tmp_path)
    moved = KernelEvent("link", index(kernel, "p0"), "p0", up=True, master=index(kernel, "bond1"))
    daemon.on_kernel_events([moved], lost=False)
    assert set(daemon.dirty.scopes) == {"bond0", "bond1"}


@pytest.mark.parametrize("kind", ["address", "route", "link-deleted"])
def test_address_route_and_deletion_events_dirty_their_bond(tmp_path: Path, kind: str) -> None:
    daemon, kernel, _ = make(tmp_path)
    daemon.on_kernel_events([KernelEvent(kind, index(kernel, "bond0"))], lost=False)
    assert daemon.dirty.scopes == {"bond0": Scope("bond0")}


def test_a_lost_event_reads_the_host(tmp_path: Path) -> None:
    daemon, kernel, clock = make(tmp_path)
    kernel.drift("bond0", miimon=70)
    reads = kernel.full_reads
    daemon.on_kernel_events([], lost=True)
    fire(daemon, clock)
    assert kernel.full_reads > reads and not kernel.scoped
    bond = kernel.state.bond("bond0")
    assert bond is not None and bond.options["miimon"] == 100


def test_unknown_links_are_ignored_unless_a_port_is_absent(tmp_path: Path) -> None:
    daemon, _, _ = make(tmp_path)
    stray = KernelEvent("link", 999, "eth9", up=True)
    daemon.on_kernel_events([stray], lost=False)
    assert not daemon.dirty
    daemon.managed.absent = {"bond0": ("p9",)}
    daemon.on_kernel_events([stray], lost=False)
    assert daemon.dirty.full


def test_a_port_matched_by_pattern_makes_the_repair_read_the_host(tmp_path: Path) -> None:
    text = TWO.replace("interfaces: [p2, p3]", "interfaces: [tail]").replace(
        "ethernets: {p0: {}, p1: {}, p2: {}, p3: {}}",
        "ethernets: {p0: {}, p1: {}, tail: {match: {name: 'p[23]'}}}",
    )
    daemon, kernel, clock = make(tmp_path, text)
    kernel.drift("bond1", miimon=50)
    daemon.on_kernel_events([option_event(kernel, "bond1")], lost=False)
    reads = kernel.full_reads
    fire(daemon, clock)
    assert daemon.stats["repair-unscoped"] == 1 and kernel.full_reads > reads
    bond = kernel.state.bond("bond1")
    assert bond is not None and bond.options["miimon"] == 100


def test_a_port_enslaved_elsewhere_makes_the_repair_read_the_host(tmp_path: Path) -> None:
    daemon, kernel, clock = make(tmp_path)
    kernel._link("p3", master="br0")  # the partial read cannot see br0
    daemon.on_kernel_events([KernelEvent("link-deleted", index(kernel, "p3"))], lost=False)
    fire(daemon, clock)
    assert daemon.stats["repair-unscoped"] == 1
    assert "p3" in daemon.degraded  # the host's plan refuses to take it from br0
    assert "repair" in daemon.timers  # and retries with a back-off


def test_a_held_bond_is_not_repaired_until_released(tmp_path: Path) -> None:
    daemon, kernel, clock = make(tmp_path)
    assert daemon.handle("hold", {"bond": "bond1", "seconds": 30})["ok"]
    kernel.drift("bond1", miimon=50)
    daemon.on_kernel_events([option_event(kernel, "bond1")], lost=False)
    fire(daemon, clock)
    bond = kernel.state.bond("bond1")
    assert bond is not None and bond.options["miimon"] == 50
    assert "repair paused for bond1" in daemon.status_line()
    assert daemon.handle("release", {"bond": "bond1"})["ok"]
    fire(daemon, clock)  # the hold's timer: released, a host pass scheduled
    fire(daemon, clock)
    bond = kernel.state.bond("bond1")
    assert bond is not None and bond.options["miimon"] == 100


def test_a_failing_repair_backs_off_and_recovers(tmp_path: Path) -> None:
    daemon, kernel, clock = make(tmp_path)
    kernel.drift("bond1", miimon=50)
    kernel.fail_at = kernel.calls
    daemon.on_kernel_events([option_event(kernel, "bond1")], lost=False)
    fire(daemon, clock)
    assert daemon.degraded and daemon.backoff == 1.0 and daemon.dirty.full
    assert daemon.status_line().startswith("degraded:")
    fire(daemon, clock)
    assert not daemon.degraded and daemon.backoff == 0.0
    assert daemon.status_line() == "2 bonds converged"


def test_timers_watchdog_resync_startup_and_control(tmp_path: Path) -> None:
    daemon, kernel, clock = make(tmp_path)
    daemon.notify.watchdog_interval = 10.0
    daemon.arm_watchdog()
    daemon.timers.update(resync=clock.now, startup=clock.now, control=clock.now)
    reads = kernel.full_reads
    fire(daemon, clock)
    assert daemon.timers["watchdog"] > clock.now  # re-armed
    assert daemon.timers["resync"] > clock.now + 200
    assert kernel.full_reads > reads  # resync and startup read the host
    assert daemon.stats["timer:resync"] == 1 and daemon.stats["timer:control"] == 1


def test_signals_reload_and_stop(tmp_path: Path) -> None:
    daemon, kernel, _ = make(tmp_path)
    reads = kernel.full_reads
    daemon.on_signals(bytes([signal.SIGHUP]))
    assert kernel.full_reads > reads and not daemon.stopping
    daemon.on_signals(bytes([signal.SIGTERM]))
    assert daemon.stopping


def test_a_routine_error_is_logged_once_and_retried(tmp_path: Path) -> None:
    daemon, _, clock = make(tmp_path)
    daemon.timers.pop("resync", None)
    for _ in range(2):
        with daemon.routine("startup"):
            raise BonddError("the lock is busy")
    assert daemon.problem == "the lock is busy"
    assert daemon.reported >= {"the lock is busy"}
    assert daemon.timers["resync"] == daemon.timers["startup"] == clock.now + 5.0
    assert "error: the lock is busy" in daemon.status_line()


def test_control_answers(tmp_path: Path) -> None:
    daemon, _, _ = make(tmp_path)
    status = daemon.handle("status", {})
    assert status["ok"] and status["status"] == "2 bonds converged" and status["pending"] is None
    assert daemon.handle("nonsense", {})["exit_code"] == 64
    assert daemon.handle("confirm", {})["exit_code"] == 1
    assert daemon.handle("rollback", {})["exit_code"] == 1
    committed = daemon.host.store.committed()
    assert committed is not None
    assert daemon.handle("txn", {"proposal": committed[0]})["state"] == "committed"
    assert daemon.handle("txn", {"txn": "x", "proposal": "y"})["state"] == "rolled-back"


def test_an_apply_request_is_answered_with_its_result(tmp_path: Path) -> None:
    daemon, kernel, _ = make(tmp_path)
    text = TWO.replace(
        "mii-monitor-interval: 100}\n      addresses: [198",
        "mii-monitor-interval: 60}\n      addresses: [198",
    )
    answer = daemon.handle(
        "apply", {"files": [("10-bonds.yaml", text)], "confirm_timeout": 0.0, "probes": False}
    )
    assert answer["ok"] and answer["result"] == "committed", answer
    bond = kernel.state.bond("bond1")
    assert bond is not None and bond.options["miimon"] == 60


def test_failovers_are_logged_at_most_once_a_second(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    daemon, kernel, clock = make(tmp_path)
    failover = KernelEvent("link", index(kernel, "bond0"), "bond0", up=True, failover=True)
    with caplog.at_level(logging.INFO, logger="bondd.test"):
        for _ in range(3):
            daemon.on_kernel_events([failover], lost=False)
        clock.now += 2
        daemon.on_kernel_events([failover], lost=False)
    logged = [r.getMessage() for r in caplog.records if "failover" in r.getMessage()]
    assert len(logged) == 2 and "2 more failovers" in logged[1]


def test_the_loop_serves_its_sources_until_sigterm(tmp_path: Path) -> None:
    daemon, _, _ = make(tmp_path)
    daemon.timers.clear()

    def stop() -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    handled = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)
    previous = {signum: signal.getsignal(signum) for signum in handled}
    timer = threading.Timer(0.5, stop)
    timer.start()
    try:
        assert daemon.run() == 0
    finally:
        timer.cancel()
        for signum, handler in previous.items():  # as the other tests expect them
            signal.signal(signum, handler)
    assert daemon.stats["wake:signal"] >= 1 and daemon.stopping


def test_a_vlan_event_dirties_that_vlan_only_and_its_repair_plans_only_it() -> None:
    vlan = VlanSpec("bond0.10", 10, "bond0", addresses=("10.0.10.2/24",))
    other = VlanSpec("bond0.11", 11, "bond0")
    actual = ActualState(
        bonds=(BondState("bond0", 5, vlans=(vlan, other), up=True),),
        links=(
            PortState("bond0.10", 6, kind="vlan", up=True),
            PortState("bond0.11", 7, kind="vlan", up=True),
        ),
    )
    names = Names(vlans=frozenset({"bond0.10", "bond0.11"}))
    watch = WatchSet.of(actual, {"bond0"}, {"bond0": names}, {})
    dirty, _ = watch.dirtied([KernelEvent("address", 6)], lost=False)
    assert dirty.scopes == {"bond0": Scope("bond0", frozenset({"bond0.10"}))}
    dirty.add(Scope("bond0", frozenset({"bond0.11"})))
    assert dirty.scopes["bond0"].vlans == frozenset({"bond0.10", "bond0.11"})
    dirty.add(Scope("bond0"))
    assert dirty.scopes["bond0"] == Scope("bond0")
    desired = config.check_text(VLANS).state
    ownership = Ownership(owned=frozenset({"bond0", "bond0.10", "bond0.11", "bond9"}))
    part = narrow(desired, ownership, Scope("bond0", frozenset({"bond0.10"})))
    assert [v.name for v in part.desired.bonds[0].vlans] == ["bond0.10"]
    assert part.ownership.owned == {"bond0", "bond0.10"}
    after = Ownership(owned=frozenset({"bond0", "bond0.10"}))
    assert splice(ownership, part, after) == ownership  # the other VLAN and bond kept
    watch.update(actual, Scope("bond0", frozenset({"bond0.10"})), names)
    assert watch.by_index[7].name == "bond0.11"  # a VLAN scope re-learns only its VLAN


def test_a_bond_missing_from_the_committed_config_needs_the_host() -> None:
    with pytest.raises(UnscopedError):
        narrow(config.check_text(VLANS).state, Ownership(), Scope("bond7"))


def test_proposals_that_are_not_applied_say_why(tmp_path: Path) -> None:
    daemon, kernel, _ = make(tmp_path)
    conf = daemon.dirs[0] / "10-bonds.yaml"
    conf.write_text("network: {version: 2, bonds: {bond0: {interfaces: [nope]}}}\n:")
    daemon.consider_proposal()
    assert "unreadable" in daemon.proposal_note or "invalid" in daemon.proposal_note
    conf.write_text(
        TWO.replace("probes: []", "probes: [], apply-on-change: false").replace("100}", "90}")
    )
    writes = kernel.writes
    daemon.consider_proposal()
    assert "pending: run `bondctl apply`" in daemon.proposal_note and kernel.writes == writes


VLANS = """network:
  version: 2
  ethernets: {p0: {}}
  bonds:
    bond0: {interfaces: [p0], parameters: {mode: active-backup}}
  vlans:
    bond0.10: {id: 10, link: bond0, addresses: [10.0.10.2/24]}
    bond0.11: {id: 11, link: bond0}
"""


def test_files_holding_the_committed_bytes_are_not_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon, _, _ = make(tmp_path)

    def parse(*_: object, **__: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(config, "check", parse)
    daemon.consider_proposal()  # the watcher's wake-up after an apply installed them
    assert daemon.proposal_note == ""
    fifo = daemon.dirs[0] / "20-fifo.yaml"
    os.mkfifo(fifo)  # never opened blocking: the full check (here: the fake) decides
    with pytest.raises(AssertionError, match="parsed again"):
        daemon.consider_proposal()


def test_an_ipv4_address_moved_within_its_subnet_is_deleted_first() -> None:
    # Deleting a subnet's primary takes its secondaries: add-then-delete would end empty.
    ops = address_ops("bond0", "bond0.600", {"10.0.0.3/24", "10.9.0.2/24"}, {"10.0.0.2/24"})
    assert [(type(op).__name__, getattr(op, "address", "")) for op in ops] == [
        ("DelAddress", "10.0.0.2/24"),
        ("AddAddress", "10.0.0.3/24"),
        ("AddAddress", "10.9.0.2/24"),
    ]
    kept = address_ops("b", "b", {"10.0.0.2/24", "10.0.0.4/24"}, {"10.0.0.2/24", "10.0.0.3/24"})
    assert [type(op).__name__ for op in kept] == ["DelAddress", "AddAddress", "AddAddress"]
    other = address_ops(
        "b", "b", {"10.1.0.2/24", "2001:db8::3/64"}, {"10.0.0.2/24", "2001:db8::2/64"}
    )
    assert [type(op).__name__ for op in other] == [
        "AddAddress",
        "AddAddress",
        "DelAddress",
        "DelAddress",
    ]


def test_a_no_op_apply_is_not_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    daemon, kernel, _ = make(tmp_path)

    def parse(*_: object, **__: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(config, "load_checked", parse)
    writes = kernel.writes
    request = {"files": [("10-bonds.yaml", TWO)], "confirm_timeout": 0.0, "probes": False}
    answer = daemon.handle("apply", request)
    assert answer["ok"] and answer["result"] == "converged" and kernel.writes == writes
    with pytest.raises(AssertionError, match="parsed again"):  # other bytes: parsed
        daemon.handle("apply", {**request, "files": [("10-bonds.yaml", TWO + "\n")]})


def test_a_status_after_a_scoped_repair_is_of_the_whole_host(tmp_path: Path) -> None:
    daemon, kernel, clock = make(tmp_path)
    first = daemon.handle("status", {"report": "json", "bond": None})
    assert first["source"] == "last verified read"  # startup's whole-host read
    kernel.drift("bond1", miimon=50)
    daemon.on_kernel_events([option_event(kernel, "bond1")], lost=False)
    fire(daemon, clock)
    assert daemon.stats["repair-scoped"] == 1 and set(kernel.scoped) == {"bond1"}
    kept = daemon.last_read.fresh(daemon.now())
    assert kept is None or {b.name for b in kept.bonds} == {"bond0", "bond1"}
    reads = kernel.full_reads
    answer = daemon.handle("status", {"report": "json", "bond": None})
    report = answer["report"]
    assert [b["name"] for b in report["bonds"]] == ["bond0", "bond1"], report
    assert [b["options"]["miimon"] for b in report["bonds"]] == [100, 100]
    assert answer["source"] == "read now" and kernel.full_reads == reads + 1


class QueuedEvents:
    """The event socket's part in a drain: what the kernel queued, taken whole."""

    def __init__(self) -> None:
        self.queued: list[KernelEvent] = []

    def read(self) -> tuple[list[KernelEvent], bool]:
        events, self.queued = self.queued, []
        return events, False


def test_failovers_the_daemons_own_writes_caused_are_not_counted_a_later_one_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    daemon, kernel, clock = make(tmp_path)  # created bond0 and bond1: their first ports went active
    queue = QueuedEvents()
    sources = cast(Any, SimpleNamespace(events=queue))
    failover = KernelEvent("link", index(kernel, "bond0"), "bond0", up=True, failover=True)
    with caplog.at_level(logging.INFO, logger="bondd.test"):
        queue.queued = [failover, option_event(kernel, "bond1")]  # what the startup queued
        daemon.drain(sources)
        assert not daemon.metrics.failovers
        # A repair whose write the kernel refuses: nothing is announced, and
        # the drain after it still forgets that it wrote to bond0.
        kernel.drift("bond0", miimon=50)
        queue.queued = [option_event(kernel, "bond0")]
        daemon.drain(sources)
        kernel.fail_at = kernel.calls
        clock.now += 1.0
        daemon.writing(sources, daemon.run_timers)
        assert daemon.failed or daemon.problem or daemon.backoff
        clock.now += 2
        queue.queued = [failover]  # hours later: a cable
        daemon.drain(sources)
    logged = [r.getMessage() for r in caplog.records if "failover" in r.getMessage()]
    assert len(logged) == 1 and daemon.metrics.failovers == {"bond0": 1}
