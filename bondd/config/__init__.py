"""Desired state from YAML files: load, check structure, check meaning.

`check(dirs)` runs the three passes and returns every finding;
`load_desired(dirs)` is what the daemon and `bondctl apply` call: the
validated state, or `ConfigError` carrying the diagnostics. Pure apart from
reading the configuration files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bondd.config.loader import DEFAULT_DIRS, load, parse_text
from bondd.config.nodes import YNode
from bondd.config.schema import Reporter, SchemaBuilder
from bondd.config.validate import validate
from bondd.errors import ConfigError
from bondd.model import DesiredState, Diagnostic, Severity

__all__ = [
    "DEFAULT_DIRS",
    "CheckResult",
    "check",
    "check_text",
    "check_tree",
    "content_hash",
    "load_checked",
    "load_desired",
]


@dataclass(frozen=True)
class CheckResult:
    state: DesiredState
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[Path, ...]
    digest: str = ""  # the proposal's identity: a hash of exactly the bytes checked

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


def check_tree(tree: YNode | None, sources: tuple[str, ...] = ()) -> CheckResult:
    """Schema and semantic passes over an already merged tree."""
    report = Reporter()
    builder = SchemaBuilder(report)
    state = builder.build(tree, sources)
    state = validate(state, builder.index, report)
    return CheckResult(state, tuple(report.diagnostics), ())


def check_text(text: str, file: str = "<text>") -> CheckResult:
    """Check one YAML document given as text (tests, `bondctl apply FILE` previews)."""
    tree, found = parse_text(text, file)
    result = check_tree(tree, (file,))
    return CheckResult(result.state, _sorted(tuple(found) + result.diagnostics), ())


def check(
    dirs: Sequence[Path] = DEFAULT_DIRS,
    *,
    explicit: bool = False,
    staged: Mapping[Path, bytes] | None = None,
) -> CheckResult:
    """Read, merge and check every file; raises only ConfigDirMissingError."""
    loaded = load(dirs, explicit=explicit, staged=staged)
    result = check_tree(loaded.tree, tuple(str(f) for f in loaded.files))
    diagnostics = loaded.diagnostics + result.diagnostics
    return CheckResult(result.state, _sorted(diagnostics), loaded.files, loaded.digest)


def load_desired(
    dirs: Sequence[Path] = DEFAULT_DIRS,
    *,
    explicit: bool = False,
    staged: Mapping[Path, bytes] | None = None,
) -> DesiredState:
    """The validated desired state, or ConfigError with every diagnostic."""
    result = check(dirs, explicit=explicit, staged=staged)
    if not result.ok:
        raise ConfigError(result.diagnostics)
    return result.state


def load_checked(
    dirs: Sequence[Path] = DEFAULT_DIRS,
    *,
    explicit: bool = False,
    staged: Mapping[Path, bytes] | None = None,
) -> CheckResult:
    """One read of the files: the valid result (state and digest), or ConfigError."""
    result = check(dirs, explicit=explicit, staged=staged)
    if not result.ok:
        raise ConfigError(result.diagnostics)
    return result


def _sorted(diagnostics: tuple[Diagnostic, ...]) -> tuple[Diagnostic, ...]:
    # File order then position reads like a compiler; file-less findings last.
    return tuple(
        sorted(
            diagnostics,
            key=lambda d: (
                d.pos is None,
                d.pos.file if d.pos else "",
                d.pos.line if d.pos else 0,
                d.pos.column if d.pos else 0,
            ),
        )
    )


def content_hash(files: Sequence[Path], staged: Mapping[Path, bytes] | None = None) -> str:
    """Every file's name and bytes, in merge order, read now.

    Not a proposal's identity (files change between reads): that is
    `CheckResult.digest`, of the bytes that were parsed.
    """
    digest = hashlib.sha256()
    for path in files:
        data = (staged or {}).get(path)
        if data is None:
            try:
                data = path.read_bytes()
            except OSError:
                data = b""
        digest.update(path.name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()[:16]
