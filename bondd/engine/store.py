"""bondd's persistent state in --state-dir: versioned JSON, written atomically.

Written with write-to-temp, fsync, rename, fsync of the directory, so a
crash or power cut leaves the old file or the new one, never half of either.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bondd import atomic
from bondd.engine.pending import Pending
from bondd.engine.serial import desired_from_json, desired_to_json
from bondd.errors import BonddError
from bondd.model import DesiredState
from bondd.plan.ownership import Ownership
from bondd.protocol import DEFAULT_STATE_DIR

FORMAT_VERSION = 1

T = TypeVar("T")


class StateError(BonddError):
    """A state file is unreadable or from an unknown version.

    Look at the file named in the message; move it away only if you know the
    kernel state it describes (bondd then treats every bond as not its own).
    """

    exit_code = os.EX_IOERR


STATE_MODE = 0o600  # root's state: ownership, committed config, pending snapshot


def write_json(path: Path, data: dict[str, Any]) -> None:
    # One line: with `indent` json falls back to its pure-Python encoder, which
    # made the pending record and the committed config of 64 bonds most of a
    # small change's time (`python3 -m json.tool FILE` shows it indented).
    text = json.dumps({"version": FORMAT_VERSION, **data}, sort_keys=True) + "\n"
    atomic.write_bytes(path, text.encode(), STATE_MODE)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise StateError(f"{path} has an unknown format version")
    return data


def parse(path: Path, data: dict[str, Any], build: Callable[[dict[str, Any]], T]) -> T:
    """A record of the right version but the wrong shape (edited by hand, or
    written by a build that got its format wrong) is a StateError naming the
    file, never a crash of whoever reads it."""
    try:
        return build(data)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, AssertionError) as exc:
        why = f"{type(exc).__name__}: {exc}"
        raise StateError(f"{path} is not a record bondd can read ({why})") from exc


def _stamp(path: Path) -> tuple[int, int, int, int] | None:
    """What changes whenever the file is replaced (atomic writes make a new inode)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size


class Store:
    def __init__(self, state_dir: Path = DEFAULT_STATE_DIR) -> None:
        self.dir = state_dir
        # The daemon asks for the committed config and the ownership on every
        # drift pass; parsing 1,000 VLANs' JSON each time is most of a
        # one-VLAN repair. Kept while the file's inode, mtime and size stay.
        self._committed: tuple[tuple[int, int, int, int], tuple[str, DesiredState]] | None = None
        self._ownership: tuple[tuple[int, int, int, int], Ownership] | None = None

    @property
    def ownership_path(self) -> Path:
        return self.dir / "ownership.json"

    def ownership(self) -> Ownership:
        stamp = _stamp(self.ownership_path)
        if stamp is not None and self._ownership is not None and self._ownership[0] == stamp:
            return self._ownership[1]
        data = read_json(self.ownership_path)
        path = self.ownership_path
        found = Ownership() if data is None else parse(path, data, Ownership.from_json)
        self._ownership = (stamp, found) if stamp is not None else None
        return found

    def save_ownership(self, ownership: Ownership) -> None:
        self._ownership = None
        write_json(self.ownership_path, ownership.to_json())

    # -- the pending transaction ---------------------------------------------

    @property
    def pending_path(self) -> Path:
        return self.dir / "pending.json"

    def pending(self) -> Pending | None:
        data = read_json(self.pending_path)
        return None if data is None else parse(self.pending_path, data, Pending.from_json)

    def save_pending(self, pending: Pending) -> None:
        write_json(self.pending_path, pending.to_json())

    def drop_pending(self) -> None:
        self.pending_path.unlink(missing_ok=True)

    # -- the committed config and the rejected proposals ----------------------

    @property
    def committed_path(self) -> Path:
        return self.dir / "committed.json"

    def committed(self) -> tuple[str, DesiredState] | None:
        """The last committed config: its hash and the desired state."""
        stamp = _stamp(self.committed_path)
        if stamp is not None and self._committed is not None and self._committed[0] == stamp:
            return self._committed[1]
        data = read_json(self.committed_path)
        if data is None:
            return None
        found = parse(
            self.committed_path, data, lambda d: (str(d["hash"]), desired_from_json(d["desired"]))
        )
        self._committed = (stamp, found) if stamp is not None else None
        return found

    def save_committed(self, proposal_hash: str, desired: DesiredState) -> None:
        self._committed = None
        write_json(
            self.committed_path, {"hash": proposal_hash, "desired": desired_to_json(desired)}
        )
        self.unreject(proposal_hash)

    @property
    def rejected_path(self) -> Path:
        return self.dir / "rejected.json"

    def rejected(self) -> dict[str, str]:
        """Rejected proposal hashes -> why."""
        data = read_json(self.rejected_path)
        if data is None:
            return {}
        return parse(
            self.rejected_path,
            data,
            lambda d: {str(k): str(v) for k, v in dict(d.get("rejected", {})).items()},
        )

    def reject(self, proposal_hash: str, reason: str) -> None:
        rejected = self.rejected()
        rejected[proposal_hash] = reason
        write_json(self.rejected_path, {"rejected": rejected})

    def unreject(self, proposal_hash: str) -> None:
        rejected = self.rejected()
        if rejected.pop(proposal_hash, None) is not None:
            write_json(self.rejected_path, {"rejected": rejected})
