"""Desired state from YAML files: load, check structure, check meaning.

`check(dirs)` runs the three passes and returns every finding;
`load_desired(dirs)` is what the daemon and `bondctl apply` call: the
validated state, or `ConfigError` carrying the diagnostics. Pure apart from
reading the configuration files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bondd.config.digest import FilesDigest
from bondd.config.loader import DEFAULT_DIRS, load, parse_text
from bondd.config.nodes import YNode, replaced, shadowed
from bondd.config.schema import SchemaBuilder
from bondd.config.schema_base import Reporter
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


def check_tree(
    tree: YNode | None, sources: tuple[str, ...] = (), *, strict: bool = False
) -> CheckResult:
    """Schema and semantic passes over an already merged tree.

    `strict` (or `bondd: {strict: true}`): values netplan accepts that bondd
    does not apply as written are errors, not warnings.
    """
    report = Reporter()
    builder = SchemaBuilder(report)
    state = builder.build(tree, sources)
    state = validate(state, builder.index, report)
    if tree is not None:
        report.diagnostics += _shadowed_errors(tree, sources)
    if strict or state.settings.strict:
        report.strictly()
    return CheckResult(state, tuple(report.diagnostics), ())


# Each replaced value costs one more pass over the whole tree; a file rarely has any.
MAX_SHADOWED_CHECKS = 16


def _shadowed_errors(tree: YNode, sources: tuple[str, ...]) -> list[Diagnostic]:
    """Errors in values a repeated key or a later file replaced.

    netplan processes every occurrence, so `mode: bogus` followed by `mode:
    active-backup` is an error there; the merged tree holds only the last value,
    so each replaced one is checked in its place.
    """
    found: list[Diagnostic] = []
    for path, old in shadowed(tree)[:MAX_SHADOWED_CHECKS]:
        report = Reporter()
        builder = SchemaBuilder(report)
        variant = builder.build(replaced(tree, path, old), sources)
        validate(variant, builder.index, report)
        found += [
            d for d in report.diagnostics if d.severity is Severity.ERROR and d.pos == old.pos
        ]
    return found


def check_text(text: str, file: str = "<text>", *, strict: bool = False) -> CheckResult:
    """Check one YAML document given as text (tests, `bondctl apply FILE` previews)."""
    tree, found = parse_text(text, file)
    result = check_tree(tree, (file,), strict=strict)
    return CheckResult(result.state, _sorted(tuple(found) + result.diagnostics), ())


def check(
    dirs: Sequence[Path] = DEFAULT_DIRS,
    *,
    explicit: bool = False,
    staged: Mapping[Path, bytes] | None = None,
    strict: bool = False,
) -> CheckResult:
    """Read, merge and check every file; raises only ConfigDirMissingError."""
    loaded = load(dirs, explicit=explicit, staged=staged)
    result = check_tree(loaded.tree, tuple(str(f) for f in loaded.files), strict=strict)
    diagnostics = loaded.diagnostics + result.diagnostics
    return CheckResult(result.state, _sorted(diagnostics), loaded.files, loaded.digest)


def load_desired(
    dirs: Sequence[Path] = DEFAULT_DIRS,
    *,
    explicit: bool = False,
    staged: Mapping[Path, bytes] | None = None,
    strict: bool = False,
) -> DesiredState:
    """The validated desired state, or ConfigError with every diagnostic."""
    result = check(dirs, explicit=explicit, staged=staged, strict=strict)
    if not result.ok:
        raise ConfigError(result.diagnostics)
    return result.state


def load_checked(
    dirs: Sequence[Path] = DEFAULT_DIRS,
    *,
    explicit: bool = False,
    staged: Mapping[Path, bytes] | None = None,
    strict: bool = False,
) -> CheckResult:
    """One read of the files: the valid result (state and digest), or ConfigError."""
    result = check(dirs, explicit=explicit, staged=staged, strict=strict)
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
    digest = FilesDigest()
    for path in files:
        data = (staged or {}).get(path)
        if data is None:
            try:
                data = path.read_bytes()
            except OSError:
                data = b""
        digest.add(path, data)
    return digest.hexdigest()
