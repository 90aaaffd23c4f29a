"""`bondctl plan`: what an apply would change, op by op, with its disruption.

Reads the kernel, changes nothing. With --detailed-exitcode: 0 when the host
is converged, 2 when an apply would change something (as terraform does).
"""

from __future__ import annotations

import argparse
from typing import Any

from bondd.cli import context, output
from bondd.engine.converge import make_plan
from bondd.render import plan as render

EX_CHANGES = 2


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "plan",
        parents=[parent],
        help="show what apply would change, change nothing",
        description="Compare the configuration with the kernel and list the operations an"
        " apply would run, each with the disruption it causes.",
    )
    parser.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 when converged, 2 when there are changes",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    desired = context.desired(args)
    with context.kernel(args) as k:
        the_plan, _ = make_plan(desired, k.reader, k.store)
    if args.json:
        output.print_json(render.plan_json(the_plan))
    else:
        print(render.plan_text(the_plan))
    if args.detailed_exitcode and not the_plan.empty:
        return EX_CHANGES
    return 0
