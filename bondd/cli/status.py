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
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from bondd.cli import context, output
from bondd.cli.status_render import Drift, PendingInfo, StatusReport, to_json, to_text
from bondd.drill.measure import DrillSummary
from bondd.drill.records import DrillRecords
from bondd.engine.store import Store
from bondd.errors import BonddError
from bondd.model import ActualState
from bondd.plan.diff import diff
from bondd.plan.ownership import Ownership
from bondd.plan.target import build_targets


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
    # Imported here: only commands that talk to the kernel pay for it.
    from bondd.kernel.linkspeed import read_link_speed  # noqa: PLC0415

    with context.kernel(args) as k:
        actual = k.reader.read()
    ownership, ownership_error = _ownership(k.store)
    drift = _drift(args, actual, ownership or Ownership())
    report = StatusReport(
        actual=actual,
        ownership=ownership,
        drift=drift,
        speeds={
            port.name: (speed.speed_mbps, speed.duplex)
            for bond in actual.bonds
            for port in bond.ports
            for speed in (read_link_speed(port.name),)
        },
        only=args.bond,
        ownership_error=ownership_error,
        drills=_drills(args),
        pending=_pending(k.store),
    )
    if args.bond is not None and not report.bonds and not report.missing:
        names = ", ".join(b.name for b in actual.bonds)
        output.die(
            f"no bond named {args.bond} in the kernel or the configuration",
            f"bonds here: {names}" if names else "there are no bonds",
        )
    if args.json:
        output.print_json(to_json(report))
    else:
        print(to_text(report, colour=_colour()))
    return 0


def _ownership(store: Store) -> tuple[Ownership | None, str | None]:
    try:
        return store.ownership(), None
    except BonddError as exc:
        return None, exc.message


def _drills(args: argparse.Namespace) -> dict[str, DrillSummary]:
    """The last failover drill per bond; an unreadable record only hides that line."""
    try:
        return DrillRecords(args.state_dir).summaries()
    except (BonddError, KeyError, TypeError, ValueError):
        return {}


def _drift(args: argparse.Namespace, actual: ActualState, ownership: Ownership) -> Drift:
    try:
        desired = context.desired(args)
        targets = build_targets(desired, actual, ownership.owned)
    except BonddError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        return Drift(error=f"{exc.message}{hint}")
    return Drift(
        configured=frozenset(b.name for b in desired.bonds),
        differences=tuple(diff(targets, actual)),
        absent={t.name: t.absent for t in targets.bonds if t.absent},
    )


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _pending(store: Store) -> PendingInfo | None:
    try:
        pending = store.pending()
    except BonddError:
        return None  # an unreadable state directory is already reported
    if pending is None:
        return None
    return PendingInfo(pending.txn, pending.phase.value, pending.deadline)
