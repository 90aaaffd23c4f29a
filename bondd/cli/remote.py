"""`bondctl` through the daemon's control socket, when the daemon runs.

The daemon then owns the transaction and its confirm window (its loop holds
the timer), so this process can die, or its SSH session with it, and the
rollback still happens at the deadline. Imports only the control protocol
until a confirm window has to be waited out.
"""

from __future__ import annotations

import argparse
import sys
import time

from bondd.cli import output
from bondd.errors import BonddError, Interrupted
from bondd.protocol import request

TYPE_CHECKING = False  # not typing's: importing typing costs a thin command's start
if TYPE_CHECKING:
    from typing import Any

    from bondd.engine.window import ConfirmWindow


def check(answer: dict[str, Any]) -> dict[str, Any]:
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
    args: argparse.Namespace,
    files: list[dict[str, str]],
    *,
    wait: bool = True,
    expected: str | None = None,
) -> dict[str, Any]:
    """Run the apply in the daemon; wait out a confirm window (if `wait`). Returns the answer.

    `expected`: the digest of the plan the admin approved; if the daemon's plan
    differs now, nothing is done and the answer is `plan-changed` with the new one.
    """
    req: dict[str, Any] = {
        "cmd": "apply",
        "files": files,
        "confirm_timeout": args.confirm_timeout,
        "probes": not args.no_probes,
    }
    if expected is not None:
        req["expected"] = expected
    answer = check(request(args.run_dir, req))
    if answer.get("result") != "waiting" or not wait:
        return answer
    import contextlib  # noqa: PLC0415 (here: a packaged Python has not loaded it yet)

    from bondd.engine.window import ConfirmWindow, terminal_keys  # noqa: PLC0415
    from bondd.interrupt import rollback_on  # noqa: PLC0415

    txn, proposal = answer["txn"], answer["proposal"]
    final: dict[str, Any] = {}

    def ended() -> bool:
        state = check(request(args.run_dir, {"cmd": "txn", "txn": txn, "proposal": proposal}))
        if state["state"] in ("committed", "rolled-back"):
            final.update(result=state["state"], reason=state.get("reason", ""))
            return True
        return False

    window = ConfirmWindow(
        float(answer["deadline"]),
        time.time,
        time.sleep,
        ended,
        terminal_keys(sys.stdin),
        show=_countdown,
    )
    with rollback_on():
        try:
            return _wait(args, window, answer, final, txn)
        except Interrupted as exc:  # SIGHUP, SIGTERM, SIGINT: roll back now, as standalone
            # A daemon that is gone leaves its guard to roll back at the deadline.
            with contextlib.suppress(OSError, ValueError, BonddError):
                request(args.run_dir, {"cmd": "rollback", "txn": txn})
            return {**answer, "result": "rolled-back", "reason": str(exc)}


def _wait(
    args: argparse.Namespace,
    window: ConfirmWindow,
    answer: dict[str, Any],
    final: dict[str, Any],
    txn: str,
) -> dict[str, Any]:
    from bondd.engine.window import Ending  # noqa: PLC0415

    while True:
        ending = window.run()
        if ending is Ending.ELSEWHERE:
            return {**answer, **final}
        if ending is Ending.ENTER:
            print()
            check(request(args.run_dir, {"cmd": "confirm", "txn": txn}))
        else:  # the daemon's timer rolls back at the deadline; wait for its word
            window.deadline = time.time() + 30.0
            window.keys = None


def _countdown(seconds: int) -> None:
    print(
        f"\rPress Enter to keep this configuration; reverting in {seconds:>3d} s ",
        end="",
        flush=True,
    )
