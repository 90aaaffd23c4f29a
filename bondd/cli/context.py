"""What a bondctl command needs from the world: config, kernel, state store.

Kept out of `main` so commands that touch no kernel (validate) never import
pyroute2, whose import costs seconds on slow machines.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bondd import config
from bondd.cli.output import die
from bondd.engine.clock import SystemClock
from bondd.engine.ports import Reader, Writer
from bondd.engine.store import Store
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
