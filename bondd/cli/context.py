"""What a bondctl command needs from the world: config, kernel, state store.

Kept out of `main` so commands that touch no kernel (validate) never import
pyroute2, whose import costs seconds on slow machines. What each helper needs
is imported inside it: `main` imports this module for its defaults, and the
commands that only talk to the daemon must not pay for the config loader or
the engine.
"""

from __future__ import annotations

import argparse
import os
import sys

from bondd.protocol import DEFAULT_RUN_DIR, DEFAULT_STATE_DIR

TYPE_CHECKING = False  # not typing's: importing typing costs a thin command's start
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Any

    from bondd.engine.holder import Holder
    from bondd.engine.transaction import Host
    from bondd.model import DesiredState

__all__ = ["DEFAULT_RUN_DIR", "DEFAULT_STATE_DIR", "desired", "host", "kernel", "require_root"]


def desired(args: argparse.Namespace) -> DesiredState:
    from bondd import config  # noqa: PLC0415

    dirs = args.config_dirs or list(config.DEFAULT_DIRS)
    return config.load_desired(
        dirs, explicit=bool(args.config_dirs), strict=getattr(args, "strict", False)
    )


def named_directories(args: argparse.Namespace) -> dict[str, Any]:
    """The directories given on the command line, for a daemon to check against its own."""
    named: dict[str, Any] = {}
    if args.config_dirs:
        named["config_dirs"] = [str(d.resolve()) for d in args.config_dirs]
    if getattr(args, "state_dir_given", True):
        named["state_dir"] = str(args.state_dir.resolve())
    return named


def require_root(what: str) -> None:
    from bondd.cli.output import die  # noqa: PLC0415

    if os.geteuid() != 0:
        die(
            f"{what} changes network interfaces and needs root",
            "run it with sudo",
            exit_code=os.EX_NOPERM,
        )


def host(args: argparse.Namespace) -> AbstractContextManager[Host]:
    """The real machine as the engine sees it: kernel, store, clock, probes (a `with`)."""
    # Imported here: only commands that talk to the kernel pay for the engine and
    # the kernel layer (and this module for contextlib: a packaged Python has not
    # loaded it when a thin command starts).
    from bondd.wiring import open_host  # noqa: PLC0415

    return open_host(args.state_dir)


kernel = host  # read-only commands use the same wiring


def start_guard(args: argparse.Namespace, txn: str) -> Holder:
    """A new guard for a waiting transaction whose guard died (bondd.deadman starts it).

    It runs isolated (`python -I`, cwd /, a minimal environment) in a session
    of its own, or a systemd unit of its own where systemd runs.
    """
    from bondd.deadman import GuardStarter  # noqa: PLC0415
    from bondd.engine.holder import Holder  # noqa: PLC0415

    starter = GuardStarter(args.state_dir)
    starter.start(txn, Holder.me("bondctl"))
    return starter.armed(txn)


def guard_alive(guard: Holder | None) -> bool:
    return guard is not None and guard.alive()


def settle_pending(args: argparse.Namespace, host: Host) -> bool:
    """Recover a pending transaction; give a waiting one whose timer died a new guard.

    True when something was recovered (files may have been restored)."""
    from bondd.engine.pending import Phase  # noqa: PLC0415
    from bondd.engine.transaction import recover_now  # noqa: PLC0415

    done = recover_now(host)
    if done:
        print(f"bondd: {done}", file=sys.stderr)
    pending = host.store.pending()
    if pending is not None and pending.phase is Phase.WAITING and not guard_alive(pending.guard):
        host.store.save_pending(pending.with_(guard=start_guard(args, pending.txn)))
    return done is not None
