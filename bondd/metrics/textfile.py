"""Replace a textfile atomically, so node_exporter never reads half of one.

A temporary file in the same directory (created with O_EXCL, so two writers
never share one), written, made readable by node_exporter's own user
(bondd runs with UMask=0077), fsynced, renamed over the target, and the
directory fsynced: a reader sees the old file or the new one.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

MODE = 0o644


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, MODE)
    try:
        try:
            os.fchmod(fd, MODE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dirfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)
