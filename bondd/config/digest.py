"""A proposal's identity: every file's name and bytes, in merge order.

One definition, because three readers must agree on it: the loader (the
bytes it parsed), `content_hash` (the bytes on disk now) and the daemon's
"unchanged since the commit" check (which skips the parse when they match).

The version of bondd that reads the files is part of it: after an upgrade the
committed state (stored as the old release understood the files) no longer
matches, so the files are parsed and planned again by the new release, which
is a no-op when both agree.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from bondd import __version__

DIGEST_CHARS = 16


class FilesDigest:
    def __init__(self) -> None:
        self._hash = hashlib.sha256(f"bondd {__version__}\0".encode())

    def add(self, path: Path, data: bytes) -> None:
        # The name counts (a file renamed moves in the merge order); NULs keep
        # name and content from running into the next file's.
        self._hash.update(path.name.encode() + b"\0" + data + b"\0")

    def hexdigest(self) -> str:
        return self._hash.hexdigest()[:DIGEST_CHARS]
