"""What a bondctl command needs from the world: config, kernel, state store.

Kept out of `main` so commands that touch no kernel (validate) never import
pyroute2, whose import costs seconds on slow machines.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bondd import config
from bondd.cli.output import die
from bondd.deadman import GuardStarter
from bondd.engine import store
from bondd.engine.holder import Holder
from bondd.engine.pending import Phase
from bondd.engine.transaction import Host, recover_now
from bondd.model import DesiredState

DEFAULT_STATE_DIR = store.DEFAULT_STATE_DIR  # one default, the store's
DEFAULT_RUN_DIR = Path("/run/bondd")


def desired(args: argparse.Namespace) -> DesiredState:
    dirs = args.config_dirs or list(config.DEFAULT_DIRS)
    return config.load_desired(
        dirs, explicit=bool(args.config_dirs), strict=getattr(args, "strict", False)
    )


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        die(
            f"{what} changes network interfaces and needs root",
            "run it with sudo",
            exit_code=os.EX_NOPERM,
        )


@contextmanager
def host(args: argparse.Namespace) -> Iterator[Host]:
    """The real machine as the engine sees it: kernel, store, clock, probes."""
    # Imported here: only commands that talk to the kernel pay for pyroute2.
    from bondd.wiring import open_host  # noqa: PLC0415

    with open_host(args.state_dir) as opened:
        yield opened


kernel = host  # read-only commands use the same wiring


def start_guard(args: argparse.Namespace, txn: str) -> Holder:
    """A new guard for a waiting transaction whose guard died (bondd.deadman starts it).

    It runs isolated (`python -I`, cwd /, a minimal environment) in a session
    of its own, or a systemd unit of its own where systemd runs.
    """
    starter = GuardStarter(args.state_dir)
    starter.start(txn, Holder.me("bondctl"))
    return starter.armed(txn)


def guard_alive(guard: Holder | None) -> bool:
    return guard is not None and guard.alive()


def settle_pending(args: argparse.Namespace, host: Host) -> bool:
    """Recover a pending transaction; give a waiting one whose timer died a new guard.

    True when something was recovered (files may have been restored)."""
    done = recover_now(host)
    if done:
        print(f"bondd: {done}", file=sys.stderr)
    pending = host.store.pending()
    if pending is not None and pending.phase is Phase.WAITING and not guard_alive(pending.guard):
        host.store.save_pending(pending.with_(guard=start_guard(args, pending.txn)))
    return done is not None
