"""What an importer found in another tool's files, every value with the FILE:LINE it came from.

Each source parser (one module per tool) fills an `Imported`; `render`
turns it into bondd YAML and `bondctl takeover` reads its `claims` to know
which of the other tool's files or stanzas describe the imported
interfaces. A value the parser could read but bondd does not carry over
(DHCP, DNS, other device kinds) becomes a `Skipped` entry, printed as a
comment; a value it cannot translate raises `SourceError`. Pure.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from bondd.errors import BonddError
from bondd.model import OptionValue, RouteSpec


@dataclass(frozen=True, order=True)
class At:
    """A line of a source file."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class SourceError(BonddError):
    """A value in the other tool's files that bondd cannot translate; nothing was changed.

    Fix or remove the value at the FILE:LINE named (or configure that bond in
    bondd's YAML by hand) and run the import again.
    """

    exit_code = os.EX_DATAERR

    def __init__(self, at: At | None, message: str, hint: str | None = None) -> None:
        super().__init__(f"{at}: {message}" if at else message, hint)
        self.at = at


T = TypeVar("T")


@dataclass(frozen=True)
class Sourced(Generic[T]):
    """A value and where it was set; `note` is printed as a YAML comment beside it."""

    value: T
    at: At
    note: str = ""


@dataclass
class ImportedPort:
    """A port as the source matched it: by device name, by MAC, or by a name pattern."""

    id: str
    at: At
    name: str | None = None
    macaddress: str | None = None
    options: dict[str, Sourced[int]] = field(default_factory=dict)  # queue_id, prio


@dataclass
class ImportedVlan:
    name: str
    id: int
    at: At
    addresses: list[Sourced[str]] = field(default_factory=list)
    routes: list[Sourced[RouteSpec]] = field(default_factory=list)
    mtu: Sourced[int] | None = None
    macaddress: Sourced[str] | None = None


@dataclass
class ImportedBond:
    name: str
    at: At
    ports: list[ImportedPort] = field(default_factory=list)
    options: dict[str, Sourced[OptionValue]] = field(default_factory=dict)  # kernel names
    addresses: list[Sourced[str]] = field(default_factory=list)
    routes: list[Sourced[RouteSpec]] = field(default_factory=list)
    mtu: Sourced[int] | None = None
    macaddress: Sourced[str] | None = None
    vlans: list[ImportedVlan] = field(default_factory=list)

    @property
    def interfaces(self) -> list[str]:
        """Device names that belong to this bond in the source (ports named by pattern excluded)."""
        names = [self.name, *(v.name for v in self.vlans)]
        names += [p.name for p in self.ports if p.name and not _is_glob(p.name)]
        return names


@dataclass(frozen=True)
class Skipped:
    """Something the source configures that bondd does not carry over."""

    at: At
    what: str  # the setting, as the source spells it
    why: str  # who handles it instead, or why bondd leaves it


@dataclass(frozen=True)
class Claim:
    """Lines of a source file that configure one interface (takeover reads these).

    `first`..`last` are 1-based and inclusive; a whole-file claim has
    `whole=True` (networkd files, NetworkManager profiles).
    """

    path: Path
    interface: str
    first: int = 1
    last: int = 0
    whole: bool = True


@dataclass
class Imported:
    source: str  # networkmanager, networkd, ifupdown, ifcfg, netplan
    files: list[Path] = field(default_factory=list)  # read, in order
    bonds: list[ImportedBond] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)

    def skip(self, at: At, what: str, why: str) -> None:
        self.skipped.append(Skipped(at, what, why))

    def bond(self, name: str) -> ImportedBond | None:
        return next((b for b in self.bonds if b.name == name), None)


def _is_glob(name: str) -> bool:
    return any(c in name for c in "*?[")
