"""The guard's decision to leave when it has not seen its record: never while
its runner may still write it, never because /proc hides the locks.

The lab proves the guard's rollbacks on the real kernel
(tests/kernel/test_safety_net.py); these pin down when it may leave.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from bondd.cli import guard
from bondd.engine import lock
from bondd.engine.holder import Holder
from bondd.engine.lock import TransactionLock, holders
from tests.unit.fakekernel import FakeKernel
from tests.unit.test_engine_fakes import FakeClock, host

pytestmark = pytest.mark.unit


def test_hidden_proc_locks_tell_nothing_rather_than_nobody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TransactionLock(tmp_path):
        assert holders(tmp_path) is not None
        monkeypatch.setattr(lock, "PROC_LOCKS", tmp_path / "no-such-proc-locks")
        assert holders(tmp_path) is None  # ProcSubset=pid: cannot tell


def test_a_live_runner_holding_the_lock_is_waited_for(tmp_path: Path) -> None:
    the_host = host(tmp_path, FakeKernel(["p0"]), FakeClock())
    the_host.store.dir.mkdir(parents=True, exist_ok=True)
    me = Holder.me("test")
    long_ago = time.monotonic() - 10 * guard.NO_RECORD_GRACE
    with TransactionLock(the_host.store.dir):
        assert not guard.gone(the_host, me, long_ago)  # however long: it holds the lock
    assert guard.gone(the_host, me, time.monotonic())  # out of its transaction


class Record:
    txn = "txn-1"


def test_a_record_written_while_the_guard_decided_is_guarded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner writes its record (and dies) between the guard's look and its
    decision to leave: the second look finds it, and the guard stays."""
    the_host = host(tmp_path, FakeKernel(["p0"]), FakeClock())
    looks: list[int] = []

    def read_record(h: object, log: logging.Logger) -> Record | None:
        looks.append(1)
        return None if len(looks) == 1 else Record()  # absent at the first look only

    guarded: list[object] = []

    def due(h: object, pending: object) -> str:
        guarded.append(pending)
        raise SystemExit(0)  # the guard went on to judge the record: enough

    monkeypatch.setattr(guard, "read_record", read_record)
    monkeypatch.setattr(guard, "gone", lambda *a: True)  # the runner looks done
    monkeypatch.setattr(guard, "due", due)
    monkeypatch.setattr(guard, "record_stamp", lambda p: None)
    with pytest.raises(SystemExit):
        guard.watch(the_host, "txn-1", None, logging.getLogger("test"))
    assert len(looks) == 2 and len(guarded) == 1
