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
    staged: dict[Path, bytes] = {}
    records: list[StagedFile] = []
    for name, data in files:
        staging.check_name(name)  # a name the loader skips would be committed, then ignored
        target = dirs[0] / Path(name).name
        staged[target] = data
        old = staging.installed_text(target)
        records.append(StagedFile(str(target), data.decode("utf-8", "replace"), old))
    # The proposal's identity is the hash of exactly the bytes checked.
    result = config.load_checked(dirs, explicit=explicit, staged=staged, strict=strict)
    return Proposal(result.state, result.digest, tuple(records))
