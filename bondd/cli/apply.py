"""`bondctl apply`: the staged, self-undoing change.

    bondctl apply [--yes] [--confirm-timeout N [--no-wait]] [--no-probes] [FILE...]

Validates, shows the plan, asks (unless --yes; end of input is a no), then
runs the transaction: snapshot, execute, verify, probes and the LACP gate.
With --confirm-timeout N the change must be confirmed within N seconds
(Enter on this terminal, or `bondctl confirm` from another), else it is
rolled back. The timer does not depend on this terminal: a guard process,
armed before the first change, rolls back at the deadline even if this
process or the SSH session dies, and at once if this process dies while
applying (see the dead-man timer in bondctl(8)). SIGHUP, SIGTERM and SIGINT
during the transaction roll it back now (exit 3). With --no-wait it returns
as soon as the change waits (result "waiting"), for tools such as Ansible
that confirm from a new connection once the host proves reachable. Named
FILEs are installed into the first config directory as part of the
transaction and restored on rollback.

Exit codes: 0 committed (or nothing to do), 3 rolled back (the reason is
printed), 65 invalid configuration, 75 another transaction in progress.

With the daemon running, the daemon validates, plans and applies (and holds
the confirm window); this command sends the files and shows its plan and result.
"""

# Through the daemon this process imports nothing of the engine, the config
# loader or pyroute2: those are imported in the functions that run here when
# no daemon does.

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bondd import protocol
from bondd.cli import context, output, remote
from bondd.render import result as outcome

TYPE_CHECKING = False  # not typing's: importing typing costs a thin command's start
if TYPE_CHECKING:
    from typing import Any

    from bondd.engine.transaction import Host, Proposal, Result

EX_DECLINED = 1
EX_ROLLED_BACK = 3
MAX_REPLANS = 3


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
        type=confirm_timeout,
        default=0.0,
        metavar="N",
        help="roll back unless confirmed within N seconds (1 to 86400; 0, the default:"
        " no confirm window)",
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


def confirm_timeout(text: str) -> float:
    """--confirm-timeout N: seconds within `durations.CONFIRM_TIMEOUT`, else a usage error."""
    from bondd import durations  # noqa: PLC0415 (only when the option is given)

    try:
        return durations.seconds(text, durations.CONFIRM_TIMEOUT)
    except durations.SpanError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _same_directories_as_the_daemon(args: argparse.Namespace, status: dict[str, Any]) -> None:
    """Refuse --config-dir/--state-dir other than the running daemon's: it would use its own.

    `status` is the daemon's answer to a bare status request (its directories)."""
    theirs_config = [Path(d).resolve() for d in status.get("config_dirs", [])]
    theirs_state = Path(str(status.get("state_dir", context.DEFAULT_STATE_DIR))).resolve()
    if args.config_dirs or status.get("explicit", True):
        mine_config = [d.resolve() for d in args.config_dirs or _default_dirs()]
    else:
        mine_config = theirs_config  # both use the default directories
    if mine_config != theirs_config or args.state_dir.resolve() != theirs_state:
        output.die(
            "the running daemon applies with its own directories"
            f" (config {', '.join(map(str, theirs_config))}; state {theirs_state}),"
            " not the ones given",
            "leave out --config-dir/--state-dir, or stop the daemon (or give its --run-dir)",
            exit_code=os.EX_USAGE,
        )


def _default_dirs() -> list[Path]:
    from bondd.config.loader import DEFAULT_DIRS  # noqa: PLC0415

    return list(DEFAULT_DIRS)


def proposal(args: argparse.Namespace) -> Proposal:
    from bondd.engine.proposal import build as build_proposal  # noqa: PLC0415

    dirs = args.config_dirs or _default_dirs()
    return build_proposal(
        dirs,
        explicit=bool(args.config_dirs),
        files=_read_files(args),
        strict=getattr(args, "strict", False),
    )


def _read_files(args: argparse.Namespace) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = []
    for source in args.files:
        try:
            files.append((source.name, source.read_bytes()))
        except OSError as exc:
            output.die(f"cannot read {source}: {exc.strerror}", exit_code=os.EX_NOINPUT)
    return files


def _warn_no_probes(args: argparse.Namespace) -> None:
    if args.no_probes:
        print(
            "warning: --no-probes: connectivity is not checked; only the confirm window"
            " (if any) can undo a change that cuts this host off",
            file=sys.stderr,
        )


