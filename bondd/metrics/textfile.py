"""Replace a textfile atomically, so node_exporter never reads half of one.

Written through bondd.atomic (a temporary file in the same directory,
fsynced, renamed over the target, the directory fsynced: a reader sees the
old file or the new one), readable by node_exporter's own user (bondd runs
with UMask=0077).
"""

from __future__ import annotations

from pathlib import Path

from bondd import atomic

MODE = 0o644


def write_atomic(path: Path, data: bytes) -> None:
    """node_exporter's directory must exist: bondd never creates it."""
    atomic.write_bytes(path, data, MODE, parents=False)
