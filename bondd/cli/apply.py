"""`bondctl apply`: validate, plan, show, ask, execute, verify.

Exit 0 only when the kernel was read back and matches the configuration.
Without --yes it asks first; end of input counts as no.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from bondd.cli import context, output, render
from bondd.engine.converge import make_plan, run_plan

EX_DECLINED = 1


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "apply",
        parents=[parent],
        help="make the kernel match the configuration",
        description="Validate the configuration, show the plan, ask, apply it and verify the"
        " result by reading the kernel back.",
    )
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask before applying")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    desired = context.desired(args)
    context.require_root("bondctl apply")
    with context.kernel(args) as k:
        the_plan, _ = make_plan(desired, k.reader, k.store)
        if not args.json:
            print(render.plan_text(the_plan))
        if the_plan.empty:
            if args.json:
                output.print_json({"result": "converged", "operations": 0})
            return 0
        if not args.yes and not _confirmed(len(the_plan.ops)):
            print("nothing applied", file=sys.stderr)
            return EX_DECLINED
        started = time.monotonic()
        run_plan(the_plan, k.writer, k.reader, k.store, k.clock)
        elapsed = time.monotonic() - started
    if args.json:
        output.print_json(
            {
                "result": "applied",
                "operations": len(the_plan.ops),
                "seconds": round(elapsed, 3),
                **render.plan_json(the_plan),
            }
        )
    else:
        print(f"applied {len(the_plan.ops)} operations in {elapsed:.2f}s; kernel verified")
    return 0


def _confirmed(count: int) -> bool:
    print(f"Apply these {count} operations? [y/N] ", end="", flush=True)
    answer = sys.stdin.readline()
    if not answer:
        print()
        return False
    return answer.strip().lower() in ("y", "yes")
