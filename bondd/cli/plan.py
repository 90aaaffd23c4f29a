"""`bondctl plan`: what an apply would change, op by op, with its disruption.

Reads the kernel, changes nothing. Named FILEs are planned as `bondctl apply
FILE` would install them into the first config directory, without writing
them: a plan for a proposal (Ansible's check mode asks this). With
--detailed-exitcode: 0 when the host is converged, 2 when an apply would
change something (as terraform does).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bondd import config
from bondd.cli import context, output
from bondd.engine.converge import make_plan
from bondd.model import DesiredState
from bondd.render import plan as render

EX_CHANGES = 2
EX_NOINPUT = 66


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "plan",
        parents=[parent],
        help="show what apply would change, change nothing",
        description="Compare the configuration with the kernel and list the operations an"
        " apply would run, each with the disruption it causes.",
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        type=Path,
        help="plan as if these YAML files were installed into the first config directory",
    )
    parser.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 when converged, 2 when there are changes",
    )
    parser.set_defaults(run=run)


def proposed(args: argparse.Namespace) -> DesiredState:
    """The desired state with FILEs in place of their namesakes in the first directory."""
    dirs = args.config_dirs or list(config.DEFAULT_DIRS)
    staged: dict[Path, bytes] = {}
    for source in getattr(args, "files", []):
        try:
            staged[dirs[0] / source.name] = source.read_bytes()
        except OSError as exc:
            output.die(f"cannot read {source}: {exc.strerror}", exit_code=EX_NOINPUT)
    return config.load_desired(dirs, explicit=bool(args.config_dirs), staged=staged)


def run(args: argparse.Namespace) -> int:
    desired = proposed(args)
    with context.kernel(args) as k:
        plan, _ = make_plan(desired, k.reader, k.store)
    if args.json:
        output.print_json(render.plan_json(plan))
    else:
        print(render.plan_text(plan))
    if args.detailed_exitcode and not plan.empty:
        return EX_CHANGES
    return 0
