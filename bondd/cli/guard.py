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
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import sys
import time
from pathlib import Path

from bondd.engine.holder import Holder, start_time
from bondd.engine.pending import Pending, Phase
from bondd.engine.transaction import Host, take_over
from bondd.engine.window import ConfirmWindow
from bondd.errors import BonddError
from bondd.log import event, setup

POLL = 0.25  # how often the pending record is re-read; a runner's death wakes it at once
HANG_KILL_WAIT = 5.0
NO_RECORD_GRACE = 60.0
RETRY = 5.0  # the runner pre-selects probes before writing the record


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


def watch(host: Host, txn: str, runner: Holder | None, log: logging.Logger) -> int:
    seen = False
    started = time.monotonic()
    runners = RunnerWatch()
    runners.watch(runner)
    try:
        while True:
            pending = host.store.pending()
            if pending is None or pending.txn != txn:
                if seen or runner is None or not runner.alive():
                    return 0
                if time.monotonic() - started > NO_RECORD_GRACE:
                    return 0
                runners.wait(POLL)
                continue
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bondd-guard")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--txn", required=True)
    parser.add_argument("--runner-pid", type=int)
    parser.add_argument("--runner-start", type=int)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    log = setup()
    # Imported after the arguments: `--help` needs no kernel.
    from bondd.deadman import announce  # noqa: PLC0415
    from bondd.wiring import open_host  # noqa: PLC0415

    runner = None
    if args.runner_pid:
        runner = Holder(args.runner_pid, args.runner_start or 0, Holder.me("").boot_id, "")
    try:
        with open_host(args.state_dir, role="guard") as host:
            announce(args.state_dir, args.txn, Holder.me("guard"))
            return watch(host, args.txn, runner, log)
    except BaseException as exc:
        # stderr is the state directory's guard.log (bondd.deadman.state_log).
        print(f"{time.strftime('%F %T')} guard {args.txn}: failed: {exc!r}", file=sys.stderr)
        raise


if __name__ == "__main__":
    sys.exit(main())
