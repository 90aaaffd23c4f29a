"""`bondctl plan`: what an apply would change, op by op, with its disruption.

Reads the kernel, changes nothing. Named FILEs are planned as `bondctl apply
FILE` would install them into the first config directory, without writing
them: a plan for a proposal (Ansible's check mode asks this). With
--detailed-exitcode: 0 when the host is converged, 2 when an apply would
change something (as terraform does).

As root with a daemon running (on the directories given, if any), the
daemon plans and this process prints its plan: no kernel read here.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bondd import protocol
from bondd.cli import context, output, remote

TYPE_CHECKING = False  # not typing's: importing typing costs a thin command's start
if TYPE_CHECKING:
    from typing import Any

    from bondd.model import DesiredState

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
    from bondd import config  # noqa: PLC0415

    dirs = args.config_dirs or list(config.DEFAULT_DIRS)
    staged: dict[Path, bytes] = {}
    for source in getattr(args, "files", []):
        try:
            staged[dirs[0] / source.name] = source.read_bytes()
        except OSError as exc:
            output.die(f"cannot read {source}: {exc.strerror}", exit_code=os.EX_NOINPUT)
    return config.load_desired(dirs, explicit=bool(args.config_dirs), staged=staged)


def run(args: argparse.Namespace) -> int:
    answer = _daemons(args) if os.geteuid() == 0 else None
    if answer is None:
        return _here(args)
    if args.json:
        output.print_json(answer["plan"])
    else:
        print(answer["text"])
    return EX_CHANGES if args.detailed_exitcode and not answer["empty"] else 0


def _daemons(args: argparse.Namespace) -> dict[str, Any] | None:
    """The running daemon's plan (it validates too), or None: plan here."""
    files = []
    for source in getattr(args, "files", []):
        try:
            files.append({"name": source.name, "content": source.read_text()})
        except (OSError, UnicodeDecodeError):
            return None  # said as the local plan says it
    if getattr(args, "strict", False):
        return None  # the daemon does not judge --strict
    question = {"cmd": "plan", "files": files} | context.named_directories(args)
    answer = protocol.try_request(args.run_dir, question, timeout=30)
    if answer is None or answer.get("text", "") is None:
        return None
    return remote.check(answer)


def _here(args: argparse.Namespace) -> int:
    from bondd.engine.converge import make_plan  # noqa: PLC0415
    from bondd.render import plan as render  # noqa: PLC0415

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
