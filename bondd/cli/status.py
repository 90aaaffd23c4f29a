"""`bondctl status [BOND]`: every bond at a glance, with what is wrong and where to look.

Per bond: mode and the options that matter, owned / adopted / unmanaged,
the active port, each port (MII, active or backup, link failures, speed and
duplex), for 802.3ad the aggregator, the actor and partner port states in
words, the partner's MAC and key and the negotiation verdict, and the drift
from the configuration option by option. `--json` prints the same facts in
the stable form described in docs/status-json.md.

Reads only; needs no root where netlink and sysfs are readable. A missing
or invalid configuration, or an unreadable state directory, is reported in
the output rather than failing the command. Exit 0, or 1 when the bond
asked for exists neither in the kernel nor in the configuration.

With a daemon running (and its directories, if any are given), the daemon
answers from its last verified read while that is fresh, else it reads: this
process then imports only the control protocol, and prints.
"""

from __future__ import annotations

import argparse
import os
import sys

from bondd import protocol
from bondd.cli import context

TYPE_CHECKING = False  # not typing's: importing typing costs a thin command's start
if TYPE_CHECKING:
    from typing import Any


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "status",
        parents=[parent],
        help="show the bonds, their ports, LACP state and drift from the configuration",
        description="Show each bond as the kernel has it: mode, options, ports, LACP"
        " negotiation and how it differs from the configuration. Changes nothing.",
    )
    parser.add_argument("bond", nargs="?", metavar="BOND", help="show only this bond")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # A daemon busy with a transaction answers late: read the kernel here instead.
    answer = protocol.try_request(args.run_dir, _question(args), timeout=5)
    if answer is None or answer.get("report") is None:
        return _here(args)  # no daemon, one from before reports, or other directories
    if not answer.get("ok"):
        from bondd.cli import output  # noqa: PLC0415 (only for the error)

        output.die(str(answer.get("error")), answer.get("hint"), int(answer.get("exit_code", 1)))
    report = answer["report"]
    if args.json:
        import json  # noqa: PLC0415 (as output.print_json, which would import the errors)

        json.dump(report, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        print(report)
    return 0


def _question(args: argparse.Namespace) -> dict[str, Any]:
    question: dict[str, Any] = {"cmd": "status", "report": "json" if args.json else "text"}
    if not args.json and _colour():
        question["report"] = "colour"
    if args.bond is not None:
        question["bond"] = args.bond
    # The daemon reports on its own directories: ours must be those, or we read here.
    return question | context.named_directories(args)


def _here(args: argparse.Namespace) -> int:
    """No daemon to ask: read the kernel and the files in this process."""
    from bondd.cli import output  # noqa: PLC0415
    from bondd.kernel.linkspeed import read_link_speed  # noqa: PLC0415
    from bondd.status import report as status  # noqa: PLC0415
    from bondd.status.render import to_json, to_text  # noqa: PLC0415

    def speed(name: str) -> tuple[int | None, str | None]:
        found = read_link_speed(name)
        return found.speed_mbps, found.duplex

    with context.kernel(args) as k:
        actual = k.reader.read()
    report = status.gather(
        actual, k.store, args.state_dir, lambda: context.desired(args), speed, only=args.bond
    )
    if unknown := status.unknown_bond(report, args.bond):
        output.die(*unknown)
    if args.json:
        output.print_json(to_json(report))
    else:
        print(to_text(report, colour=_colour()))
    return 0


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
