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
from bondd.engine.pending import StagedFile
from bondd.engine.transaction import Proposal
from bondd.errors import ConfigError


def build(
    dirs: Sequence[Path], *, explicit: bool, files: Sequence[tuple[str, bytes]] = ()
) -> Proposal:
    """The proposal of `dirs` with `files` (name, content) installed into `dirs[0]`.

    ConfigError (every diagnostic) when the result is invalid.
    """
    staged: dict[Path, bytes] = {}
    records: list[StagedFile] = []
    for name, data in files:
        target = dirs[0] / Path(name).name
        staged[target] = data
        old = target.read_text() if target.exists() else None
        records.append(StagedFile(str(target), data.decode("utf-8", "replace"), old))
    result = config.check(dirs, explicit=explicit, staged=staged)
    if not result.ok:
        raise ConfigError(result.diagnostics)
    return Proposal(result.state, config.content_hash(result.files, staged), tuple(records))
