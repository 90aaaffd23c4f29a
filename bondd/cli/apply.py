"""`bondctl apply`: the staged, self-undoing change.

    bondctl apply [--yes] [--confirm-timeout N [--no-wait]] [--no-probes] [FILE...]

Validates, shows the plan, asks (unless --yes; end of input is a no), then
runs the transaction: snapshot, execute, verify, probes and the LACP gate.
With --confirm-timeout N the change must be confirmed within N seconds
(Enter on this terminal, or `bondctl confirm` from another), else it is
rolled back. The timer does not depend on this terminal: a detached guard
process (or the daemon) rolls back at the deadline even if this process or
the SSH session dies. With --no-wait it returns as soon as the change waits
(result "waiting"), for tools such as Ansible that confirm from a new
connection once the host proves reachable. Named FILEs are installed into
the first config directory as part of the transaction and restored on
rollback.

Exit codes: 0 committed (or nothing to do), 3 rolled back (the reason is
printed), 65 invalid configuration, 75 another transaction in progress.
"""

from __future__ import annotations

import argparse
import select
import sys
import time
from pathlib import Path
from typing import Any

from bondd import config
from bondd.cli import context, output, remote
from bondd.daemon.control import daemon_running
from bondd.engine.converge import make_plan
from bondd.engine.pending import StagedFile
from bondd.engine.transaction import (
    Host,
    Proposal,
    Result,
    Status,
    confirm,
    rollback_pending,
)
from bondd.engine.transaction import begin as begin_transaction
from bondd.render import plan as render

EX_DECLINED = 1
EX_ROLLED_BACK = 3


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "apply",
        parents=[parent],
        help="make the kernel match the configuration, safely",
        description=__doc__.split("\n\n", 2)[2] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        type=Path,
        help="YAML files to install into the first config directory",
    )
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask before applying")
    parser.add_argument(
        "--confirm-timeout",
        type=float,
        default=0.0,
        metavar="N",
        help="roll back unless confirmed within N seconds",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="with --confirm-timeout: return once the change waits for confirmation;"
        " the daemon (or a detached guard) still rolls it back at the deadline",
    )
    parser.add_argument(
        "--no-probes",
        action="store_true",
        help="skip connectivity probes: a change that cuts the network off"
        " is then only caught by the confirm window",
    )
    parser.set_defaults(run=run)


def proposal(args: argparse.Namespace) -> Proposal:
    dirs = args.config_dirs or list(config.DEFAULT_DIRS)
    staged: dict[Path, bytes] = {}
    files: list[StagedFile] = []
    for source in args.files:
        try:
            data = source.read_bytes()
        except OSError as exc:
            output.die(f"cannot read {source}: {exc.strerror}", exit_code=66)
        target = dirs[0] / source.name
        staged[target] = data
        old = target.read_text() if target.exists() else None
        files.append(StagedFile(str(target), data.decode("utf-8", "replace"), old))
    desired = config.load_desired(dirs, explicit=bool(args.config_dirs), staged=staged)
    found = config.check(dirs, explicit=bool(args.config_dirs), staged=staged).files
    return Proposal(desired, config.content_hash(found, staged), tuple(files))


def run(args: argparse.Namespace) -> int:
    proposal(args)  # invalid input stops here, before root or the kernel is needed
    context.require_root("bondctl apply")
    if args.no_probes:
        print(
            "warning: --no-probes: connectivity is not checked; only the confirm window"
            " (if any) can undo a change that cuts this host off",
            file=sys.stderr,
        )
    if daemon_running(args.run_dir):
        return _via_daemon(args)
    with context.host(args) as host:
        # A change left behind by a crash is settled first; it may restore files.
        context.settle_pending(args, host)
        the_proposal = proposal(args)
        the_plan, _ = make_plan(the_proposal.desired, host.reader, host.store)
        if not args.json:
            print(render.plan_text(the_plan))
        if not the_plan.empty and not args.yes and not _confirmed(len(the_plan.ops)):
            print("nothing applied", file=sys.stderr)
            return EX_DECLINED
        result = begin_transaction(
            host, the_proposal, confirm_timeout=args.confirm_timeout, probes=not args.no_probes
        )
        if result.status is Status.WAITING:
            if args.no_wait:
                _arm_guard(args, host, result.txn)
            else:
                result = _confirm_window(args, host, result, the_proposal.hash)
    return _report(args, result)


