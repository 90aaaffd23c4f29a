"""What a bondctl command needs from the world: config, kernel, state store.

Kept out of `main` so commands that touch no kernel (validate) never import
pyroute2, whose import costs seconds on slow machines.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bondd import config
from bondd.cli.output import die
from bondd.engine.pending import Phase
from bondd.engine.transaction import Host, recover_now
from bondd.model import DesiredState

DEFAULT_STATE_DIR = Path("/var/lib/bondd")
DEFAULT_RUN_DIR = Path("/run/bondd")
EX_NOPERM = 77
GUARD_LOG = "guard.log"
GUARD_STARTUP = 0.3  # a guard that fails to import or parse its arguments dies within this


def desired(args: argparse.Namespace) -> DesiredState:
    dirs = args.config_dirs or list(config.DEFAULT_DIRS)
    return config.load_desired(dirs, explicit=bool(args.config_dirs))


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        die(
            f"{what} changes network interfaces and needs root",
            "run it with sudo",
            exit_code=EX_NOPERM,
        )


@contextmanager
def host(args: argparse.Namespace) -> Iterator[Host]:
    """The real machine as the engine sees it: kernel, store, clock, probes."""
    # Imported here: only commands that talk to the kernel pay for pyroute2.
    from bondd.wiring import open_host  # noqa: PLC0415

    with open_host(args.state_dir) as opened:
        yield opened


kernel = host  # read-only commands use the same wiring


def start_guard(args: argparse.Namespace, txn: str) -> int:
    """A detached process that rolls the transaction back at its deadline.

    It runs in a session of its own, so neither the end of the admin's SSH
    session (SIGHUP) nor a killed `bondctl` stops it.
    """
    # Isolated (-I: no PYTHONPATH, no user site, no cwd on sys.path), from /,
    # with a minimal environment: root must import only the installed bondd,
    # never a `bondd/` planted in the admin's working directory.
    argv = [
        sys.executable,
        "-I",
        "-m",
        "bondd.cli.guard",
        "--state-dir",
        str(args.state_dir),
        "--txn",
        txn,
    ]
    # Its errors go to a log in the state directory: a guard that fails to roll
    # back must leave a trace after the terminal is gone.
    log = state_log(args.state_dir, GUARD_LOG)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
            close_fds=True,
            cwd="/",
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
        )
    except OSError as exc:
        die(
            f"cannot start the rollback guard: {exc.strerror or exc}",
            "the change is still pending; run `bondctl rollback` or `bondctl confirm`",
        )
    finally:
        os.close(log)
    try:
        code = proc.wait(GUARD_STARTUP)
    except subprocess.TimeoutExpired:
        return proc.pid  # running, as it should
    if code != 0:
        print(
            f"bondctl: warning: the rollback guard exited at once (status {code},"
            f" see {args.state_dir / GUARD_LOG}); the confirm window is only held by this bondctl",
            file=sys.stderr,
        )
    return proc.pid


def state_log(state_dir: Path, name: str) -> int:
    """An append-only log in the state directory, root's only, never through a link."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.open(state_dir / name, flags, 0o600)


def guard_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"bondd.cli.guard" in cmdline


def settle_pending(args: argparse.Namespace, host: Host) -> None:
    """Recover a pending transaction; give a waiting one whose timer died a new guard."""
    done = recover_now(host)
    if done:
        print(f"bondd: {done}", file=sys.stderr)
    pending = host.store.pending()
    if (
        pending is not None
        and pending.phase is Phase.WAITING
        and not guard_alive(pending.guard_pid)
    ):
        host.store.save_pending(pending.with_(guard_pid=start_guard(args, pending.txn)))