def run(args: argparse.Namespace) -> int:
    # Root with a daemon: the daemon validates, plans and applies; nothing heavy here.
    # Asking for its directories is also what finds out whether one runs.
    status = None
    if os.geteuid() == 0:
        status = protocol.ask(args.run_dir, {"cmd": "status"}, timeout=30)
    if status is not None:
        if getattr(args, "strict", False):
            proposal(args)  # the daemon does not know --strict: check here first
        _warn_no_probes(args)
        _same_directories_as_the_daemon(args, status)
        return _via_daemon(args)
    return _here(args)


def _here(args: argparse.Namespace) -> int:
    """No daemon: this process runs the transaction (a guard holds its window)."""
    import logging  # noqa: PLC0415 (its imports were a sixth of the thin path's)

    from bondd.engine.converge import make_plan  # noqa: PLC0415
    from bondd.engine.transaction import Result, Status, rollback_mine  # noqa: PLC0415
    from bondd.engine.transaction import begin as begin_transaction  # noqa: PLC0415
    from bondd.errors import Interrupted  # noqa: PLC0415
    from bondd.interrupt import rollback_on, shielded  # noqa: PLC0415
    from bondd.log import event, journal_only  # noqa: PLC0415
    from bondd.render import plan as render  # noqa: PLC0415

    the_proposal = proposal(args)  # invalid input stops here, before root or the kernel
    context.require_root("bondctl apply")
    _warn_no_probes(args)
    with context.host(args) as host, rollback_on():
        result: Result | None = None
        stamp = _commit_stamp(host)  # what "this process committed it" is judged against
        try:
            # A change left behind by a crash is settled first; it may restore files.
            # Shielded: a signal during its rollback still stops this apply after it.
            with shielded():
                settled = context.settle_pending(args, host)
            if settled:
                the_proposal = proposal(args)  # the settled change restored files: read again
            plan, _ = make_plan(the_proposal.desired, host.reader, host.store)
            for _ in range(MAX_REPLANS):
                if not args.json:
                    print(render.plan_text(plan))
                if not plan.empty and not args.yes and not _confirmed(len(plan.ops)):
                    print("nothing applied", file=sys.stderr)
                    return EX_DECLINED
                # The transaction runs the plan shown, or says it changed.
                result = begin_transaction(
                    host,
                    the_proposal,
                    confirm_timeout=args.confirm_timeout,
                    probes=not args.no_probes,
                    expected=plan,
                )
                if result.status is not Status.PLAN_CHANGED:
                    break
                assert result.plan is not None
                plan = result.plan
                print(
                    "the kernel changed since this plan was made; the new plan"
                    + (" (applied: --yes):" if args.yes else ":"),
                    file=sys.stderr,
                )
            else:
                output.die(
                    f"the kernel kept changing; {MAX_REPLANS} plans in a row went stale",
                    "find what else changes the bonds (another network manager?)",
                    exit_code=os.EX_TEMPFAIL,
                )
            # --no-wait: the guard, armed before the first change, holds the window.
            if result.status is Status.WAITING and not args.no_wait:
                result = _confirm_window(args, host, result, the_proposal.hash)
        except Interrupted as exc:
            # Between two steps of the transaction, or in its confirm window.
            undone = rollback_mine(host, str(exc))
            if undone is None and _committed(host, the_proposal.hash, stamp):
                # Too late to stop: the signal came just after the commit.
                txn = result.txn if result else None
                result = Result(Status.COMMITTED, result.plan if result else None, txn)
            elif undone is None and (result is None or result.status is not Status.WAITING):
                print(f"{exc}: nothing applied", file=sys.stderr)
                return EX_DECLINED
            else:
                txn = undone.txn if undone else result.txn if result else None
                result = Result(Status.ROLLED_BACK, result.plan if result else None, txn, str(exc))
    if result.status is Status.ROLLED_BACK:
        event(
            journal_only(),
            "rolled_back",
            f"bondctl apply: rolled back: {result.reason}",
            level=logging.ERROR,
            txn=result.txn,
        )
    try:
        return _report(args, result)
    except OSError:  # the terminal is gone (SIGHUP): the journal has the reason
        return EX_ROLLED_BACK if result.status is Status.ROLLED_BACK else 0


def _commit_stamp(host: Host) -> tuple[int, int] | None:
    try:
        st = host.store.committed_path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def _committed(host: Host, digest: str, before: tuple[int, int] | None) -> bool:
    """This process committed this proposal (the record was written since `before`)."""
    if _commit_stamp(host) == before or host.store.pending() is not None:
        return False
    committed = host.store.committed()
    return committed is not None and committed[0] == digest


