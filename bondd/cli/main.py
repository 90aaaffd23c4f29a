"""`bondctl` entry point: global options, subcommand dispatch, error handling.

A subcommand is a module in `COMMANDS` exposing `register(subparsers, parent)`
(which adds its parser, passing `parents=[parent]`, and sets `run=`) and
`run(args) -> int`. Global options (`--config-dir`, `--debug`, `--json`) are
accepted before or after the subcommand: both parsers know them, under
different destinations for `--config-dir` so neither side overwrites the other.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from bondd import __version__
from bondd.cli import apply as apply_cmd
from bondd.cli import confirm as confirm_cmd
from bondd.cli import doctor as doctor_cmd
from bondd.cli import failover as failover_cmd
from bondd.cli import import_cmd, output
from bondd.cli import lacp as lacp_cmd
from bondd.cli import metrics as metrics_cmd
from bondd.cli import plan as plan_cmd
from bondd.cli import show as show_cmd
from bondd.cli import status as status_cmd
from bondd.cli import takeover as takeover_cmd
from bondd.cli import validate as validate_cmd
from bondd.cli.context import DEFAULT_RUN_DIR, DEFAULT_STATE_DIR
from bondd.errors import BonddError

COMMANDS: tuple[ModuleType, ...] = (
    validate_cmd,
    plan_cmd,
    apply_cmd,
    status_cmd,
    show_cmd,
    confirm_cmd,
    failover_cmd,
    lacp_cmd,
    doctor_cmd,
    metrics_cmd,
    import_cmd,
    takeover_cmd,
)


def _global_options(parser: argparse.ArgumentParser, dest: str) -> None:
    parser.add_argument(
        "--strict",
        action="store_true",
        default=argparse.SUPPRESS,
        help="values netplan accepts but bondd cannot apply as written are errors, not"
        " warnings (like `bondd: {strict: true}`)",
    )
    parser.add_argument(
        "--config-dir",
        metavar="DIR",
        type=Path,
        action="append",
        dest=dest,
        default=argparse.SUPPRESS,
        help="read configuration from DIR instead of /etc/bondd.d and /run/bondd.d;"
        " repeatable, later directories shadow earlier ones",
    )
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        type=Path,
        default=argparse.SUPPRESS,
        help="where bondd keeps ownership and committed state (default /var/lib/bondd)",
    )
    parser.add_argument(
        "--run-dir",
        metavar="DIR",
        type=Path,
        default=argparse.SUPPRESS,
        help="where the daemon's control socket and run-time files live (default /run/bondd)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks and debugging output",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="machine-readable output where the command supports it",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bondctl",
        description="Validate, plan and apply bondd's bonding configuration.",
    )
    parser.add_argument("--version", action="version", version=f"bondctl {__version__}")
    _global_options(parser, "config_dir_before")
    parent = argparse.ArgumentParser(add_help=False)
    _global_options(parent, "config_dir_after")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers, parent)
    return parser


def _normalise(args: argparse.Namespace) -> argparse.Namespace:
    dirs = [*getattr(args, "config_dir_before", []), *getattr(args, "config_dir_after", [])]
    args.config_dirs = dirs
    args.state_dir = getattr(args, "state_dir", DEFAULT_STATE_DIR)
    args.run_dir = getattr(args, "run_dir", DEFAULT_RUN_DIR)
    args.debug = getattr(args, "debug", False)
    args.json = getattr(args, "json", False)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = _normalise(parser.parse_args(argv))
    try:
        result: int = args.run(args)
        return result
    except BonddError as exc:
        if args.debug:
            traceback.print_exc()
        # An invalid configuration names each finding (file, line, column) above the summary.
        for diagnostic in getattr(exc, "diagnostics", ()):
            print(diagnostic.format(), file=sys.stderr)
        output.print_error(exc.message, exc.hint)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`bondctl ... | head`); stop quietly like other tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:
        if args.debug:
            raise
        output.print_error(f"internal error: {exc!r}", "run with --debug for a traceback")
        return os.EX_SOFTWARE


if __name__ == "__main__":
    sys.exit(main())
