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
from bondd.errors import StagingError


def check_name(name: str) -> None:
    """StagingError unless the loader would read a file of this name."""
    if reason := unread_reason(name):
        raise StagingError(f"will not install {name!r}: {reason}", "rename it to NAME.yaml")


def installed_text(target: Path) -> str | None:
    """The text of the file `target` would replace (None: there is none), or StagingError."""
    if not target.exists() and not target.is_symlink():
        return None
    try:
        return limits.read_bounded(target).decode("utf-8")
    except limits.FileRefusedError as exc:
        raise StagingError(f"{target}: {exc.message}", exc.hint) from None
    except UnicodeDecodeError:
        raise StagingError(
            f"{target} is not UTF-8, so it could not be restored on rollback",
            "fix or remove it first",
        ) from None
