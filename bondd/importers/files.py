"""Which files an importer reads: the source's default places, or the paths given.

A path may be a file or a directory; a directory is read in lexical order
of its entries, hidden files and editor leftovers skipped. A path named on
the command line that does not exist is an error; a default one that is
missing is not (a host without NetworkManager has no keyfiles). Pure apart
from listing directories.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from bondd.importers.model import At, SourceError

_LEFTOVERS = ("~", ".bak", ".orig", ".rpmsave", ".rpmnew", ".dpkg-old", ".dpkg-dist", ".swp")


def collect(
    paths: Sequence[Path],
    defaults: Sequence[Path],
    wanted: Callable[[Path], bool] = lambda _p: True,
) -> list[Path]:
    """Files to read, in order (the paths given, else the defaults)."""
    found: list[Path] = []
    for path in paths or defaults:
        if path.is_dir():
            found += [p for p in sorted(path.iterdir()) if p.is_file() and _usable(p) and wanted(p)]
        elif path.is_file():
            found.append(path)
        elif paths:
            raise SourceError(At(str(path), 0), "no such file or directory")
    return found


def shadowed(files: list[Path]) -> list[Path]:
    """systemd's rule: of files with the same name, the first directory's wins; then by name."""
    chosen: dict[str, Path] = {}
    for path in files:
        chosen.setdefault(path.name, path)
    return [chosen[name] for name in sorted(chosen)]


def _usable(path: Path) -> bool:
    return not path.name.startswith(".") and not path.name.endswith(_LEFTOVERS)
