"""The files a transaction stages: installed with its writes, restored byte for byte on rollback.

A takeover stages the other manager's files too (moved aside or edited) with
the command that makes that manager reload them; those commands run once
each, after the files, so a manager never reads a half-written set.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bondd import atomic
from bondd.engine.pending import StagedFile
from bondd.errors import BonddError


class HandoffError(BonddError):
    """A reload command of a staged file failed (the other manager did not let go).

    The transaction rolls back and restores that manager's files; read its
    log (`journalctl -u NetworkManager`) for why it refused.
    """

    exit_code = 70


def install(staged: tuple[StagedFile, ...]) -> None:
    for item in staged:
        _put(Path(item.path), item.new, item.mode)
    failed = _reload(staged)
    if failed:
        raise HandoffError(failed, "the other manager's files are restored; see its log")


def restore(staged: tuple[StagedFile, ...]) -> None:
    for item in staged:
        path = Path(item.path)
        _put(path, item.old, item.mode)
        if item.old is None:
            atomic.sync_directory(path.parent)
    # The files are back; a manager that fails to reload reads them at its next start.
    _reload(staged)


def _put(path: Path, text: str | None, mode: int | None) -> None:
    if text is None:
        path.unlink(missing_ok=True)
    else:
        _write_file(path, text, mode)


def _reload(staged: tuple[StagedFile, ...]) -> str | None:
    """Run each distinct reload command once; the first failure, described, or None."""
    failed = None
    for command in dict.fromkeys(item.reload for item in staged if item.reload):
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            failed = failed or f"`{' '.join(command)}` failed: {exc}"
            continue
        if done.returncode != 0:
            why = done.stderr.strip() or f"exit status {done.returncode}"
            failed = failed or f"`{' '.join(command)}` failed: {why}"
    return failed


def _write_file(path: Path, text: str, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL/O_NOFOLLOW temp file, fsync, rename, directory fsync; bytes, so a
    # restored file is byte-identical. Config is 0644 like netplan's, unless
    # the file being replaced had a mode of its own.
    atomic.write_bytes(path, text.encode("utf-8"), 0o644 if mode is None else mode)
