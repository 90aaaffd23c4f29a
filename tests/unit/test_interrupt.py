"""Signals during a transaction: raised where a rollback answers them, held
where a step must finish (the pending record, a commit, a rollback).

The daemon's stop in a confirm window (tests/kernel/test_safety_net.py) is
the same rule on the real kernel; these pin it down over fakes, with real
signals sent to this process.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from bondd.engine.pending import Pending, Phase
from bondd.engine.store import Store
from bondd.engine.transaction import Host, Status, begin
from bondd.errors import Interrupted
from bondd.interrupt import interruptible, rollback_on, shielded
from tests.unit.fakekernel import FakeKernel
from tests.unit.test_engine_fakes import BASE, FakeClock, host, proposal

pytestmark = pytest.mark.unit

USR1 = (signal.SIGUSR1,)


def send() -> None:
    os.kill(os.getpid(), signal.SIGUSR1)


def test_a_signal_in_a_shield_is_raised_when_the_step_is_done() -> None:
    steps: list[str] = []
    with rollback_on(USR1) as received, pytest.raises(Interrupted):
        with shielded():
            send()
            steps.append("finished")
        steps.append("after the shield")
    assert steps == ["finished"] and received == [signal.SIGUSR1]


def test_a_shield_that_absorbs_is_the_answer_and_nothing_is_raised_later() -> None:
    with rollback_on(USR1) as received:
        with shielded(absorb=True):
            send()
        with interruptible():
            pass
    assert received == [signal.SIGUSR1]


def test_an_absorbing_step_inside_another_shield_leaves_the_answer_to_it() -> None:
    steps: list[str] = []
    with rollback_on(USR1), pytest.raises(Interrupted), shielded():
        with shielded(absorb=True):
            send()
        steps.append("still inside the outer step: nothing raised yet")
    assert len(steps) == 1


def test_regions_only_raises_inside_a_region_or_on_entering_one() -> None:
    with rollback_on(USR1, everywhere=False) as received:
        send()  # outside: only recorded
        assert received == [signal.SIGUSR1]
        with pytest.raises(Interrupted), interruptible():
            raise AssertionError("a signal that came before must be raised on entry")
    with rollback_on(USR1, everywhere=False), pytest.raises(Interrupted), interruptible():
        send()


def test_regions_only_never_raises_after_the_region_is_left() -> None:
    with rollback_on(USR1, everywhere=False) as received:
        with interruptible():
            pass
        with shielded():
            send()
        send()
    assert received == [signal.SIGUSR1, signal.SIGUSR1]


def test_without_a_watch_shields_and_regions_change_nothing() -> None:
    with shielded(absorb=True), interruptible():
        pass
    assert signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL


def committed(tmp_path: Path) -> tuple[FakeKernel, Host]:
    """A fake host with BASE committed, for the next transaction to change."""
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    begin(host(tmp_path, kernel, clock), proposal(BASE))
    return kernel, host(tmp_path, kernel, clock)


def signal_on_save(store: Store, phase: Phase) -> None:
    """The signal arrives while the pending record of `phase` is being written."""
    save = store.save_pending

    def saving(pending: Pending) -> None:
        save(pending)
        if pending.phase is phase:
            send()  # the record is renamed into place; its directory not yet synced

    store.save_pending = saving  # type: ignore[method-assign]


def test_a_daemon_stopped_while_it_records_the_window_keeps_the_window(tmp_path: Path) -> None:
    kernel, the_host = committed(tmp_path)
    signal_on_save(the_host.store, Phase.WAITING)
    with rollback_on(USR1, everywhere=False) as received:
        result = begin(the_host, proposal(BASE.replace("100", "50")), confirm_timeout=30)
    assert received == [signal.SIGUSR1]
    assert result.status is Status.WAITING  # the main loop stops and hands it to the guard
    pending = Store(tmp_path / "state").pending()
    assert pending is not None and pending.phase is Phase.WAITING
    bond = kernel.read().bond("bond0")
    assert bond is not None and bond.options["miimon"] == 50


def test_bondctl_interrupted_while_it_records_the_window_gets_a_whole_record(
    tmp_path: Path,
) -> None:
    _, the_host = committed(tmp_path)
    signal_on_save(the_host.store, Phase.WAITING)
    with rollback_on(USR1), pytest.raises(Interrupted):
        begin(the_host, proposal(BASE.replace("100", "50")), confirm_timeout=30)
    pending = Store(tmp_path / "state").pending()  # whole, for its rollback to undo
    assert pending is not None and pending.phase is Phase.WAITING


def test_a_signal_during_the_commit_gets_the_commit(tmp_path: Path) -> None:
    _, the_host = committed(tmp_path)
    commit = the_host.store.save_committed

    def committing(*args: Any) -> None:
        send()
        commit(*args)

    the_host.store.save_committed = committing  # type: ignore[method-assign, assignment]
    with rollback_on(USR1):
        result = begin(the_host, proposal(BASE.replace("100", "50")))
    assert result.status is Status.COMMITTED
    store = Store(tmp_path / "state")
    assert store.pending() is None and store.committed() is not None


def test_a_daemon_stopped_before_the_first_write_rolls_back_without_writing(
    tmp_path: Path,
) -> None:
    kernel, the_host = committed(tmp_path)
    signal_on_save(the_host.store, Phase.APPLYING)
    writes = kernel.writes
    with rollback_on(USR1, everywhere=False):
        result = begin(the_host, proposal(BASE.replace("100", "50")))
    assert result.status is Status.ROLLED_BACK and result.reason == "interrupted by SIGUSR1"
    assert kernel.writes == writes
    assert Store(tmp_path / "state").pending() is None


def test_a_change_stopped_by_a_signal_is_rolled_back_but_not_rejected(tmp_path: Path) -> None:
    kernel, the_host = committed(tmp_path)
    kernel.on_write = send
    changed = proposal(BASE.replace("100", "50"))
    with rollback_on(USR1):
        result = begin(the_host, changed)
    kernel.on_write = None
    assert result.status is Status.ROLLED_BACK
    assert changed.hash not in Store(tmp_path / "state").rejected()  # tried again later