def _confirm_window(args: argparse.Namespace, host: Host, result: Result, digest: str) -> Result:
    """Wait for Enter, `bondctl confirm` or the deadline; the guard covers our death."""
    from bondd.engine.transaction import Result, Status, confirm, rollback_pending  # noqa: PLC0415
    from bondd.engine.window import ConfirmWindow, Ending, terminal_keys  # noqa: PLC0415

    assert result.txn is not None and result.deadline is not None
    txn = result.txn

    def ended() -> bool:
        pending = host.store.pending()
        return pending is None or pending.txn != txn

    window = ConfirmWindow(
        result.deadline,
        host.wall,
        host.clock.sleep,
        ended,
        terminal_keys(sys.stdin),
        show=_countdown,
    )
    while True:
        ending = window.run()
        if ending is Ending.ENTER:
            print()
            if confirm(host, txn) is not None:
                return Result(Status.COMMITTED, result.plan, txn, "confirmed", result.gates)
            continue  # it ended meanwhile: ELSEWHERE next
        if ending is Ending.EXPIRED:
            rollback_pending(
                host, f"not confirmed within {args.confirm_timeout:g}s", txn, only_if_due=True
            )
            continue
        committed = host.store.committed()
        if committed is not None and committed[0] == digest:
            return Result(Status.COMMITTED, result.plan, txn, "confirmed elsewhere", result.gates)
        reason = host.store.rejected().get(digest, "rolled back")
        return Result(Status.ROLLED_BACK, result.plan, txn, reason, result.gates)


def _countdown(seconds: int) -> None:
    print(
        f"\rPress Enter to keep this configuration; reverting in {seconds:>3d} s ",
        end="",
        flush=True,
    )


def _confirmed(count: int) -> bool:
    print(f"Apply these {count} operations? [y/N] ", end="", flush=True)
    answer = sys.stdin.readline()
    if not answer:
        print()
        return False
    return answer.strip().lower() in ("y", "yes")


def _report(args: argparse.Namespace, result: Result) -> int:
    from bondd.render import plan as render  # noqa: PLC0415

    return _finish(args, render.result_json(result))


def _finish(args: argparse.Namespace, data: dict[str, Any], by: str = "") -> int:
    """Print a transaction's result (ours, or the daemon's answer: the same shape)."""
    if args.json:
        output.print_json(data)
    else:
        print(outcome.result_text(data, by))
    return EX_ROLLED_BACK if data.get("result") == outcome.ROLLED_BACK else 0


def _text(name: str, content: bytes) -> str:
    """The file as the daemon gets it: UTF-8, or refused here as validate refuses it."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        output.die(
            f"{name}: byte {exc.start + 1} is not UTF-8",
            "save the file as UTF-8 (YAML is UTF-8 text)",
            exit_code=os.EX_DATAERR,
        )


def _via_daemon(args: argparse.Namespace) -> int:
    """The daemon validates, plans and runs the transaction; this process shows, asks and waits."""
    files = [{"name": n, "content": _text(n, c)} for n, c in _read_files(args)]
    if args.yes:
        answer = remote.apply(args, files, wait=not args.no_wait)
    else:
        planned = remote.check(protocol.request(args.run_dir, {"cmd": "plan", "files": files}))
        text, empty, ops, digest = (
            planned["text"],
            planned["empty"],
            planned["ops"],
            planned.get("digest"),
        )
        for _ in range(MAX_REPLANS):
            print(text)
            if not empty and not _confirmed(int(ops)):
                print("nothing applied", file=sys.stderr)
                return EX_DECLINED
            # The plan shown runs, or the daemon says it changed and this asks again.
            answer = remote.apply(args, files, wait=not args.no_wait, expected=digest)
            if answer.get("result") != outcome.PLAN_CHANGED:
                break
            print("the kernel changed since this plan was made; the new plan:", file=sys.stderr)
            plan = answer.get("plan") or {}
            text, digest = answer.get("plan_text", ""), answer.get("digest")
            empty, ops = bool(plan.get("converged")), len(plan.get("operations", []))
        else:
            output.die(
                f"the kernel kept changing; {MAX_REPLANS} plans in a row went stale",
                "find what else changes the bonds (another network manager?)",
                exit_code=os.EX_TEMPFAIL,
            )
    if args.yes and not args.json and answer.get("result") != outcome.CONVERGED:
        print(answer.get("plan_text", ""))  # an empty plan's text is the result line again
    return _finish(args, answer, " (by the daemon)")
