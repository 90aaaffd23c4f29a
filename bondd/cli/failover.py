"""`bondctl failover-test BOND`: pull the cable on purpose, and measure what it costs.

"Never trust a redundancy setup you haven't tested." The drill refuses a bond
that is not healthy with at least two working ports (it would become the
outage it rehearses), asks a running daemon to hold drift repair of the bond
(a downed port is drift, and repairing it mid-drill would spoil the
measurement), sends its own ICMP echo probes at a fixed interval, fails the
active port, and measures: probes lost, the gap from the first lost to the
first answered probe, and when the kernel's failover event came. Then it
restores the port, waits for it to rejoin, optionally drills the other
direction, leaves the bond as it found it, releases the hold and records
the result for `bondctl status`.

Whatever ends the drill (an error, Ctrl-C, SIGTERM, SIGHUP from a dying SSH
session) the port is brought back and the hold released. If bondctl itself
is killed outright, the hold runs out on its own and the daemon repairs the
downed port.

This module is the command: the checks, the hold and the record. The drill
itself is the bondd.drill package (run.py, measure.py, echo.py, records.py).
"""

from __future__ import annotations

import argparse
import ipaddress
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import FrameType
from typing import Any

from bondd.cli import context, output
from bondd.drill.measure import (
    DrillResult,
    Method,
    default_target,
    parse_interval,
    port_to_fail,
    probe_device,
    refusals,
    report_text,
)
from bondd.drill.records import DrillRecords
from bondd.drill.run import HANDLED_SIGNALS, DrillPlan, execute, signals_blocked
from bondd.errors import BonddError
from bondd.protocol import daemon_running, request


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "failover-test",
        parents=[parent],
        help="force a failover of a bond while probing, and measure the gap",
        description="Fail the bond's active port on purpose while sending ICMP echo probes,"
        " measure the traffic gap, restore the port and leave the bond as it was."
        " Needs root. Refuses a bond that is not healthy with two ports up.",
    )
    parser.add_argument("bond", metavar="BOND")
    parser.add_argument(
        "--target",
        metavar="IP",
        help="address to probe (default: the gateway of the bond's default route)",
    )
    parser.add_argument(
        "--interval",
        metavar="TIME",
        default="10ms",
        help="time between probes, e.g. 10ms (default), 1ms..1s",
    )
    parser.add_argument(
        "--port",
        metavar="PORT",
        help="port to fail (default: the active port; required in modes without one)",
    )
    parser.add_argument(
        "--method",
        choices=Method.ALL,
        default=Method.ADMIN,
        help="admin: set the port down (default, works on every NIC); carrier: drop its"
        " carrier, which only some virtual drivers can do on request",
    )
    parser.add_argument(
        "--both-ways",
        action="store_true",
        help="after the port rejoins, fail the port that took over, so traffic moves back",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    context.require_root("failover-test")
    try:
        interval = parse_interval(args.interval)
    except ValueError as exc:
        output.die(str(exc), "e.g. --interval 10ms")
    with context.kernel(args) as host:
        bond = host.reader.read().bond(args.bond)
    if bond is None:
        output.die(f"no bond named {args.bond} in the kernel", "see bondctl status")
    found = refusals(bond, args.port, args.method)
    if found:
        output.die(
            f"{bond.name} is not ready for a failover drill: {'; '.join(found)}",
            "nothing was changed; fix this and run the drill again",
        )
    target = args.target or default_target(bond)
    if target is None:
        output.die(
            f"no address to probe: {bond.name} has no default route with a gateway",
            "name one with --target IP (the gateway, or a host reached through the bond)",
        )
    try:
        ipaddress.ip_address(target)
    except ValueError:
        output.die(f"--target {target!r} is not an IP address")
    plan = DrillPlan(
        bond=bond,
        target=target,
        device=probe_device(bond, target),
        interval=interval,
        method=args.method,
        both_ways=args.both_ways,
        first_port=port_to_fail(bond, args.port),
    )
    with _signals_interrupt(), _hold(args, bond.name, plan.hold_seconds):
        result = execute(plan)
    try:
        DrillRecords(args.state_dir).save(result)
    except (OSError, BonddError) as exc:
        result = _with_problem(result, f"the result could not be recorded: {exc}")
    if args.json:
        output.print_json(result.to_json())
    else:
        print(report_text(result))
    return 0 if result.ok else 1


def _with_problem(result: DrillResult, problem: str) -> DrillResult:
    return replace(result, problems=(*result.problems, problem))


# --- safety around the drill ---------------------------------------------------------


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP end the drill like Ctrl-C: through the `finally` that restores."""
    previous = {s: signal.signal(s, _interrupt) for s in HANDLED_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def _hold(args: argparse.Namespace, bond: str, seconds: float) -> Iterator[None]:
    """Ask a running daemon not to repair `bond` during the drill; release it after."""
    if not daemon_running(args.run_dir):
        yield
        return
    try:
        answer = request(args.run_dir, {"cmd": "hold", "bond": bond, "seconds": seconds})
    except OSError as exc:
        output.die(f"the daemon did not answer the request to hold {bond}: {exc}")
    if not answer.get("ok"):
        output.die(
            f"the daemon refused to hold drift repair of {bond}: {answer.get('error')}",
            "without the hold it would undo the drill's failure mid-measurement",
        )
    try:
        yield
    finally:
        with signals_blocked():
            try:
                request(args.run_dir, {"cmd": "release", "bond": bond}, timeout=10)
            except OSError as exc:
                output.print_error(
                    f"could not release the hold on {bond}: {exc}",
                    f"it runs out by itself within {seconds:.0f}s",
                )
