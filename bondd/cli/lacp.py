"""`bondctl lacp [BOND] [--watch]`: the LACP truth of each 802.3ad bond, and how it moves.

Per port: actor and partner state in words, the aggregator, who the partner
is (system MAC and key, from /proc/net/bonding: a port whose partner differs
from its siblings' is cabled to another switch) and the churn machine. The
bond's verdict is `bondd.lacp.verdict`, the one `status` and the apply's
LACP gate use. `--watch` looks again every interval and prints only what
changed (a partner lost or back, aggregator moves, churn), timestamped, one
line each, or one JSON object per line with `--json`. Reads only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from typing import Any

from bondd.cli import context, output
from bondd.cli.lacp_render import JSON_VERSION, BondView, build, changes, to_text


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "lacp",
        parents=[parent],
        help="show each 802.3ad bond's LACP state per port; --watch follows changes",
        description="Show the LACP negotiation of 802.3ad bonds port by port: actor and"
        " partner state, aggregator, the partner's MAC and key, churn. With --watch,"
        " print each change as it happens until interrupted. Changes nothing.",
    )
    parser.add_argument("bond", nargs="?", metavar="BOND", help="only this bond")
    parser.add_argument("--watch", action="store_true", help="keep looking and print every change")
    parser.add_argument(
        "--interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="time between looks with --watch (default 1; 0.1..60)",
    )
    parser.set_defaults(run=run)


def _views(reader: Any, only: str | None) -> dict[str, BondView]:
    from bondd.kernel import procbonding  # noqa: PLC0415

    actual = reader.read()
    found: dict[str, BondView] = {}
    for bond in actual.bonds:
        if only not in (None, bond.name):
            continue
        view = build(bond, procbonding.read(bond.name))
        if view is not None:
            found[bond.name] = view
    return found


def run(args: argparse.Namespace) -> int:
    if not 0.1 <= args.interval <= 60:
        output.die(f"--interval {args.interval:g} is outside 0.1..60 seconds")
    with context.kernel(args) as host:
        views = _views(host.reader, args.bond)
        if args.bond is not None and args.bond not in views:
            bond = host.reader.read().bond(args.bond)
            output.die(
                f"{args.bond} is not an 802.3ad bond"
                if bond is not None
                else f"no bond named {args.bond} in the kernel",
                "bondctl lacp shows 802.3ad (LACP) bonds only",
            )
        _print_snapshot(args, views)
        if not args.watch:
            return 0
        try:
            _watch(args, host.reader, views)
        except KeyboardInterrupt:
            return 0
    return 0


def _print_snapshot(args: argparse.Namespace, views: dict[str, BondView]) -> None:
    if args.json:
        document = {
            "version": JSON_VERSION,
            "at": _now(),
            "bonds": [v.to_json() for v in views.values()],
        }
        if args.watch:
            print(json.dumps({"snapshot": document}, sort_keys=True), flush=True)
        else:
            output.print_json(document)
        return
    if not views:
        print("no 802.3ad bonds in the kernel")
    print("\n\n".join(to_text(v) for v in views.values()), flush=True)


def _watch(args: argparse.Namespace, reader: Any, previous: dict[str, BondView]) -> None:
    if not args.json:
        print(f"watching every {args.interval:g}s; Ctrl-C to stop", flush=True)
    while True:
        time.sleep(args.interval)
        current = _views(reader, args.bond)
        stamp = _now()
        for name in sorted(set(previous) | set(current)):
            for change in changes(previous.get(name), current.get(name), name):
                if args.json:
                    line = json.dumps({"at": stamp, **change.to_json()}, sort_keys=True)
                else:
                    line = f"{stamp[11:23]}  {change.text}"
                sys.stdout.write(line + "\n")
        sys.stdout.flush()
        previous = current


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
