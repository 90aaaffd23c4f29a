"""The one way a proposal is built: read and validate the files once, hash what was read.

`bondctl apply [FILE...]` and the daemon's `apply` request both stage files
into the first config directory; the daemon's own reaction to a changed
directory stages none. All of them get their `Proposal` here, so the files
are loaded and validated exactly once per proposal.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bondd import config
from bondd.config import staging
from bondd.engine.pending import StagedFile
from bondd.engine.transaction import Proposal
from bondd.model import DesiredState


def build(
    dirs: Sequence[Path],
    *,
    explicit: bool,
    files: Sequence[tuple[str, bytes]] = (),
    strict: bool = False,
) -> Proposal:
    """The proposal of `dirs` with `files` (name, content) installed into `dirs[0]`.

    ConfigError (every diagnostic) when the result is invalid; StagingError for a
    name the loader would not read or a replaced file that could not be restored.
    """
    staged, records = stage(dirs, files)
    # The proposal's identity is the hash of exactly the bytes checked.
    result = config.load_checked(dirs, explicit=explicit, staged=staged, strict=strict)
    return Proposal(result.state, result.digest, records)


def stage(
    dirs: Sequence[Path], files: Sequence[tuple[str, bytes]]
) -> tuple[dict[Path, bytes], tuple[StagedFile, ...]]:
    """Where each file goes, and the record that restores what it replaces."""
    staged: dict[Path, bytes] = {}
    records: list[StagedFile] = []
    for name, data in files:
        staging.check_name(name)  # a name the loader skips would be committed, then ignored
        target = dirs[0] / Path(name).name
        staged[target] = data
        old = staging.installed_text(target)
        records.append(StagedFile(str(target), data.decode("utf-8", "replace"), old))
    return staged, tuple(records)


def committed_again(
    dirs: Sequence[Path], files: Sequence[tuple[str, bytes]], committed: tuple[str, DesiredState]
) -> Proposal:
    """The proposal of files whose bytes hash to the committed proposal's: its state,
    without parsing them again (the caller compared the hash)."""
    _, records = stage(dirs, files)
    return Proposal(committed[1], committed[0], records)
