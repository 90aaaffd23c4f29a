"""The safety net's own logic, fast: who holds a transaction and whether it still
runs, signals turned into rollbacks, the guard's decisions, absent ports.

The lab proves the same on the real kernel (tests/kernel/test_safety_net.py
and the fault campaign); these pin down the rules over fakes.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bondd.cli.guard import due
from bondd.daemon.loop import Daemon
from bondd.daemon.notify import Notifier
from bondd.engine.holder import Holder, start_time
from bondd.engine.lock import TransactionLock
from bondd.engine.pending import Phase
from bondd.engine.store import Store
from bondd.engine.transaction import Status, begin, take_over
from bondd.errors import Interrupted
from bondd.interrupt import rollback_on
from bondd.plan import ops as o
from bondd.plan.ownership import Ownership
from bondd.plan.planner import plan
from bondd.plan.target import build_targets
from tests.unit.fakekernel import FakeKernel
from tests.unit.test_engine_fakes import BASE, FakeClock, host, proposal

pytestmark = pytest.mark.unit


class RecordingDeadMan:
    """Stands in for the guard: records when it was armed, against the kernel's writes."""

    def __init__(self, kernel: FakeKernel) -> None:
        self.kernel = kernel
        self.started_at: int | None = None
        self.armed_at: int | None = None

    def start(self, txn: str, runner: Holder) -> None:
        self.started_at = self.kernel.writes

    def armed(self, txn: str) -> Holder:
        self.armed_at = self.kernel.writes
        return Holder.me("guard")


def test_holder_is_alive_only_with_its_own_start_time() -> None:
    me = Holder.me("test")
    assert me.alive()
    assert not Holder(me.pid, me.start + 1, me.boot_id).alive()  # a reused PID
    assert not Holder(me.pid, me.start, "another-boot").alive()
    assert Holder.from_json(me.to_json()) == me


def test_a_dead_process_is_not_alive_even_before_it_is_reaped() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    holder = Holder.of(child.pid, "child")
    while start_time(child.pid) is not None:  # exits, stays a zombie until waited for
        os.sched_yield()
    assert holder is not None and not holder.alive()
    child.wait()


def test_the_first_signal_raises_and_later_ones_are_ignored() -> None:
    with rollback_on() as received:
        with pytest.raises(Interrupted) as caught:
            os.kill(os.getpid(), signal.SIGHUP)
        assert caught.value.name == "SIGHUP"
        os.kill(os.getpid(), signal.SIGTERM)  # during the rollback: no second raise
    assert received == [signal.SIGHUP, signal.SIGTERM]
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL


