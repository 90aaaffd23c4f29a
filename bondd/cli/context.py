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
from dataclasses import dataclass
from pathlib import Path

from bondd import config
from bondd.cli.output import die
from bondd.engine.clock import SystemClock
from bondd.engine.pending import Phase
from bondd.engine.ports import Reader, Writer
from bondd.engine.store import Store
from bondd.engine.transaction import Host, read_boot_id, recover_now
from bondd.model import DesiredState

DEFAULT_STATE_DIR = Path("/var/lib/bondd")
DEFAULT_RUN_DIR = Path("/run/bondd")
EX_NOPERM = 77


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


@dataclass
class Kernel:
    """The real reader and writer over one netlink socket."""

    reader: Reader
    writer: Writer
    store: Store
    clock: SystemClock


@contextmanager
def kernel(args: argparse.Namespace) -> Iterator[Kernel]:
    # Imported here: only commands that talk to the kernel pay for pyroute2.
    from bondd.kernel.netlink import connect  # noqa: PLC0415
    from bondd.kernel.reader import KernelReader  # noqa: PLC0415
    from bondd.kernel.writer import KernelWriter  # noqa: PLC0415

    ipr = connect()
    reader = KernelReader(ipr)
    writer = KernelWriter(ipr)
    try:
        yield Kernel(reader, writer, Store(args.state_dir), SystemClock())
    finally:
        reader.close()
        writer.close()
        ipr.close()


@contextmanager
def host(args: argparse.Namespace) -> Iterator[Host]:
    """The transaction's view of the real machine: kernel, store, clock, probes."""
    from bondd.probe import NetworkProber  # noqa: PLC0415

    with kernel(args) as k:
        yield Host(k.reader, k.writer, k.store, k.clock, NetworkProber(), read_boot_id())


def start_guard(args: argparse.Namespace, txn: str) -> int:
    """A detached process that rolls the transaction back at its deadline.

    It runs in a session of its own, so neither the end of the admin's SSH
    session (SIGHUP) nor a killed `bondctl` stops it.
    """
    argv = [
        sys.executable,
        "-m",
        "bondd.cli.guard",
        "--state-dir",
        str(args.state_dir),
        "--txn",
        txn,
    ]
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
    return proc.pid


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
