"""`bondctl confirm` and `bondctl rollback`: end a change's confirm window from anywhere."""

from __future__ import annotations

import argparse

from bondd.cli import context, output, remote
from bondd.protocol import ask

TYPE_CHECKING = False  # not typing's: importing typing costs a thin command's start
if TYPE_CHECKING:
    from typing import Any

EX_NOTHING = 1


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "confirm",
        parents=[parent],
        help="keep the change waiting for confirmation",
        description="Commit the transaction that is waiting in its confirm window.",
    )
    parser.set_defaults(run=run_confirm)
    parser = subparsers.add_parser(
        "rollback",
        parents=[parent],
        help="undo the change waiting for confirmation now",
        description="Roll the pending transaction back to its snapshot now, without waiting"
        " for its deadline.",
    )
    parser.set_defaults(run=run_rollback)


def run_confirm(args: argparse.Namespace) -> int:
    context.require_root("bondctl confirm")
    # One connection finds the daemon and asks it; without one, the engine here.
    if (answer := ask(args.run_dir, {"cmd": "confirm"})) is not None:
        remote.check(answer)
        print(f"confirmed transaction {answer['txn']}: the configuration is committed")
        return 0
    from bondd.engine.transaction import confirm  # noqa: PLC0415 (no daemon: the engine here)

    with context.host(args) as host:
        context.settle_pending(args, host)
        pending = confirm(host)
    if pending is None:
        output.die("no change is waiting for confirmation", exit_code=EX_NOTHING)
    print(f"confirmed transaction {pending.txn}: the configuration is committed")
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    context.require_root("bondctl rollback")
    # One connection finds the daemon and asks it; without one, the engine here.
    if (answer := ask(args.run_dir, {"cmd": "rollback"})) is not None:
        remote.check(answer)
        print(f"rolled back transaction {answer['txn']}; the kernel is verified as before it")
        return 0
    from bondd.engine.transaction import rollback_pending  # noqa: PLC0415

    with context.host(args) as host:
        context.settle_pending(args, host)
        pending = rollback_pending(host, "rolled back by `bondctl rollback`")
    if pending is None:
        output.die("no transaction is pending", exit_code=EX_NOTHING)
    print(f"rolled back transaction {pending.txn}; the kernel is verified as before it")
    return 0
