"""Arm the dead-man timer: start the guard process that outlives whoever runs a transaction.

Every transaction (bondctl's, the daemon's) starts a guard before its first
kernel write and waits until the guard says it is armed. The guard watches
the pending record: if the process running the transaction dies (SIGKILL
included) it rolls back at once; if that process overruns the applying
deadline it kills it and rolls back; in the confirm window it rolls back at
the deadline. It lives outside the runner's reach: a session of its own (so
a dying SSH session's SIGHUP and a killed bondctl leave it alone), and,
where systemd is PID 1, a transient service unit of its own (so stopping
bondd.service, whose cgroup systemd kills whole, leaves it running).

The daemon does not wait for a new guard's start in every transaction: it
keeps one spare guard started ahead (`keep_spare`; bondd.spareguard), hands
it the transaction, and starts the next spare at once, at the lowest CPU
priority and without waiting for systemd-run to return, so its start-up runs
behind the transaction (a detached spare forks its successor instead, once
its own transaction has ended: no new Python process at all). A spare that
is gone (killed, or never came up) is replaced, and that transaction starts
its own guard as before. A standalone bondctl always starts its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bondd import atomic, spareguard
from bondd.engine.holder import Holder
from bondd.errors import GuardError

ARM_TIMEOUT = 20.0  # a guard that has not said "armed" by then: the transaction does not start
SYSTEMD_RUN = "systemd-run"


def announce_path(state_dir: Path, txn: str) -> Path:
    return state_dir / f"guard-{txn}.json"


def announce(state_dir: Path, txn: str, holder: Holder) -> None:
    """The guard's "I am armed", written atomically where the starter waits for it."""
    atomic.write_bytes(announce_path(state_dir, txn), json.dumps(holder.to_json()).encode())


def under_systemd() -> bool:
    try:
        return (
            Path("/proc/1/comm").read_text().strip() == "systemd"
            and Path("/run/systemd/system").is_dir()
        )
    except OSError:
        return False


def guard_argv(state_dir: Path, txn: str, runner: Holder, *, spare: bool = False) -> list[str]:
    """`spare`: `txn` names the spare (its socket), and the guard waits to be handed one."""
    # Isolated (-I: no PYTHONPATH, no user site, no cwd on the path): the guard
    # runs as root for minutes, so nothing of the caller's environment steers it.
    return [
        sys.executable,
        "-I",
        "-m",
        "bondd.cli.guard",
        "--state-dir",
        str(state_dir.resolve()),
        "--spare" if spare else "--txn",
        txn,
        "--runner-pid",
        str(runner.pid),
        "--runner-start",
        str(runner.start),
    ]


GUARD_LOG = "guard.log"


