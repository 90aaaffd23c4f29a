"""The errors bondd raises on purpose, and what the user should do about each.

Every failure a person can act on is a `BonddError` subclass whose docstring
says what to do. The CLI turns them into one clean message and an exit code;
anything else escaping is a bug and shows a traceback only with `--debug`.
Pure module: no I/O, no imports from the rest of bondd except the model.
"""

from __future__ import annotations

from bondd.model import Diagnostic, Severity


class BonddError(Exception):
    """Base of every expected bondd failure.

    `message` says what went wrong, `hint` (optional) how to fix it, and
    `exit_code` is what `bondctl` exits with (sysexits.h values).
    """

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(BonddError):
    """The configuration files are invalid; nothing was applied.

    Fix every error listed in `diagnostics` (each names file, line and column)
    and run `bondctl validate` again.
    """

    exit_code = 65  # EX_DATAERR

    def __init__(self, diagnostics: tuple[Diagnostic, ...]) -> None:
        errors = [d for d in diagnostics if d.severity is Severity.ERROR]
        count = len(errors)
        super().__init__(
            f"{count} error{'s' if count != 1 else ''} in the configuration",
            "run `bondctl validate` to see them all",
        )
        self.diagnostics = diagnostics


class ConfigDirMissingError(BonddError):
    """A configuration directory named explicitly does not exist.

    Check the `--config-dir` argument: create the directory or fix the path.
    The default directories (/etc/bondd.d, /run/bondd.d) may be missing.
    """

    exit_code = 66  # EX_NOINPUT
