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
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bondd import atomic
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


def guard_argv(state_dir: Path, txn: str, runner: Holder) -> list[str]:
    # Isolated (-I: no PYTHONPATH, no user site, no cwd on the path): the guard
    # runs as root for minutes, so nothing of the caller's environment steers it.
    return [
        sys.executable,
        "-I",
        "-m",
        "bondd.cli.guard",
        "--state-dir",
        str(state_dir.resolve()),
        "--txn",
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
class GuardStarter:
    """The real dead-man timer for `Host.deadman`: one guard process per transaction."""

    state_dir: Path
    use_systemd: bool | None = None  # None: where systemd is PID 1
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, txn: str, runner: Holder) -> None:
        self.children = [c for c in self.children if c.poll() is None]  # reap ended guards
        announce_path(self.state_dir, txn).unlink(missing_ok=True)
        argv = guard_argv(self.state_dir, txn, runner)
        systemd = under_systemd() if self.use_systemd is None else self.use_systemd
        run = shutil.which(SYSTEMD_RUN) if systemd else None
        if run:
            unit = f"bondd-guard-{txn}"
            try:
                done = subprocess.run(
                    [run, "--quiet", "--collect", f"--unit={unit}", "--service-type=exec", *argv],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    check=False,
                    timeout=ARM_TIMEOUT / 2,
                    cwd="/",
                    env=guard_env(),
                )
                if done.returncode == 0:
                    return
            except (OSError, subprocess.TimeoutExpired):
                pass
            # No way to systemd (a rescue shell, a container): a detached process.
        try:
            log = state_log(self.state_dir)
            try:
                child = subprocess.Popen(
                    argv,
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

    def armed(self, txn: str, timeout: float = ARM_TIMEOUT) -> Holder:
        """Wait for the guard's announcement; GuardError if it never comes."""
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