def state_log(state_dir: Path, name: str = GUARD_LOG) -> int:
    """An append-only log in the state directory, root's only, never through a link.

    A guard's stderr goes here: one that fails must leave a trace after the
    terminal that started it is gone."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.open(state_dir / name, flags, 0o600)


def guard_env() -> dict[str, str]:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    # The journal socket the test harness reads; the boot id where /proc/sys is hidden.
    for name in ("BONDD_JOURNAL_SOCKET", "BONDD_BOOT_ID"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


@dataclass
class Spare:
    """A guard started ahead, for transactions of `runner`."""

    name: str
    runner: Holder
    started: float  # time.monotonic()
    child: subprocess.Popen[bytes] | None  # None: a systemd unit, or forked by `parent`
    parent: Holder | None = None  # the guard that forks it once its transaction ends
    unit: str | None = None  # the systemd unit it runs in
    launcher: subprocess.Popen[bytes] | None = None  # the systemd-run starting that unit

    def failed_to_start(self) -> bool:
        """systemd-run said no: no unit will come."""
        return self.launcher is not None and self.launcher.poll() not in (None, 0)

    def stop(self, state_dir: Path) -> None:
        """End a spare that guards nothing: never left waiting for a hand that will not
        come (after bondd stops, `dpkg --purge` finds no guard unit of it either)."""
        spareguard.socket_path(state_dir, self.name).unlink(missing_ok=True)
        if self.launcher is not None and self.launcher.poll() is None:
            self.launcher.kill()  # stuck asking systemd: the unit it asked for is stopped below
            self.launcher.wait()
        if self.child is not None:
            if self.child.poll() is None:
                self.child.terminate()
                try:
                    self.child.wait(timeout=ARM_TIMEOUT / 2)
                except subprocess.TimeoutExpired:
                    self.child.kill()
                    self.child.wait()
        elif self.unit is not None and (systemctl := shutil.which("systemctl")):
            # Even when systemd-run failed or was killed: systemd may have made
            # the unit all the same. Stopping a unit that is not there is harmless.
            # Failing that, it leaves by itself when its runner has gone.
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                subprocess.run(
                    [systemctl, "stop", "--quiet", f"{self.unit}.service"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    check=False,
                    timeout=ARM_TIMEOUT / 2,
                )
        # One forked by `parent` leaves when its socket has gone.


SPARE_READY = ARM_TIMEOUT / 2  # a spare not listening by then is taken as gone


@dataclass
class GuardStarter:
    """The real dead-man timer for `Host.deadman`: one guard process per transaction.

    `keep_spare` (the daemon): hand each transaction to a spare started ahead."""

    state_dir: Path
    use_systemd: bool | None = None  # None: where systemd is PID 1
    keep_spare: bool = False
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    spare: Spare | None = None
    handed: dict[str, Holder] = field(default_factory=dict)
    launchers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    systemd_refused: bool = False  # a spare's systemd-run failed: the next one is waited for
    swept: bool = False
    # Spares given up on before they listened, whose parent may still fork them:
    # their sockets are removed when they appear, which makes them leave.
    abandoned: list[Spare] = field(default_factory=list)

    def start(self, txn: str, runner: Holder) -> None:
        self.children = [c for c in self.children if c.poll() is None]  # reap ended guards
        self.launchers = [c for c in self.launchers if c.poll() is None]
        self._end_abandoned()
        announce_path(self.state_dir, txn).unlink(missing_ok=True)
        if self.keep_spare:
            guard = self._hand(txn, runner)
            if guard is not None:
                self.handed[txn] = guard
                self.prepare(runner)  # unless the spare forked the next one
                return
        self._launch(guard_argv(self.state_dir, txn, runner), f"bondd-guard-{txn}")
        if self.keep_spare:
            self.prepare(runner)  # behind this transaction

    def prepare(self, runner: Holder) -> None:
        """Start a spare guard for `runner`'s next transaction, unless one is on its way."""
        if self.spare is not None and self._spare_may_live(self.spare):
            return
        self._drop_spare()
        if not self.swept:
            self.swept = True
            spareguard.sweep(self.state_dir)
        name = uuid.uuid4().hex[:12]
        unit = f"bondd-guard-spare-{name}"
        argv = guard_argv(self.state_dir, name, runner, spare=True)
        started = time.monotonic()
        if not self.systemd_refused and (run := self._systemd_run()):
            # Not waited for: systemd-run returns once the unit's process runs,
            # a few hundred ms on a small machine, and this is called right
            # after a spare was handed its transaction, on that transaction's path.
            try:
                launcher = self._start_unit(run, unit, argv)
            except OSError:
                self.systemd_refused = True
            else:
                self.launchers.append(launcher)
                self.spare = Spare(name, runner, started, None, unit=unit, launcher=launcher)
                return
        try:
            child = self._launch(argv, unit, chain=True)
        except GuardError:
            return  # the next transaction starts its own guard, and says why if that fails
        # A unit after all (systemd was only busy): the next spare is not waited for again.
        self.systemd_refused = self.systemd_refused and child is not None
        self.spare = Spare(name, runner, started, child, unit=None if child else unit)

    def close(self) -> None:
        """The spare guards nothing yet: it is ended with its runner's host."""
        self._drop_spare()
        self._end_abandoned()

    def _spare_may_live(self, spare: Spare) -> bool:
        if spare.child is not None and spare.child.poll() is not None:
            return False
        if spare.failed_to_start():
            self.systemd_refused = True  # the next spare: a detached process, or a waited unit
            return False
        path = spareguard.socket_path(self.state_dir, spare.name)
        if path.exists():
            return True
        if spare.parent is not None:
            # Its parent forks it once its transaction has ended and leaves
            # when it listens: alive parent, or the socket there after all.
            return spare.parent.alive() or path.exists()
        return time.monotonic() - spare.started < SPARE_READY

    def _drop_spare(self) -> None:
        """Forget the spare, ending it: gone, too slow, or no longer needed."""
        spare, self.spare = self.spare, None
        if spare is not None:
            spare.stop(self.state_dir)
            if spare.parent is not None and spare.parent.alive():
                # Its parent still guards a transaction (one that ended before
                # its record, while this runner went on to the next): it forks
                # this spare later, which would then wait for a hand forever.
                self.abandoned.append(spare)
            elif spare.unit is not None and spare.launcher is not None:
                # A unit systemd may still start after the stop above (its
                # systemd-run killed while asking, or failed after asking).
                self.abandoned.append(spare)

    def _end_abandoned(self) -> None:
        waiting = []
        for spare in self.abandoned:
            path = spareguard.socket_path(self.state_dir, spare.name)
            if path.exists():
                path.unlink(missing_ok=True)  # it leaves within a poll
            elif spare.parent is not None and spare.parent.alive():
                waiting.append(spare)
            elif spare.parent is None and time.monotonic() - spare.started < ARM_TIMEOUT * 2:
                waiting.append(spare)  # a late unit: started by now, or never
        self.abandoned = waiting

    def _hand(self, txn: str, runner: Holder) -> Holder | None:
        """Hand `txn` to the spare; its holder, or None if there is no working spare."""
        spare = self.spare
        if spare is None or (spare.runner.pid, spare.runner.start) != (runner.pid, runner.start):
            return None
        path = spareguard.socket_path(self.state_dir, spare.name)
        answer = None
        deadline = time.monotonic() + SPARE_READY
        while self._spare_may_live(spare) and time.monotonic() < deadline:
            if path.exists():  # listening, or a stale socket of one that died
                answer = spareguard.hand(path, txn)
                break
            time.sleep(0.02)  # still starting up: sooner ready than a new one
        if answer is None:
            self._drop_spare()  # gone or stuck: a new guard for this one, a new spare next
            return None
        self.spare = None  # it guards `txn` now: never handed a second transaction
        guard, following = answer
        if following is not None:
            self.spare = Spare(following, runner, time.monotonic(), None, guard)
        return guard

    def _launch(
        self, argv: list[str], unit: str, *, chain: bool = False
    ) -> subprocess.Popen[bytes] | None:
        """Start a guard process; its Popen, or None when systemd runs it in a unit of its own.

        `chain`: a detached spare forks its successor. Not in a systemd unit,
        which ends with its main process, and would take the successor along."""
        if run := self._systemd_run():
            try:
                launcher = self._start_unit(run, unit, argv)
                try:
                    if launcher.wait(timeout=ARM_TIMEOUT / 2) == 0:
                        return None
                except subprocess.TimeoutExpired:
                    launcher.kill()
                    launcher.wait()
            except OSError:
                pass
            # No way to systemd (a rescue shell, a container): a detached process.
        try:
            log = state_log(self.state_dir)
            try:
                child = subprocess.Popen(
                    [*argv, "--chain"] if chain else argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    start_new_session=True,
                    close_fds=True,
                    cwd="/",
                    env=guard_env(),
                )
            finally:
                os.close(log)
        except OSError as exc:
            raise GuardError(
                f"cannot start the dead-man timer (guard process): {exc.strerror};"
                " nothing was changed"
            ) from exc
        self.children.append(child)
        return child

    def _systemd_run(self) -> str | None:
        """systemd-run's path where guards get units of their own, else None."""
        systemd = under_systemd() if self.use_systemd is None else self.use_systemd
        return shutil.which(SYSTEMD_RUN) if systemd else None

    @staticmethod
    def _start_unit(run: str, unit: str, argv: list[str]) -> subprocess.Popen[bytes]:
        """`systemd-run` asking for `argv` in a transient unit of its own; not waited for."""
        return subprocess.Popen(
            [run, "--quiet", "--collect", f"--unit={unit}", "--service-type=exec", *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            env=guard_env(),
        )

    def armed(self, txn: str, timeout: float = ARM_TIMEOUT) -> Holder:
        """Wait for the guard's announcement; GuardError if it never comes."""
        handed = self.handed.pop(txn, None)
        if handed is not None:
            return handed  # a spare answers only once it watches the transaction
        path = announce_path(self.state_dir, txn)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                holder = Holder.from_json(json.loads(path.read_text()))
            except (OSError, ValueError, KeyError):
                holder = None
            if holder is not None:
                path.unlink(missing_ok=True)
                return holder
            time.sleep(0.02)
        raise GuardError(
            f"the dead-man timer (guard process) did not start within {timeout:g}s;"
            " nothing was changed",
            f"see {self.state_dir / GUARD_LOG}, and check that"
            f" `{sys.executable} -I -m bondd.cli.guard --help` runs",
        )


def cgroup(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return None


def guard_outlives_us(guard: Holder) -> bool:
    """Whether the guard survives this process's service being stopped.

    systemd stops a service by killing its whole cgroup: a guard in our cgroup
    dies with us. Outside systemd, its own session is enough.
    """
    if not under_systemd():
        return True
    theirs = cgroup(guard.pid)
    return theirs is not None and theirs != cgroup(os.getpid())
