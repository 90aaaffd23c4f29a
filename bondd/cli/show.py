"""`bondctl show [BOND...]`: the live bonds as bondd YAML, to import a host set up by hand.

Prints a netplan-style document (bondd.render.netplan) that `bondctl
validate` accepts and that `bondctl apply` converges to with an empty plan:
save it as /etc/bondd.d/50-imported.yaml and bondd adopts those bonds as
they are. `--json` prints the same document as JSON. Reads only.
"""

from __future__ import annotations

import argparse
from typing import Any

from bondd.cli import context, output
from bondd.render.netplan import document, render

HEADER = (
    "Written by `bondctl show` from the live kernel state.\n"
    "Check it with `bondctl validate`; `bondctl plan` on it shows no change."
)


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "show",
        parents=[parent],
        help="print the live bonds as bondd YAML",
        description="Print the kernel's bonds as bondd (netplan-style) YAML that validates"
        " and that an apply converges to with an empty plan. Changes nothing.",
    )
    parser.add_argument("bonds", nargs="*", metavar="BOND", help="only these bonds")
    parser.add_argument(
        "--yaml", action="store_true", help="YAML output (the default; --json for JSON)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with context.kernel(args) as k:
        actual = k.reader.read()
    names = {b.name for b in actual.bonds}
    unknown = [name for name in args.bonds if name not in names]
    if unknown:
        output.die(
            f"no bond named {', '.join(unknown)} in the kernel",
            f"bonds here: {', '.join(sorted(names))}" if names else "there are no bonds",
        )
    only = args.bonds or None
    if args.json and not args.yaml:
        output.print_json(document(actual, only))
    else:
        print(render(actual, only, HEADER), end="")
    return 0
