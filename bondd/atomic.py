"""Replace a file atomically and durably, without trusting its directory.

Write to a new temporary file in the same directory, opened with O_CREAT |
O_EXCL | O_NOFOLLOW under an unpredictable name (so a planted file or link
of a guessed name is never written through), with an explicit mode (never
the umask's), fsync it, rename it over the target, then fsync the directory
so the rename itself survives a power cut. Pure apart from the one file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_bytes(path: Path, data: bytes, mode: int = 0o600, *, parents: bool = True) -> None:
    """Replace `path` with `data`; `parents=False`: a missing directory is an error."""
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have taken bits away
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
