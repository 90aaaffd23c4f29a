"""The one way `bondctl` reports an expected failure, and its JSON output.

Commands call `die(message, hint)`; `main` turns that (and every other
`BonddError`) into `bondctl: error: message (hint)` and the error's exit
code. Tracebacks appear only with `--debug`.
"""

from __future__ import annotations

import json
import sys

from bondd.errors import BonddError
from bondd.text import one_line

TYPE_CHECKING = False  # not typing's: importing typing costs a thin command's start
if TYPE_CHECKING:
    from typing import NoReturn


class CommandError(BonddError):
    """A command could not do what was asked; the message says why and what to do."""

    def __init__(self, message: str, hint: str | None = None, exit_code: int = 1) -> None:
        super().__init__(message, hint)
        self.exit_code = exit_code


def die(message: str, hint: str | None = None, exit_code: int = 1) -> NoReturn:
    raise CommandError(message, hint, exit_code)


def print_error(message: str, hint: str | None = None) -> None:
    suffix = f" ({hint})" if hint else ""
    print(one_line(f"bondctl: error: {message}{suffix}"), file=sys.stderr)


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
