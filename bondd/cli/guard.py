"""The confirm-window timer when no daemon holds it: roll back at the deadline.

Started by `bondctl apply --confirm-timeout N` in a session of its own. It
polls the pending record: gone or replaced means someone confirmed or rolled
back, so it exits; past the deadline, it rolls back. It survives its parent,
the terminal and SIGHUP, so a change that cuts off the admin undoes itself.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from bondd.cli import context
from bondd.engine.transaction import rollback_pending

POLL = 0.25


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bondd-guard")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--txn", required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    args.config_dirs = []
    try:
        return _watch(args)
    except BaseException as exc:
        # stderr is the state directory's guard.log (context.start_guard).
        print(f"{time.strftime('%F %T')} guard {args.txn}: failed: {exc!r}", file=sys.stderr)
        raise


def _watch(args: argparse.Namespace) -> int:
    with context.host(args) as host:
        while True:
            pending = host.store.pending()
            if pending is None or pending.txn != args.txn:
                return 0
            if host.wall() >= pending.deadline:
                rollback_pending(
                    host,
                    f"not confirmed within {pending.confirm_timeout:g}s",
                    args.txn,
                    only_if_due=True,
                )
                return 0
            time.sleep(POLL)


if __name__ == "__main__":
    sys.exit(main())
