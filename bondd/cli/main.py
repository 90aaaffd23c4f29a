"""`bondctl` entry point: global options, subcommand dispatch, error handling.

A subcommand is a module named in `COMMANDS` exposing `register(subparsers, parent)`
(which adds its parser, passing `parents=[parent]`, and sets `run=`) and
`run(args) -> int`. Global options (`--config-dir`, `--debug`, `--json`) are
accepted before or after the subcommand: both parsers know them, under
different destinations for `--config-dir` so neither side overwrites the other.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from bondd import __version__
from bondd.cli.context import DEFAULT_RUN_DIR, DEFAULT_STATE_DIR

# Each subcommand's module, in the order `bondctl --help` lists them. Only the
# module of the command being run is imported (see `_chosen`): a module's
# imports are what that command pays for, and `bondctl status` with a daemon
# running must cost little more than starting Python.
COMMANDS: dict[str, str] = {
    "validate": "validate",
    "plan": "plan",
    "apply": "apply",
    "status": "status",
    "show": "show",
    "confirm": "confirm",
    "rollback": "confirm",  # one module registers both
    "failover": "failover",
    "lacp": "lacp",
    "doctor": "doctor",
    "metrics": "metrics",
    "import": "import_cmd",
    "takeover": "takeover",
}
# Global options that take a value: what follows them is not the command.
_VALUED = ("--config-dir", "--state-dir", "--run-dir")


class _Parser(argparse.ArgumentParser):
    """argparse's parser, with the terminal's width asked once per process.

    argparse makes a help formatter for every argument it adds (to check the
    metavar), and each asks `shutil` for the terminal's width: `shutil`'s
    imports (bz2, lzma) and an ioctl per argument, in every command, for a
    help text most runs never print. Subparsers are made of this class too.
    """

    def _get_formatter(self) -> argparse.HelpFormatter:
        # The formatter classes all take `width`; typeshed's protocol names only `prog`.
        return self.formatter_class(prog=self.prog, width=_width())  # type: ignore[call-arg]


_WIDTH: list[int] = []


def _width() -> int:
    """What `shutil.get_terminal_size().columns - 2` is (argparse's default), without shutil."""
    if not _WIDTH:
        try:
            columns = int(os.environ["COLUMNS"])
        except (KeyError, ValueError):
            columns = 0
        if columns <= 0:
            try:
                columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
            except (AttributeError, ValueError, OSError):
                columns = 0
        _WIDTH.append((columns or 80) - 2)
    return _WIDTH[0]


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


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (with `only`) one holding just that command's module."""
    parser = _Parser(
        prog="bondctl",
        description="Validate, plan and apply bondd's bonding configuration.",
    )
    parser.add_argument("--version", action="version", version=f"bondctl {__version__}")
    _global_options(parser, "config_dir_before")
    parent = _Parser(add_help=False)
    _global_options(parent, "config_dir_after")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = [COMMANDS[only]] if only else list(dict.fromkeys(COMMANDS.values()))
    for name in modules:
        command: ModuleType = importlib.import_module(f"bondd.cli.{name}")
        command.register(subparsers, parent)
    return parser


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand `argv` names, found without building any parser; None if unsure.

    Skips the global options and their values (`--run-dir DIR`, `--run-dir=DIR`,
    or an abbreviation argparse would accept). Help, the version, `--` and an
    unknown word get the whole parser, whose message then lists every command.
    """
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        if token in ("-h", "--help", "--version", "--"):
            return None
        if token.startswith("-"):
            skip = "=" not in token and len(token) > 2 and any(o.startswith(token) for o in _VALUED)
            continue
        return token if token in COMMANDS else None
    return None


def _normalise(args: argparse.Namespace) -> argparse.Namespace:
    dirs = [*getattr(args, "config_dir_before", []), *getattr(args, "config_dir_after", [])]
    args.config_dirs = dirs
    args.state_dir_given = hasattr(args, "state_dir")  # else the daemon's own will do
    args.state_dir = getattr(args, "state_dir", DEFAULT_STATE_DIR)
    args.run_dir = getattr(args, "run_dir", DEFAULT_RUN_DIR)
    args.debug = getattr(args, "debug", False)
    args.json = getattr(args, "json", False)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_chosen(argv))
    args = _normalise(parser.parse_args(argv))
    try:
        result: int = args.run(args)
        return result
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`bondctl ... | head`); stop quietly like other tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # sorted in _failed: the thin paths import no bondd.errors
        return _failed(args, exc)


def _failed(args: argparse.Namespace, exc: Exception) -> int:
    """A BonddError as one message and its exit code; anything else as an internal error."""
    from bondd.cli import output  # noqa: PLC0415
    from bondd.errors import BonddError  # noqa: PLC0415

    if not isinstance(exc, BonddError):
        if args.debug:
            raise exc
        output.print_error(f"internal error: {exc!r}", "run with --debug for a traceback")
        return os.EX_SOFTWARE
    if args.debug:
        import traceback  # noqa: PLC0415 (its imports cost a thin command's start)

        traceback.print_exception(exc)
    # An invalid configuration names each finding (file, line, column) above the summary.
    for diagnostic in getattr(exc, "diagnostics", ()):
        print(diagnostic.format(), file=sys.stderr)
    output.print_error(exc.message, exc.hint)
    return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