def test_the_guard_is_armed_before_the_first_kernel_write(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    deadman = RecordingDeadMan(kernel)
    the_host = host(tmp_path, kernel, clock)
    the_host.deadman = deadman
    assert begin(the_host, proposal(BASE)).status is Status.COMMITTED
    assert deadman.started_at == 0 and deadman.armed_at == 0
    assert kernel.writes > 0


def test_a_signal_mid_apply_rolls_back_now(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    begin(host(tmp_path, kernel, clock), proposal(BASE))
    before = kernel.read().bond("bond0")
    kernel.on_write = lambda: os.kill(os.getpid(), signal.SIGTERM)
    with rollback_on():
        result = begin(host(tmp_path, kernel, clock), proposal(BASE.replace("100", "50")))
    kernel.on_write = None
    assert result.status is Status.ROLLED_BACK and result.reason == "interrupted by SIGTERM"
    assert kernel.read().bond("bond0") == before
    assert Store(tmp_path / "state").pending() is None


def test_the_guard_takes_over_from_a_dead_runner_at_once(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    begin(host(tmp_path, kernel, clock), proposal(BASE))
    before = kernel.read().bond("bond0")
    begin(host(tmp_path, kernel, clock), proposal(BASE.replace("100", "50")), confirm_timeout=60)
    store = Store(tmp_path / "state")
    pending = store.pending()
    assert pending is not None
    me = Holder.me("bondctl")
    dead = Holder(me.pid, me.start + 1, me.boot_id, "bondctl")
    applying = pending.with_(phase=Phase.APPLYING, runner=dead, deadline=clock.wall() + 600)
    store.save_pending(applying)
    the_host = host(tmp_path, kernel, clock)
    reason = due(the_host, applying)
    assert reason is not None and "died while applying" in reason
    assert take_over(the_host, applying.txn, reason) is not None
    assert kernel.read().bond("bond0") == before
    assert store.pending() is None


def test_the_guard_leaves_a_live_runner_and_an_open_window_alone(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    begin(host(tmp_path, kernel, clock), proposal(BASE))
    begin(host(tmp_path, kernel, clock), proposal(BASE.replace("100", "50")), confirm_timeout=60)
    pending = Store(tmp_path / "state").pending()
    assert pending is not None
    the_host = host(tmp_path, kernel, clock)
    assert due(the_host, pending) is None  # waiting, inside the window
    applying = pending.with_(phase=Phase.APPLYING, deadline=clock.wall() + 600)
    assert due(the_host, applying.with_(runner=Holder.of(os.getppid(), "bondctl"))) is None
    clock.now += 61
    assert due(the_host, pending) == "not confirmed within 60s"


def test_an_absent_port_leaves_the_bond_managed_with_the_others() -> None:
    kernel = FakeKernel(["p0"])
    targets = build_targets(proposal(BASE).desired, kernel.read(), Ownership().owned)
    bond = targets.bond("bond0")
    assert bond is not None and bond.ports == ("p0",) and bond.absent == ("p1",)
    nothing = build_targets(proposal(BASE).desired, FakeKernel([]).read(), frozenset())
    empty = nothing.bond("bond0")
    assert empty is not None and empty.ports == () and empty.absent == ("p0", "p1")


def test_a_plan_gone_stale_is_not_run_and_the_new_one_is_returned(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    begin(host(tmp_path, kernel, clock), proposal(BASE))
    changed = proposal(BASE.replace("100", "50"))
    seen = plan(changed.desired, kernel.read(), Store(tmp_path / "state").ownership())
    kernel.apply(o.RemovePort("bond0", "p1"))  # someone else, meanwhile
    writes = kernel.writes
    result = begin(host(tmp_path, kernel, clock), changed, expected=seen)
    assert result.status is Status.PLAN_CHANGED and kernel.writes == writes
    assert result.plan is not None and result.plan.ops != seen.ops
    again = begin(host(tmp_path, kernel, clock), changed, expected=result.plan)
    assert again.status is Status.COMMITTED


def test_a_rollback_at_the_confirm_deadline_is_not_taken_for_a_hang(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    begin(host(tmp_path, kernel, clock), proposal(BASE))
    begin(host(tmp_path, kernel, clock), proposal(BASE.replace("100", "50")), confirm_timeout=60)
    store = Store(tmp_path / "state")
    pending = store.pending()
    assert pending is not None
    clock.now += 61
    seen: list[str | None] = []
    other = Holder.of(os.getppid(), "bondd")  # a live runner that is not this process

    def look() -> None:
        mid = store.pending()
        assert mid is not None and mid.phase is Phase.ROLLING_BACK
        seen.append(due(host(tmp_path, kernel, clock), mid.with_(runner=other)))

    kernel.on_write = look
    take_over(host(tmp_path, kernel, clock), pending.txn, "not confirmed within 60s")
    assert seen == [None]  # mid-rollback, its runner alive: nothing for the guard to do


def test_the_daemon_serves_on_through_a_busy_lock_and_retries(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    conf = tmp_path / "bondd.d"
    conf.mkdir()
    (conf / "10-bond.yaml").write_text(BASE)
    the_host = host(tmp_path, kernel, clock)
    daemon = Daemon(
        the_host,
        [conf],
        explicit=True,
        run_dir=tmp_path / "run",
        logger=logging.getLogger("bondd.test"),
        notifier=Notifier(),
    )
    with TransactionLock(the_host.store.dir):  # a bondctl in mid-transaction
        with daemon.routine("config"):
            daemon.consider_proposal()
        assert "not applied yet" in daemon.proposal_note
        assert "config" in daemon.timers  # retried, not given up
    daemon.consider_proposal()
    assert kernel.read().bond("bond0") is not None
    assert daemon.proposal_note == ""
