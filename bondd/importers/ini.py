"""The `[Section]` / `Key=Value` files of NetworkManager (keyfile) and systemd-networkd.

Both formats repeat sections (`[Address]`, `[Route]`) and keys (`Address=`),
so a file is a list of sections, each a list of entries, every entry with
its line. Comments start with `#` or `;`; a line ending in a backslash
continues on the next (systemd). Pure apart from reading the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bondd.importers.model import At, SourceError


@dataclass(frozen=True)
class Entry:
    key: str
    value: str
    at: At


@dataclass
class Section:
    name: str
    at: At
    entries: list[Entry] = field(default_factory=list)

    def get(self, key: str) -> Entry | None:
        """The last assignment of `key` (later ones win in both formats)."""
        found = [e for e in self.entries if e.key == key]
        return found[-1] if found else None

    def all(self, key: str) -> list[Entry]:
        """Every assignment of a list key; an empty one clears those before it (systemd)."""
        found: list[Entry] = []
        for entry in self.entries:
            if entry.key == key:
                found = [] if entry.value == "" else [*found, entry]
        return found


@dataclass
class IniFile:
    path: Path
    sections: list[Section]

    def section(self, name: str) -> Section | None:
        """The sections of that name merged (systemd reads repeated [Network] as one)."""
        found = [s for s in self.sections if s.name == name]
        if not found:
            return None
        return Section(name, found[0].at, [e for s in found for e in s.entries])

    def each(self, name: str) -> list[Section]:
        return [s for s in self.sections if s.name == name]


def read(path: Path) -> IniFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(At(str(path), 0), f"cannot read the file: {exc}") from None
    return parse(text, str(path))


def parse(text: str, file: str) -> IniFile:
    sections: list[Section] = []
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        start = number + 1
        line = lines[number].strip()
        number += 1
        while line.endswith("\\") and number < len(lines):
            line = line[:-1] + " " + lines[number].strip()
            number += 1
        if not line or line[0] in "#;":
            continue
        at = At(file, start)
        if line.startswith("["):
            if not line.endswith("]"):
                raise SourceError(at, f"unterminated section header {line!r}")
            sections.append(Section(line[1:-1].strip(), at))
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise SourceError(at, f"expected KEY=VALUE, got {line!r}")
        if not sections:
            raise SourceError(at, f"{key.strip()}= comes before any [Section]")
        sections[-1].entries.append(Entry(key.strip(), value.strip(), at))
    return IniFile(Path(file), sections)
