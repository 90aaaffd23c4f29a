"""`bondctl import --from SOURCE [PATH...]`: another manager's bonds as bondd YAML.

Reads NetworkManager keyfiles, systemd-networkd .netdev/.network files,
ifupdown's /etc/network/interfaces, RHEL ifcfg files or netplan YAML (the
source's usual places, or the PATHs given) and prints bondd YAML for the
bonds there, each value followed by the FILE:LINE it came from, and what
was not carried over listed as comments. The output is checked with
`bondctl validate`'s own code before it is printed. Touches no kernel and
changes nothing; a value that cannot be translated is an error naming its
FILE:LINE (exit 65).
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

from bondd import config, importers
from bondd.cli import output
from bondd.importers.model import At, Imported, SourceError
from bondd.model import Severity


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "import",
        parents=[parent],
        help="print another network manager's bonds as bondd YAML",
        description=__doc__.split("\n\n", 2)[1] if __doc__ else None,
    )
    add_source_arguments(parser)
    parser.set_defaults(run=run)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="source",
        required=True,
        choices=sorted(importers.SOURCES),
        help="the manager whose files to read",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        type=Path,
        help="files or directories to read instead of the source's usual places",
    )


def imported_yaml(args: argparse.Namespace) -> tuple[Imported, str]:
    """Parse the source, render, and check the rendering as `bondctl validate` would."""
    found = importers.load(args.source, args.paths)
    text = importers.render(found, f"bondctl import --from {args.source}")
    result = config.check_text(text, "<import>")
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    if errors:
        first = errors[0]
        raise SourceError(
            _origin(text, first.pos.line if first.pos else 0), first.message, first.hint
        )
    return found, text


def _origin(text: str, line: int) -> At | None:
    """The source FILE:LINE that the rendered line `line` names in its comment."""
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return None
    match = re.search(r"#\s*(\S+):(\d+)(;|$)", lines[line - 1])
    return At(match.group(1), int(match.group(2))) if match else None


def run(args: argparse.Namespace) -> int:
    found, text = imported_yaml(args)
    if not found.bonds:
        where = ", ".join(str(p) for p in args.paths or importers.DEFAULT_PATHS[args.source])
        output.die(f"no bond found in {where}", "name the files with PATH", exit_code=os.EX_NOINPUT)
    print(text, end="")
    return 0
