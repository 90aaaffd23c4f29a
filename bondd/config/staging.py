"""What `bondctl apply FILE` (and the daemon's `apply` request) may install.

A staged file replaces one in the first configuration directory and the old
content is kept to restore on rollback, as text in the pending record. So the
name must be one the loader reads (else it is "committed", then ignored by
the next read), and the file it replaces must be readable text (else it could
not be restored). Both are clear errors before anything is touched.
"""

from __future__ import annotations

from pathlib import Path

from bondd.config import limits
from bondd.config.loader import unread_reason
from bondd.errors import ConfigError
from bondd.model import Diagnostic, Severity, SourcePos


def check_name(name: str) -> None:
    """ConfigError unless the loader would read a file of this name."""
    if reason := unread_reason(name):
        raise ConfigError(
            (
                Diagnostic(
                    Severity.ERROR,
                    f"will not install {name!r}: {reason}",
                    None,
                    "rename it to NAME.yaml",
                ),
            )
        )


def installed_text(target: Path) -> str | None:
    """The text of the file `target` would replace (None: there is none), or ConfigError."""
    if not target.exists() and not target.is_symlink():
        return None
    try:
        data = limits.read_bounded(target)
        return data.decode("utf-8")
    except limits.FileRefusedError as exc:
        message, hint = exc.message, exc.hint
    except UnicodeDecodeError:
        message = "the installed file is not UTF-8, so it could not be restored on rollback"
        hint = "fix or remove it first"
    raise ConfigError((Diagnostic(Severity.ERROR, message, SourcePos(str(target), 1, 1), hint),))
