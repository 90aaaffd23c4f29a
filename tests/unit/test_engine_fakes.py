"""The planner and the transaction's own logic on an in-memory kernel: fast, no lab.

The lab proves the same behaviours on the real driver; these pin down the
engine's decisions (order of ops, recovery rules, rejected proposals, the
confirm deadline with a fake clock) where a fault is easy to stage.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bondd import config
from bondd.engine.pending import Phase, StagedFile
from bondd.engine.store import Store
from bondd.engine.transaction import (
    Host,
    Proposal,
    Status,
    begin,
    confirm,
    recover_now,
)
from bondd.model import ProbeSpec
from bondd.plan import ops as o
from bondd.plan import planner
from bondd.plan.ownership import Ownership
from tests.unit.fakekernel import FakeKernel

pytestmark = pytest.mark.unit

BASE = """network:
  version: 2
  ethernets: {p0: {}, p1: {}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters: {mode: active-backup, mii-monitor-interval: 100}
      addresses: [192.0.2.2/24]
bondd: {probes: []}
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def wall(self) -> float:
        return self.now


class FakeProber:
    def __init__(self, ok: bool = True) -> None:
        self.ok = ok

    def check(self, probe: ProbeSpec, timeout: float) -> FakeProber:
        return self

    @property
    def detail(self) -> str:
        return "fake"


def host(
    tmp_path: Path,
    kernel: FakeKernel,
    clock: FakeClock,
    boot: str = "boot-1",
    prober: FakeProber | None = None,
) -> Host:
    return Host(
        kernel,
        kernel,
        Store(tmp_path / "state"),
        clock,
        prober or FakeProber(),
        boot,
        wall=clock.wall,
    )


def proposal(text: str) -> Proposal:
    state = config.check_text(text).state
    return Proposal(state, config.content_hash([]) + str(hash(text)))


def test_new_bond_plan_creates_then_goes_up_then_enslaves_then_addresses() -> None:
    kernel = FakeKernel(["p0", "p1"])
    plan = planner.plan(proposal(BASE).desired, kernel.read(), Ownership())
    kinds = [type(op).__name__ for op in plan.ops]
    assert kinds[0] == "CreateBond"
    assert kinds.index("SetLinkUp") < kinds.index("AddPort") < kinds.index("AddAddress")
    assert plan.disruption()["bond0"] is o.Disruption.NEW


@pytest.mark.parametrize("mode", ["802.3ad", "balance-tlb", "balance-alb"])
def test_new_bond_in_a_mode_that_negotiates_or_programs_macs_goes_up_after_its_ports(
    mode: str,
) -> None:
    text = BASE.replace("mode: active-backup", f"mode: {mode}")
    plan = planner.plan(proposal(text).desired, FakeKernel(["p0", "p1"]).read(), Ownership())
    kinds = [type(op).__name__ for op in plan.ops]
    assert kinds.index("AddPort") < kinds.index("SetLinkUp") < kinds.index("AddAddress")


def test_converged_host_plans_nothing(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    assert begin(host(tmp_path, kernel, clock), proposal(BASE)).status is Status.COMMITTED
    writes = kernel.writes
    again = begin(host(tmp_path, kernel, clock), proposal(BASE))
    assert again.status is Status.CONVERGED and kernel.writes == writes


def test_miimon_change_resends_the_delays_it_scales() -> None:
    kernel = FakeKernel(["p0", "p1"])
    first = proposal(
        BASE.replace("mii-monitor-interval: 100", "mii-monitor-interval: 100, up-delay: 200")
    )
    for op in planner.plan(first.desired, kernel.read(), Ownership()).ops:
        kernel.apply(op)
    changed = proposal(
        BASE.replace("mii-monitor-interval: 100", "mii-monitor-interval: 50, up-delay: 200")
    )
    [op] = [
        op
        for op in planner.plan(changed.desired, kernel.read(), Ownership()).ops
        if isinstance(op, o.SetOptions)
    ]
    assert op.options["miimon"] == 50 and op.options["updelay"] == 200


@pytest.mark.parametrize("fail_at", range(7))  # the mode change below has 7 ops
def test_a_fault_at_any_op_rolls_back_to_the_snapshot(tmp_path: Path, fail_at: int) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    begin(host(tmp_path, kernel, clock), proposal(BASE))
    before = kernel.read()
    kernel.fail_at = kernel.calls + fail_at
    result = begin(
        host(tmp_path, kernel, clock), proposal(BASE.replace("active-backup", "balance-xor"))
    )
    assert result.status is Status.ROLLED_BACK and "injected fault" in result.reason
    assert kernel.read().bond("bond0") == before.bond("bond0")


def test_unconfirmed_change_is_rolled_back_once_the_deadline_passed(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    begin(host(tmp_path, kernel, clock), proposal(BASE))
    before = kernel.read().bond("bond0")
    waiting = begin(
        host(tmp_path, kernel, clock), proposal(BASE.replace("100", "50")), confirm_timeout=60
    )
    assert waiting.status is Status.WAITING
    clock.now += 30
    assert recover_now(host(tmp_path, kernel, clock)) is None  # still inside the window
    clock.now += 31
    assert "not confirmed" in (recover_now(host(tmp_path, kernel, clock)) or "")
    assert kernel.read().bond("bond0") == before
    rejected = Store(tmp_path / "state").rejected()
    assert list(rejected.values()) == ["not confirmed within 60s"]


def test_confirmed_change_is_committed_and_not_rolled_back_later(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    begin(host(tmp_path, kernel, clock), proposal(BASE))
    begin(host(tmp_path, kernel, clock), proposal(BASE.replace("100", "50")), confirm_timeout=60)
    assert confirm(host(tmp_path, kernel, clock)) is not None
    clock.now += 120
    assert recover_now(host(tmp_path, kernel, clock)) is None
    assert kernel.read().bond("bond0").options["miimon"] == 50  # type: ignore[union-attr]


def test_a_reboot_during_the_window_rejects_the_proposal_and_restores_files(
    tmp_path: Path,
) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    config_file = tmp_path / "10-bond.yaml"
    config_file.write_text(BASE)
    begin(host(tmp_path, kernel, clock), proposal(BASE))
    staged = StagedFile(str(config_file), BASE.replace("100", "50"), BASE)
    changed = proposal(BASE.replace("100", "50"))
    begin(
        host(tmp_path, kernel, clock),
        Proposal(changed.desired, changed.hash, (staged,)),
        confirm_timeout=60,
    )
    assert config_file.read_text() == staged.new
    done = recover_now(host(tmp_path, FakeKernel(["p0", "p1"]), clock, boot="boot-2"))
    assert done is not None and "reboot" in done
    assert config_file.read_text() == BASE
    assert Store(tmp_path / "state").pending() is None


def test_an_abandoned_apply_is_rolled_back_by_the_next_process(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    begin(host(tmp_path, kernel, clock), proposal(BASE))
    before = kernel.read().bond("bond0")
    begin(host(tmp_path, kernel, clock), proposal(BASE.replace("100", "50")), confirm_timeout=60)
    store = Store(tmp_path / "state")
    pending = store.pending()
    assert pending is not None
    store.save_pending(pending.with_(phase=Phase.APPLYING))  # as if it died mid-apply
    assert "abandoned" in (recover_now(host(tmp_path, kernel, clock)) or "")
    assert kernel.read().bond("bond0") == before


def test_failed_probe_rolls_back_and_a_probe_failing_before_is_not_a_gate(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    with_probe = BASE.replace(
        "bondd: {probes: []}", "bondd: {probes: [{type: ping, target: 192.0.2.1}]}"
    )
    dead = FakeProber(ok=False)
    result = begin(host(tmp_path, kernel, clock, prober=dead), proposal(with_probe))
    assert result.status is Status.COMMITTED
    assert [g.used for g in result.gates] == [False]


@pytest.mark.parametrize(("then", "now"), [("boot-1", "unknown"), ("unknown", "unknown")])
def test_an_unreadable_boot_id_fails_closed_the_change_is_rolled_back(
    tmp_path: Path, then: str, now: str
) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    begin(host(tmp_path, kernel, clock, boot=then), proposal(BASE))
    changed = proposal(BASE.replace("100", "50"))
    begin(host(tmp_path, kernel, clock, boot=then), changed, confirm_timeout=60)
    clock.now += 120
    done = recover_now(host(tmp_path, kernel, clock, boot=now)) or ""
    assert "reboot" not in done and "rolled back" in done
    assert kernel.read().bond("bond0").options["miimon"] == 100  # type: ignore[union-attr]


def test_leaving_802_3ad_puts_lacp_rate_back_before_the_mode_changes() -> None:
    # The kernel takes lacp_rate only in 802.3ad but keeps it through a mode
    # change: a rollback to active-backup that did not reset it first would
    # leave "fast" behind (found by the kernel tier's kernel-view comparison).
    kernel = FakeKernel(["p0", "p1"])
    lacp = proposal(BASE.replace("mode: active-backup", "mode: 802.3ad, lacp-rate: fast"))
    for op in planner.plan(lacp.desired, kernel.read(), Ownership()).ops:
        kernel.apply(op)
    back = planner.plan(proposal(BASE).desired, kernel.read(), Ownership()).ops
    sets = [(i, op) for i, op in enumerate(back) if isinstance(op, o.SetOptions)]
    [(reset_at, reset), (mode_at, mode)] = sets
    assert dict(reset.options) == {"lacp_rate": "slow"}
    assert mode.options["mode"] == "active-backup" and "lacp_rate" not in mode.options
    removed = max(i for i, op in enumerate(back) if isinstance(op, o.RemovePort))
    assert removed < reset_at < mode_at
    # Into 802.3ad there is nothing to put back.
    for op in back:
        kernel.apply(op)
    again = planner.plan(lacp.desired, kernel.read(), Ownership()).ops
    first = next(op for op in again if isinstance(op, o.SetOptions))
    assert first.options["mode"] == "802.3ad"
