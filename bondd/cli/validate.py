"""`bondctl validate`: check the configuration files and print every finding.

Prints `FILE:LINE:COL: error|warning|note: message (hint)` lines and a
summary; exits 0 when valid (warnings and notes allowed), 65 when invalid,
66 when a directory named with --config-dir is missing. Touches no kernel.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from bondd import config
from bondd.cli import output
from bondd.model import Severity


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "validate",
        parents=[parent],
        help="check the configuration files, change nothing",
        description="Check the configuration files and report every error, warning and note.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    dirs = args.config_dirs or list(config.DEFAULT_DIRS)
    result = config.check(
        dirs, explicit=bool(args.config_dirs), strict=getattr(args, "strict", False)
    )
    counts = {s: sum(1 for d in result.diagnostics if d.severity is s) for s in Severity}
    if args.json:
        output.print_json(
            {
                "valid": result.ok,
                "files": [str(f) for f in result.files],
                "bonds": [b.name for b in result.state.bonds],
                "diagnostics": [d.to_json() for d in result.diagnostics],
            }
        )
    else:
        for diagnostic in result.diagnostics:
            print(diagnostic.format())
        verdict = "valid" if result.ok else "invalid"
        parts = [
            _count(len(result.files), "file"),
            _count(len(result.state.bonds), "bond"),
            _count(counts[Severity.ERROR], "error"),
            _count(counts[Severity.WARNING], "warning"),
            _count(counts[Severity.NOTE], "note"),
        ]
        print(f"{verdict}: {', '.join(parts)}")
    return os.EX_OK if result.ok else os.EX_DATAERR


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
