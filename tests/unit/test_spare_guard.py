"""The daemon's spare guard (bondd.spareguard), with real guard processes.

A transaction handed to the spare gets a guard at once; the spare's
successor comes from a fork, not a new process; a spare that was killed is
replaced and its transaction starts a guard of its own; only the runner
may hand a spare a transaction. (The lab proves the rollback itself:
tests/kernel/test_safety_net.py, a daemon SIGKILLed with a spare's guard.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bondd import deadman, spareguard
from bondd.engine.holder import Holder
from bondd.engine.lock import TransactionLock, holders

pytestmark = pytest.mark.unit


def wait_until(what: object, timeout: float = 30.0) -> None:
    assert callable(what)
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def starter(tmp_path: Path) -> Iterator[deadman.GuardStarter]:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    guards = deadman.GuardStarter(state_dir, use_systemd=False, keep_spare=True)
    guards.prepare(Holder.me("bondd"))
    yield guards
    guards.close()
    for child in guards.children:
        if child.poll() is None:
            child.kill()
            child.wait()


def listening(guards: deadman.GuardStarter) -> bool:
    spare = guards.spare
    return spare is not None and spareguard.socket_path(guards.state_dir, spare.name).exists()


def test_a_handed_spare_guards_at_once_and_forks_its_successor(
    starter: deadman.GuardStarter, monkeypatch: pytest.MonkeyPatch
) -> None:
    launched: list[list[str]] = []
    launch = starter._launch

    def counted(argv: list[str], unit: str, *, chain: bool = False) -> object:
        launched.append(argv)
        return launch(argv, unit, chain=chain)

    monkeypatch.setattr(starter, "_launch", counted)
    wait_until(lambda: listening(starter))
    assert starter.spare is not None and starter.spare.child is not None
    spare_pid = starter.spare.child.pid
    me = Holder.me("bondd")
    # Held as a runner holds it, from before its record: without it the guard
    # may rightly leave before it is looked at.
    with TransactionLock(starter.state_dir):
        started = time.monotonic()
        starter.start("aa01", me)
        guard = starter.armed("aa01")
        assert time.monotonic() - started < 5  # no Python start, no imports
        assert guard.pid == spare_pid and guard.alive()
    # No record and we hold no lock: its transaction is over; it forks the
    # next spare, which the next transaction gets, and no process is started.
    wait_until(lambda: not guard.alive())
    with TransactionLock(starter.state_dir):
        starter.start("aa02", me)
        second = starter.armed("aa02")
        assert second.pid != spare_pid and second.alive()
    assert launched == []  # only the first spare was a new process
    assert starter.spare is not None and starter.spare.parent == second


def test_a_killed_spare_is_replaced_and_its_transaction_still_gets_a_guard(
    starter: deadman.GuardStarter,
) -> None:
    wait_until(lambda: listening(starter))
    assert starter.spare is not None and starter.spare.child is not None
    killed = starter.spare.child
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    with TransactionLock(starter.state_dir):  # so that the guard stays to be looked at
        starter.start("bb01", Holder.me("bondd"))
        guard = starter.armed("bb01")  # a new guard's announcement, as without a spare
        assert guard.pid != killed.pid and guard.alive()
    assert starter.spare is not None and starter.spare.child is not None
    assert starter.spare.child.pid not in (killed.pid, guard.pid)  # the replacement
    wait_until(lambda: listening(starter))


def test_only_the_runner_can_hand_a_spare_a_transaction(starter: deadman.GuardStarter) -> None:
    wait_until(lambda: listening(starter))
    assert starter.spare is not None
    path = spareguard.socket_path(starter.state_dir, starter.spare.name)
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from bondd import spareguard;"
            " print(spareguard.hand(Path(sys.argv[1]), 'cc01', 10))",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert other.stdout.strip() == "None"
    assert path.exists()  # still waiting for its runner
    starter.start("cc02", Holder.me("bondd"))
    assert starter.armed("cc02").pid == starter.children[0].pid


def test_the_lock_holders_are_read_without_taking_the_lock(tmp_path: Path) -> None:
    assert holders(tmp_path) == set()
    with TransactionLock(tmp_path):
        assert holders(tmp_path) == {os.getpid()}
        with pytest.raises(Exception, match="in progress"):
            TransactionLock(tmp_path).__enter__()  # still ours: reading took nothing
    assert holders(tmp_path) == set()


SYSTEMD_RUN = """#!/bin/sh
# systemd-run's stand-in: answers once {gate} exists (or refuses), then runs
# the unit's command in a session of its own, as a unit would be.
while [ "${{1#--}}" != "$1" ]; do shift; done
{refuse}
i=0
while [ ! -e {gate} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
setsid "$@" </dev/null >/dev/null 2>&1 &
echo $! >> {pids}
"""


@pytest.fixture
def systemd_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[bool], Path]]:
    """Installs the stand-in as the only systemd-run (and no systemctl: the host's
    systemd is never asked); gives its gate file. Ends what it ran."""
    pids = tmp_path / "pids"

    def install(refuse: bool) -> Path:
        gate = tmp_path / "gate"
        run = tmp_path / "systemd-run"
        run.write_text(SYSTEMD_RUN.format(gate=gate, pids=pids, refuse="exit 1" if refuse else ""))
        run.chmod(0o755)
        monkeypatch.setattr(
            "shutil.which", lambda name: str(run) if name == "systemd-run" else None
        )
        return gate

    yield install
    for line in pids.read_text().split() if pids.exists() else []:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line), signal.SIGKILL)


def unit_starter(tmp_path: Path) -> deadman.GuardStarter:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    return deadman.GuardStarter(state_dir, use_systemd=True, keep_spare=True)


def test_a_spare_in_a_unit_of_its_own_is_not_waited_for(
    tmp_path: Path, systemd_run: Callable[[bool], Path]
) -> None:
    gate = systemd_run(False)
    guards = unit_starter(tmp_path)
    me = Holder.me("bondd")
    guards.prepare(me)  # returns while systemd-run still holds back its answer
    spare = guards.spare
    assert spare is not None and spare.launcher is not None and spare.child is None
    assert spare.launcher.poll() is None
    gate.touch()
    wait_until(lambda: listening(guards))
    with TransactionLock(guards.state_dir):
        guards.start("dd01", me)
        guard = guards.armed("dd01")
        assert guard.alive()
        assert guards.spare is not None and guards.spare.name != spare.name  # the next, on its way
    following = guards.spare.launcher
    assert following is not None
    following.wait(timeout=30)  # its guard's pid noted, for the fixture to end it
    guards.close()


def test_a_spare_systemd_refused_leaves_the_transaction_its_own_guard(
    tmp_path: Path, systemd_run: Callable[[bool], Path]
) -> None:
    systemd_run(True)
    guards = unit_starter(tmp_path)
    me = Holder.me("bondd")
    guards.prepare(me)
    spare = guards.spare
    assert spare is not None and spare.launcher is not None
    spare.launcher.wait()
    with TransactionLock(guards.state_dir):
        guards.start("dd02", me)  # refused again: a detached guard
        guard = guards.armed("dd02")
        assert guard.alive() and guard.pid == guards.children[0].pid
    # From now on the spare is a detached process, not a unit systemd refuses.
    assert guards.spare is not None and guards.spare.child is not None
    assert guards.systemd_refused
    guards.close()
    for child in guards.children:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_sockets_no_spare_listens_on_are_swept_before_the_first_spare(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    stale = spareguard.socket_path(state_dir, "0123456789ab")
    spareguard.listen(stale).close()  # as a SIGKILLed daemon's spare leaves it
    live = spareguard.listen(spareguard.socket_path(state_dir, "ba9876543210"))
    other = state_dir / "lock"
    other.touch()
    try:
        guards = deadman.GuardStarter(state_dir, use_systemd=False, keep_spare=True)
        guards.prepare(Holder.me("bondd"))
        try:
            assert not stale.exists()
            assert spareguard.socket_path(state_dir, "ba9876543210").exists()
            assert other.exists()
        finally:
            guards.close()
            for child in guards.children:
                child.kill()
                child.wait()
    finally:
        live.close()


def spare_pids(state_dir: Path, name: str) -> set[int]:
    """Processes running as spare `name` for `state_dir` (a forked successor keeps
    its parent's command line)."""
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(state_dir.resolve()).encode() in argv and name.encode() in argv:
            found.add(int(proc.name))
    return found


def test_a_successor_given_up_on_before_it_listened_is_ended_when_it_comes(
    starter: deadman.GuardStarter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadman, "SPARE_READY", 2.0)
    wait_until(lambda: listening(starter))
    assert starter.spare is not None and starter.spare.child is not None
    first = starter.spare
    me = Holder.me("bondd")
    with TransactionLock(starter.state_dir):
        # ee01 ends before its record and the runner goes straight on to ee02,
        # holding the lock: the first spare watches on, its successor not forked.
        starter.start("ee01", me)
        starter.armed("ee01")
        assert starter.spare is not None and starter.spare.parent is not None
        successor = starter.spare.name
        starter.start("ee02", me)  # given up on after SPARE_READY: a guard of its own
        starter.armed("ee02")
        assert successor in [s.name for s in starter.abandoned]
    # Now the first spare sees its transaction over and forks the successor.
    first_child = first.child
    assert first_child is not None
    first_child.wait(timeout=30)
    path = spareguard.socket_path(starter.state_dir, successor)
    wait_until(path.exists)
    orphans = spare_pids(starter.state_dir, first.name)
    assert orphans  # the successor, waiting for a hand that will not come
    with TransactionLock(starter.state_dir):
        starter.start("ee03", me)
    assert not path.exists() and not starter.abandoned
    wait_until(lambda: not spare_pids(starter.state_dir, first.name))  # a zombie has no cmdline
