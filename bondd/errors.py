"""The errors bondd raises on purpose, and what the user should do about each.

Every failure a person can act on is a `BonddError` subclass whose docstring
says what to do. The CLI turns them into one clean message and an exit code;
anything else escaping is a bug and shows a traceback only with `--debug`.
Pure module: no I/O, no imports from the rest of bondd except the model.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing's: importing typing costs a thin command's start

if TYPE_CHECKING:  # imported where used: `bondctl status` through the daemon needs no model
    from bondd.model import Diagnostic


class BonddError(Exception):
    """Base of every expected bondd failure.

    `message` says what went wrong, `hint` (optional) how to fix it, and
    `exit_code` is what `bondctl` exits with (sysexits.h values).
    """

    exit_code: int = 1
    # True when retrying cannot help until the configuration files change
    # (the daemon's backoff never retries those); False: a lock, EBUSY, a race.
    permanent: bool = False

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(BonddError):
    """The configuration files are invalid; nothing was applied.

    Fix every error listed in `diagnostics` (each names file, line and column)
    and run `bondctl validate` again.
    """

    exit_code = os.EX_DATAERR
    permanent = True

    def __init__(self, diagnostics: tuple[Diagnostic, ...]) -> None:
        from bondd.model import Severity  # noqa: PLC0415

        errors = [d for d in diagnostics if d.severity is Severity.ERROR]
        count = len(errors)
        super().__init__(
            f"{count} error{'s' if count != 1 else ''} in the configuration",
            "run `bondctl validate` to see them all",
        )
        self.diagnostics = diagnostics


class StagingError(BonddError):
    """A file `bondctl apply FILE` cannot install: a name the loader skips, or an
    installed file that could not be restored on rollback. Rename or fix it."""

    exit_code = os.EX_DATAERR


class ConfigDirMissingError(BonddError):
    """A configuration directory named explicitly does not exist.

    Check the `--config-dir` argument: create the directory or fix the path.
    The default directories (/etc/bondd.d, /run/bondd.d) may be missing.
    """

    exit_code = os.EX_NOINPUT
    permanent = True


class PlanError(BonddError):
    """The configuration is valid but cannot be applied to this host as it is.

    Each line of `problems` names the bond and what stands in the way (a port
    that does not exist, a port owned by a bond bondd does not manage, an
    option the running kernel lacks). Fix the host or the configuration.
    """

    exit_code = os.EX_DATAERR
    permanent = True

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems), "nothing was changed")
        self.problems = tuple(problems)


class KernelOpError(BonddError):
    """The kernel refused one operation of a plan.

    `op` is the operation, `errno` the kernel's error number. The apply
    stopped there; see the report for what was done before it.
    """

    exit_code = os.EX_SOFTWARE  # the kernel and bondd disagree about a rule

    def __init__(self, op: object, code: int, reason: str) -> None:
        describe = getattr(op, "describe", None)
        what = describe() if callable(describe) else str(op)
        super().__init__(f"{what}: {reason} (errno {code})", _errno_hint(code))
        self.op = op
        self.errno = code
        self.reason = reason


def _errno_hint(code: int) -> str | None:
    return {
        16: "the kernel wants the bond down for this change",
        39: "the kernel wants the bond without ports for this change",
        13: "the bond's mode does not support this option",
        19: "a link named in the configuration does not exist",
        17: "a link or address of that name already exists",
    }.get(code)


class ApplyError(BonddError):
    """An apply stopped at an operation the kernel refused.

    The message names the operation and the kernel's reason; the host may be
    partly changed (until the transaction rolls it back).
    """

    exit_code = os.EX_SOFTWARE

    def __init__(self, cause: KernelOpError, done: int, not_done: int) -> None:
        super().__init__(
            f"{cause.message}; {done} operation(s) done before it, {not_done} not done",
            cause.hint,
        )
        self.cause = cause


class VerifyError(BonddError):
    """After applying, the kernel does not show what the configuration asks for.

    Each line of `differences` is one field: what was wanted, what the kernel
    has. A kernel that silently adjusts a value shows up here.
    """

    exit_code = os.EX_SOFTWARE

    def __init__(self, differences: list[str]) -> None:
        super().__init__(
            "the kernel does not match the configuration after applying: " + "; ".join(differences),
            "run `bondctl plan` to see what is still different",
        )
        self.differences = tuple(differences)


class GuardError(BonddError):
    """The dead-man timer (the guard process) could not be armed; nothing was changed.

    Every transaction starts a guard before its first write, so that the host
    returns to its old state if the process running it dies. Check that the
    guard starts (`python3 -I -m bondd.cli.guard --help`) and try again.
    """

    exit_code = os.EX_SOFTWARE


class Interrupted(BaseException):
    """A signal (SIGHUP, SIGTERM, SIGINT) arrived during a transaction: roll back now.

    A BaseException, so that no `except BonddError` on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        import signal  # noqa: PLC0415 (here: every bondctl imports this module, few get a signal)

        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f"interrupted by {self.name}")
