"""The dead-man timer of one transaction: roll it back when nobody else will.

Started by every transaction (bondctl's and the daemon's, see bondd.deadman)
before its first kernel write, in a session (or a systemd unit) of its own.
It says "armed" once it can roll back, then watches the pending record:

- gone or replaced: the transaction ended; exit;
- applying or rolling back, and its runner is dead (pidfd readable, or the
  PID's start time no longer matches): roll back now;
- applying past its deadline (the runner hangs): kill the runner, roll back;
- waiting for confirmation, past the deadline: roll back.

It ignores SIGHUP (a dying SSH session) and exits when the runner dies
before it ever wrote the pending record (nothing was changed).

`--spare`: the daemon's guard started ahead (bondd.spareguard). It starts up
at the lowest CPU priority (behind the transaction whose guard it replaces),
then, at its normal priority and with the kernel open, waits on its socket
to be handed a transaction by its runner, and from there on is that
transaction's guard. `--chain` (a detached spare): when that transaction
has ended, it forks the runner's next spare before it leaves.
The module imports only what that wait needs; the engine, the kernel layer
and pyroute2 load in `main`, after the priority drop.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from bondd import spareguard
from bondd.engine.holder import Holder, start_time
from bondd.engine.lock import holders

if TYPE_CHECKING:
    from bondd.engine.pending import Pending
    from bondd.engine.transaction import Host

POLL = 0.25  # how often the pending record is re-read; a runner's death wakes it at once
HANG_KILL_WAIT = 5.0
NO_RECORD_GRACE = 60.0
RETRY = 5.0  # the runner pre-selects probes before writing the record
# A record that stays unreadable (atomic writes never leave half a file: it is
# damaged) cannot be rolled back by anyone: the guard fails, and says why.
UNREADABLE_GRACE = 10.0
SUCCESSOR_WAIT = 10.0  # a spare's successor listens by then, or is taken as gone


class RunnerWatch:
    """Becomes ready the moment the runner exits (a pidfd), else after a timeout."""

    def __init__(self) -> None:
        self.holder: Holder | None = None
        self.fd: int | None = None

    def watch(self, holder: Holder | None) -> None:
        if holder == self.holder:
            return
        self.close()
        self.holder = holder
        if holder is None or not hasattr(os, "pidfd_open"):
            return
        try:
            fd = os.pidfd_open(holder.pid)
        except OSError:
            return
        if start_time(holder.pid) != holder.start:  # the PID was reused before we opened it
            os.close(fd)
            return
        self.fd = fd

    def wait(self, timeout: float) -> None:
        if self.fd is None:
            time.sleep(timeout)
        else:
            select.select([self.fd], [], [], timeout)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def due(host: Host, pending: Pending) -> str | None:
    """Why the guard must roll back now, or None."""
    from bondd.engine.pending import Phase  # noqa: PLC0415
    from bondd.engine.window import ConfirmWindow  # noqa: PLC0415

    runner = pending.runner
    if pending.phase is Phase.ROLLING_BACK and runner is not None and runner.pid == os.getpid():
        return "retrying a rollback that failed"
    if pending.phase is Phase.WAITING:
        if ConfirmWindow(pending.deadline, host.wall, host.clock.sleep).expired():
            return f"not confirmed within {pending.confirm_timeout:g}s"
        return None
    if runner is not None and not runner.alive():
        what = "applying" if pending.phase is Phase.APPLYING else "rolling back"
        return f"{runner.describe()} died while {what} it"
    if host.wall() >= pending.deadline:
        if runner is not None and runner.alive():
            os.kill(runner.pid, signal.SIGKILL)
            end = time.monotonic() + HANG_KILL_WAIT
            while runner.alive() and time.monotonic() < end:
                time.sleep(0.05)
        who = runner.describe() if runner else "its process"
        return f"{who} overran the applying deadline and was killed"
    return None


def record_stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


class UnreadableError(Exception):
    """The pending record is there but cannot be read now: look again at the next poll."""


def read_record(host: Host, log: logging.Logger) -> Pending | None:
    """The pending record, or None; UnreadableError (logged) instead of the end of the guard."""
    from bondd.errors import BonddError  # noqa: PLC0415
    from bondd.log import event  # noqa: PLC0415

    try:
        return host.store.pending()
    except BonddError as exc:
        event(log, "guard_retry", f"guard: {exc.message}", level=logging.ERROR)
        raise UnreadableError from exc


def gone(host: Host, runner: Holder | None, started: float) -> bool:
    """No record of the transaction yet: whether its runner is done with it (or never began)."""
    if runner is None or not runner.alive():
        return True
    held = holders(host.store.dir)
    if held is None:
        # Cannot tell whether it still holds the lock: the grace decides.
        return time.monotonic() - started > NO_RECORD_GRACE
    # It holds the lock from before the record until after it is dropped.
    return runner.pid not in held


def watch(host: Host, txn: str, runner: Holder | None, log: logging.Logger) -> int:
    from bondd.engine.transaction import take_over  # noqa: PLC0415
    from bondd.errors import BonddError  # noqa: PLC0415
    from bondd.log import event  # noqa: PLC0415

    seen = False
    started = time.monotonic()
    runners = RunnerWatch()
    runners.watch(runner)
    stamp: tuple[int, int, int] | None = None
    pending: Pending | None = None
    unreadable = 0.0  # since when the record could not be read
    try:
        while True:
            # Parsed again only when replaced (atomic writes: a new inode): the
            # record of 64 bonds is tens of ms of JSON, every POLL, next to
            # the transaction it guards.
            try:
                now = record_stamp(host.store.pending_path)
                if now is None or now != stamp:
                    pending = read_record(host, log)
                    stamp = now if pending is not None else None
                if pending is None or pending.txn != txn:
                    if not seen and not gone(host, runner, started):
                        runners.wait(POLL)
                        continue
                    # Looked at once more after deciding: the runner may have written
                    # the record (then died, or left it waiting) since the first look.
                    again = read_record(host, log)
                    if again is None or again.txn != txn:
                        return 0
                    pending, stamp = again, record_stamp(host.store.pending_path)
            except UnreadableError as exc:
                stamp = None
                unreadable = unreadable or time.monotonic()
                if time.monotonic() - unreadable > UNREADABLE_GRACE:
                    raise exc.__cause__ or exc from None
                time.sleep(RETRY)
                continue
            unreadable = 0.0
            seen = True
            reason = due(host, pending)
            if reason is not None:
                try:
                    done = take_over(host, txn, reason)
                except BonddError as exc:  # a busy lock, or a rollback the kernel refused
                    event(log, "guard_retry", f"guard: {exc.message}", level=logging.ERROR)
                    time.sleep(RETRY)
                    continue
                if done is not None:
                    event(
                        log,
                        "rolled_back",
                        f"guard: rolled back transaction {txn}: {reason}",
                        level=logging.ERROR,
                        txn=txn,
                        proposal=done.proposal_hash,
                    )
                continue  # the record is gone now, or the deadline moved
            runners.watch(pending.runner)
            runners.wait(POLL)
    finally:
        runners.close()


def lowest_priority() -> int | None:
    """Drop to nice 19; the priority to come back to, or None where that is not allowed."""
    try:
        before = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, 0, 19)
    except OSError:  # a seccomp filter without setpriority: start up at the runner's priority
        return None
    return before


def restore_priority(before: int | None) -> None:
    if before is None:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, 0, before)
    except OSError:  # no CAP_SYS_NICE: stays behind; it still gets the CPU when idle
        print(f"{time.strftime('%F %T')} guard: stays at nice 19", file=sys.stderr)


def handed_transaction(
    state_dir: Path, spare: str, runner: Holder
) -> tuple[str, socket.socket] | None:
    """A spare's wait: the transaction its runner hands it (and the connection to answer
    on), or None once the runner is gone."""
    path = spareguard.socket_path(state_dir, spare)
    listener = spareguard.listen(path)
    runners = RunnerWatch()
    runners.watch(runner)
    try:
        # A spare whose socket was removed (its runner gave up on it) is not needed.
        while runner.alive() and path.exists():
            fds = [listener.fileno()] if runners.fd is None else [listener.fileno(), runners.fd]
            ready = select.select(fds, [], [], POLL if runners.fd is None else 5.0)[0]
            if listener.fileno() not in ready:
                continue
            conn, _ = listener.accept()
            txn = spareguard.requested_txn(conn, runner)
            if txn is None:
                conn.close()
                continue
            # Nobody can hand it a second one: the socket goes before the answer.
            path.unlink(missing_ok=True)
            return txn, conn
        return None
    finally:
        listener.close()
        runners.close()
        path.unlink(missing_ok=True)


def fork_next_spare(state_dir: Path, name: str) -> bool:
    """True in a new process that is to be the runner's next spare guard, `name`.

    It is past every import already, so it listens within milliseconds where
    a new Python process takes a second or more. In a session of its own.
    Forked after the transaction, not in it: a fork of a Python process is
    slow too (0.2-1 s in the lab). This guard, its parent, leaves once it
    listens (or died): the runner always finds one of the two.
    """
    try:
        child = os.fork()
    except OSError:
        return False
    if child == 0:
        os.setsid()
        return True
    path = spareguard.socket_path(state_dir, name)
    deadline = time.monotonic() + SUCCESSOR_WAIT
    while not path.exists() and time.monotonic() < deadline:
        if os.waitpid(child, os.WNOHANG)[0] == child:
            break
        time.sleep(0.01)
    return False


def serve_as_spare(args: argparse.Namespace, runner: Holder, log: logging.Logger) -> int:
    """A spare: wait with the kernel open, answer once handed a transaction, guard it.

    `--chain`: once that transaction has ended, fork the next spare (named
    in the answer) before leaving."""
    from bondd.wiring import open_host  # noqa: PLC0415

    spare = args.spare
    while True:
        following = uuid.uuid4().hex[:12] if args.chain else None
        with open_host(args.state_dir, role="guard") as host:
            handed = handed_transaction(args.state_dir, spare, runner)
            if handed is None:
                return 0
            txn, conn = handed
            with conn:  # armed: the kernel is open, everything is imported
                spareguard.answer(conn, Holder.me("guard"), following)
            code = watch(host, txn, runner, log)
        if (
            following is None
            or not runner.alive()
            or not fork_next_spare(args.state_dir, following)
        ):
            return code
        spare = following  # the next spare: the same wait under its new name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bondd-guard")
    parser.add_argument("--state-dir", type=Path, required=True)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--txn")
    which.add_argument("--spare", help="wait to be handed a transaction (bondd.spareguard)")
    parser.add_argument(
        "--chain", action="store_true", help="a spare forks the next spare after its transaction"
    )
    parser.add_argument("--runner-pid", type=int)
    parser.add_argument("--runner-start", type=int)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if args.spare and not spareguard.TXN.fullmatch(args.spare):
        parser.error("--spare: a name of hex digits")
    if args.spare and not spareguard.TXN.fullmatch(args.spare):
        parser.error("--spare: a name of hex digits")
    priority = lowest_priority() if args.spare else None
    # Imported after the arguments: `--help` needs no kernel. All of them
    # before a spare waits: handed a transaction, it can roll back at once.
    from bondd.deadman import announce  # noqa: PLC0415
    from bondd.engine import pending, transaction, window  # noqa: F401, PLC0415
    from bondd.log import setup  # noqa: PLC0415
    from bondd.wiring import open_host  # noqa: PLC0415

    log = setup()
    runner = None
    if args.runner_pid:
        runner = Holder(args.runner_pid, args.runner_start or 0, Holder.me("").boot_id, "")
    name = args.txn or f"spare {args.spare}"
    try:
        if args.spare:
            restore_priority(priority)
            if runner is None:
                raise SystemExit("a spare guard needs --runner-pid")
            return serve_as_spare(args, runner, log)
        with open_host(args.state_dir, role="guard") as host:
            announce(args.state_dir, args.txn, Holder.me("guard"))
            return watch(host, args.txn, runner, log)
    except BaseException as exc:
        # stderr is the state directory's guard.log (bondd.deadman.state_log).
        print(f"{time.strftime('%F %T')} guard {name}: failed: {exc!r}", file=sys.stderr)
        raise


if __name__ == "__main__":
    sys.exit(main())