def _confirm_window(args: argparse.Namespace, host: Host, result: Result, digest: str) -> Result:
    """Wait for Enter, `bondctl confirm` or the deadline; the guard covers our death."""
    assert result.txn is not None and result.deadline is not None
    _arm_guard(args, host, result.txn)
    interactive = sys.stdin.isatty()
    shown = -1
    while True:
        pending = host.store.pending()
        if pending is None or pending.txn != result.txn:
            committed = host.store.committed()
            if committed is not None and committed[0] == digest:
                return Result(
                    Status.COMMITTED, result.plan, result.txn, "confirmed elsewhere", result.gates
                )
            reason = host.store.rejected().get(digest, "rolled back")
            return Result(Status.ROLLED_BACK, result.plan, result.txn, reason, result.gates)
        left = result.deadline - host.wall()
        if left <= 0:
            rollback_pending(
                host,
                f"not confirmed within {args.confirm_timeout:g}s",
                result.txn,
                only_if_due=True,
            )
            continue
        if interactive and int(left) != shown:
            shown = int(left)
            print(
                f"\rPress Enter to keep this configuration; reverting in {shown:>3d} s ",
                end="",
                flush=True,
            )
        if interactive and select.select([sys.stdin], [], [], 0.25)[0]:
            line = sys.stdin.readline()
            if line:  # end of input is never a confirmation
                print()
                if confirm(host, result.txn) is not None:
                    return Result(
                        Status.COMMITTED, result.plan, result.txn, "confirmed", result.gates
                    )
            else:
                interactive = False
        elif not interactive:
            time.sleep(0.25)


def _arm_guard(args: argparse.Namespace, host: Host, txn: str | None) -> None:
    """Hand the deadline to a detached guard, named in the pending record."""
    assert txn is not None
    guard = context.start_guard(args, txn)
    pending = host.store.pending()
    if pending is not None and pending.txn == txn:
        host.store.save_pending(pending.with_(guard_pid=guard))


def _confirmed(count: int) -> bool:
    print(f"Apply these {count} operations? [y/N] ", end="", flush=True)
    answer = sys.stdin.readline()
    if not answer:
        print()
        return False
    return answer.strip().lower() in ("y", "yes")


def _report(args: argparse.Namespace, result: Result) -> int:
    return _finish(args, render.result_json(result))


def _finish(args: argparse.Namespace, data: dict[str, Any], by: str = "") -> int:
    """Print a transaction's result (ours, or the daemon's answer: the same shape)."""
    if args.json:
        output.print_json(data)
    else:
        print(render.result_text(data, by))
    return EX_ROLLED_BACK if data.get("result") == Status.ROLLED_BACK.value else 0


def _via_daemon(args: argparse.Namespace) -> int:
    """The daemon runs the transaction; this process shows, asks and waits."""
    if not args.yes:
        with context.kernel(args) as host:
            the_plan, _ = make_plan(proposal(args).desired, host.reader, host.store)
        print(render.plan_text(the_plan))
        if not the_plan.empty and not _confirmed(len(the_plan.ops)):
            print("nothing applied", file=sys.stderr)
            return EX_DECLINED
    files = [{"name": f.name, "content": f.read_text()} for f in args.files]
    answer = remote.apply(args, files, wait=not args.no_wait)
    if args.yes and not args.json:
        print(answer.get("plan_text", ""))
    return _finish(args, answer, " (by the daemon)")
