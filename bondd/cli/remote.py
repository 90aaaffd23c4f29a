"""`bondctl` through the daemon's control socket, when the daemon runs.

The daemon then owns the transaction and its confirm window (its loop holds
the timer), so this process can die, or its SSH session with it, and the
rollback still happens at the deadline.
"""

from __future__ import annotations

import argparse
import select
import sys
import time
from typing import Any

from bondd.cli import output
from bondd.daemon.control import request


def _check(answer: dict[str, Any]) -> dict[str, Any]:
    if not answer.get("ok"):
        for line in answer.get("diagnostics", []):
            print(line)
        output.die(
            str(answer.get("error", "the daemon refused")),
            answer.get("hint"),
            exit_code=int(answer.get("exit_code", 1)),
        )
    return answer


def apply(
    args: argparse.Namespace, files: list[dict[str, str]], *, wait: bool = True
) -> dict[str, Any]:
    """Run the apply in the daemon; wait out a confirm window (if `wait`). Returns the answer."""
    answer = _check(
        request(
            args.run_dir,
            {
                "cmd": "apply",
                "files": files,
                "confirm_timeout": args.confirm_timeout,
                "probes": not args.no_probes,
            },
        )
    )
    if answer.get("result") != "waiting" or not wait:
        return answer
    txn, proposal = answer["txn"], answer["proposal"]
    deadline = float(answer["deadline"])
    interactive = sys.stdin.isatty()
    shown = -1
    while True:
        state = _check(request(args.run_dir, {"cmd": "txn", "txn": txn, "proposal": proposal}))
        if state["state"] in ("committed", "rolled-back"):
            return {**answer, "result": state["state"], "reason": state.get("reason", "")}
        left = deadline - time.time()
        if interactive and int(left) != shown and left > 0:
            shown = int(left)
            print(
                f"\rPress Enter to keep this configuration; reverting in {shown:>3d} s ",
                end="",
                flush=True,
            )
        if interactive and select.select([sys.stdin], [], [], 0.25)[0]:
            if sys.stdin.readline():  # end of input is never a confirmation
                print()
                _check(request(args.run_dir, {"cmd": "confirm", "txn": txn}))
            else:
                interactive = False
        elif not interactive:
            time.sleep(0.25)


def simple(args: argparse.Namespace, cmd: str) -> dict[str, Any]:
    return _check(request(args.run_dir, {"cmd": cmd}))
