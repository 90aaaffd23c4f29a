"""What every section of the schema builder shares.

The builder (bondd/config/schema.py) is one pass over the merged YAML tree,
written as a stack of classes, one per section, each building on the one
below: this base (the state of the pass, the reporter, the small typed
readers), layer 3 (schema_layer3.py), ethernets (schema_ethernets.py),
bonds (schema_bonds.py), and at the top the builder itself (network, vlans,
bondd's own settings). Pure: no kernel, no files.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from bondd import scalars
from bondd.config import backends, grammar, keys
from bondd.config.nodes import YEntry, YMap, YNode, YScalar, YSeq
from bondd.model import (
    Diagnostic,
    PortMatch,
    RouteSpec,
    Severity,
    SourcePos,
)

IFNAMSIZ = 16
# The kernel refuses '/', ':' and whitespace (dev_valid_name) and expands '%'
# as a template (`bond%d` becomes bond0, bond1...): a name must be exactly
# the interface bondd will look for, so '%' is refused too.
_BAD_IFNAME = re.compile(r"[/:%\s]")


@dataclass
class SourceIndex:
    """Positions of things in the files, by path, e.g. ("bond", "bond0", "option", "miimon")."""

    positions: dict[tuple[str, ...], SourcePos] = field(default_factory=dict)

    def at(self, *path: str) -> SourcePos | None:
        return self.positions.get(path)

    def put(self, pos: SourcePos, *path: str) -> None:
        self.positions.setdefault(path, pos)


@dataclass(frozen=True)
class Common:
    """What bonds and vlans share."""

    addresses: tuple[str, ...]
    routes: tuple[RouteSpec, ...]
    mtu: int | None
    macaddress: str | None


@dataclass
class EthernetEntry:
    id: str
    pos: SourcePos
    match: PortMatch
    node: YMap


class Reporter:
    """Collects diagnostics; notes for keys left to others are given once per key."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.passed_through: list[int] = []  # indexes of `passed` warnings
        self._noted: set[str] = set()

    def error(self, pos: SourcePos | None, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(Severity.ERROR, message, pos, hint))

    def warning(self, pos: SourcePos | None, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(Severity.WARNING, message, pos, hint))

    def passed(self, pos: SourcePos | None, message: str, hint: str | None = None) -> None:
        """A value netplan accepts that bondd does not apply as written: a warning, or
        an error under --strict / `bondd: {strict: true}` (see `strictly`)."""
        self.passed_through.append(len(self.diagnostics))
        self.warning(pos, message, hint)

    def strictly(self) -> None:
        for index in self.passed_through:
            found = self.diagnostics[index]
            self.diagnostics[index] = replace(found, severity=Severity.ERROR)
        self.passed_through.clear()

    def note(self, pos: SourcePos | None, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(Severity.NOTE, message, pos, hint))

    def note_once(self, key: str, pos: SourcePos, who: str) -> None:
        if key not in self._noted:
            self._noted.add(key)
            self.note(pos, f"`{key}` is not applied by bondd: {who}")

    def unknown(self, key: str, pos: SourcePos, where: str, valid: Iterable[str]) -> None:
        close = difflib.get_close_matches(key, sorted(valid), n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else None
        self.error(pos, f"unknown key `{key}` in {where}", hint)


def describe(node: YNode) -> str:
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    if node.value == "":
        return "nothing"
    text = repr(node.value)  # escapes control and bidi characters
    return text if len(text) <= 60 else text[:57] + "..."


def ifname_problem(name: str) -> str | None:
    """Why `name` cannot be a Linux interface name, or None."""
    if not name:
        return "is empty"
    if len(name.encode()) >= IFNAMSIZ:
        return f"is longer than {IFNAMSIZ - 1} bytes"
    if name in (".", ".."):
        return "is '.' or '..'"
    if _BAD_IFNAME.search(name):
        return "contains '/', ':', '%' or whitespace"
    if not name.isprintable():
        # NUL, control characters and bidi overrides would reach netlink, sysfs
        # paths and log lines, or make one name look like another.
        return "contains a control, formatting or invisible character"
    return None


def is_unicast(text: str) -> bool:
    address = ipaddress.ip_address(text)
    return not (
        address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or (address.version == 4 and text == "255.255.255.255")
    )


def is_true(node: YNode) -> bool:
    return isinstance(node, YScalar) and scalars.boolean(node.value) is True


def raw_value(node: YNode) -> object:
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [raw_value(i) for i in node.items]
    return {k: raw_value(e.value) for k, e in node.entries.items()}


class SchemaBase:
    """The builder's shared state and its small typed readers; the sections build on it."""

    def __init__(self, report: Reporter) -> None:
        self.r = report
        self.index = SourceIndex()
        self.ethernets: dict[str, EthernetEntry] = {}
        self.port_of: dict[str, str] = {}  # ethernet or vlan id -> bond using it
        self.kind_of: dict[str, str] = {}  # definition id -> its section
        self.defined: set[str] = set()  # every definition id, of any kind
        self.vlan_names: set[str] = set()
        self.first_file: dict[str, int] = {}  # definition id -> index of its first file
        self.files: dict[str, int] = {}  # file name -> its place in the merge order
        self.renderers: dict[str, str] = {}  # "network" or a section -> its renderer
        self.grammar = grammar.GrammarChecker(self.r.error)

    def mapping(self, node: YNode, what: str) -> YMap | None:
        if isinstance(node, YMap):
            return node
        self.r.error(
            node.pos,
            f"{what} must be a mapping, got {describe(node)} (expected mapping)",
            "write {} for an empty one, or check the indentation",
        )
        return None

    def sequence(self, node: YNode, what: str) -> YSeq | None:
        if isinstance(node, YSeq):
            return node
        self.r.error(
            node.pos, f"{what} must be a list, got {describe(node)}", "write it as [a, b] or - a"
        )
        return None

    def string(self, node: YNode, what: str) -> str | None:
        if isinstance(node, YScalar):
            return node.value
        self.r.error(node.pos, f"{what} must be a single value, got {describe(node)}")
        return None

    def boolean(self, node: YNode, what: str) -> bool | None:
        value = scalars.boolean(node.value) if isinstance(node, YScalar) else None
        if value is None:
            self.r.error(
                node.pos,
                f"{what} must be true or false, got {describe(node)}",
                "write true or false (yes/no, on/off, y/n also work)",
            )
        return value

    def integer(self, node: YNode, what: str, low: int, high: int) -> int | None:
        """A netplan unsigned number; one netplan takes but outside low..high is not applied."""
        value = scalars.uint(node.value) if isinstance(node, YScalar) else None
        if value is None:
            self.r.error(
                node.pos,
                f"{what} must be a whole number, got {describe(node)}",
                "write base-10 digits, e.g. 1500",
            )
            return None
        if not low <= value <= high:
            self.r.passed(
                node.pos,
                f"{what} {value} is not applied: the kernel takes {low} to {high}",
                f"write a value from {low} to {high}",
            )
            return None
        return value

    def check_keys(self, node: YMap, valid: Iterable[str], where: str) -> None:
        valid_set = frozenset(valid)
        for key, entry in node.entries.items():
            if key not in valid_set:
                self.r.unknown(key, entry.key_pos, where, valid_set)

    def choice(self, node: YNode, what: str, allowed: frozenset[str]) -> str | None:
        value = node.value.lower() if isinstance(node, YScalar) else None
        if value is not None and value in allowed:
            return value
        self.r.error(
            node.pos, f"{what} must be one of {', '.join(sorted(allowed))}, got {describe(node)}"
        )
        return None

    def known(self, name: str, pos: SourcePos) -> bool:
        """netplan resolves a reference within its file and the files before it."""
        if name not in self.defined:
            return False
        return self.first_file.get(name, 0) <= self.files.get(pos.file, 0)

    def backend(self, name: str, kind: str, node: YMap) -> None:
        renderer = backends.renderer_of(
            node, self.renderers.get(kind), self.renderers.get("network")
        )
        backends.check(name, node, renderer, self.r.error)

    def renderer(self, entry: YEntry, who: str, extra: frozenset[str] = frozenset()) -> None:
        text = self.string(entry.value, "renderer")
        if text is not None and text not in grammar.RENDERERS | extra:
            self.r.error(
                entry.value.pos,
                f"unknown renderer '{text}'",
                "use networkd or NetworkManager",
            )
        self.r.note_once("renderer", entry.key_pos, who)

    def others(
        self,
        node: YMap,
        extra: Mapping[str, grammar.Rule],
        renderers: frozenset[str] = frozenset(),
    ) -> None:
        """Check the values of keys bondd leaves to others, as netplan does."""
        for key, entry in node.entries.items():
            rule = grammar.COMMON.get(key) or extra.get(key)
            if key == "renderer":
                self.renderer(entry, keys.OTHERS_COMMON["renderer"], renderers)
            elif rule is not None:
                self.grammar.check(key, entry.value, rule)
        if "ipv6-address-generation" in node.entries and "ipv6-address-token" in node.entries:
            self.r.error(
                node.entries["ipv6-address-token"].key_pos,
                "ipv6-address-generation and ipv6-address-token are mutually exclusive",
                "keep one of them",
            )
