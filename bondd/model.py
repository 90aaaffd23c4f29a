"""Immutable values shared by the desired side (YAML) and the actual side (kernel).

The planner diffs a `DesiredState` against an `ActualState`, so both use the
same field names and the kernel's option names (`miimon`, `xmit_hash_policy`)
with the kernel's canonical values (ints, the sysfs word for enums). Everything
here is frozen and hashable, so states can be compared, hashed and kept as
snapshots without defensive copies. Pure: imports nothing from bondd.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from bondd.text import clipped, one_line

# A diagnostic's message and hint are cut to these lengths: a value quoted
# from a file may be a megabyte long.
MESSAGE_LIMIT, HINT_LIMIT = 200, 120

# An option value as the kernel reports it: ints for numbers and booleans,
# the kernel's word for enums ("active-backup"), a lowercase MAC string, a
# port id for `primary`, a tuple of address strings for target lists.
OptionValue = int | str | tuple[str, ...]


class BondMode(enum.StrEnum):
    """Bonding modes, spelled as the kernel prints them; `.number` is the uapi value."""

    BALANCE_RR = "balance-rr"
    ACTIVE_BACKUP = "active-backup"
    BALANCE_XOR = "balance-xor"
    BROADCAST = "broadcast"
    IEEE_802_3AD = "802.3ad"
    BALANCE_TLB = "balance-tlb"
    BALANCE_ALB = "balance-alb"

    @property
    def number(self) -> int:
        return list(BondMode).index(self)

    @classmethod
    def from_number(cls, number: int) -> BondMode:
        return list(BondMode)[number]


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, order=True)
class SourcePos:
    """Where a value came from: file path, 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One finding about the configuration, printed as `FILE:LINE:COL: severity: message (hint)`."""

    severity: Severity
    message: str
    pos: SourcePos | None = None
    hint: str | None = None

    def format(self) -> str:
        where = f"{self.pos}: " if self.pos else ""
        hint = f" ({clipped(self.hint, HINT_LIMIT)})" if self.hint else ""
        return one_line(f"{where}{self.severity}: {clipped(self.message, MESSAGE_LIMIT)}{hint}")

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.pos.file if self.pos else None,
            "line": self.pos.line if self.pos else None,
            "column": self.pos.column if self.pos else None,
            "severity": str(self.severity),
            "message": self.message,
            "hint": self.hint,
        }


class BondOptions(Mapping[str, OptionValue]):
    """A frozen, hashable mapping kernel option name -> canonical value.

    On the desired side it holds only what the YAML set (desire is partial);
    on the actual side, everything the kernel reported.
    """

    __slots__ = ("_hash", "_items")

    def __init__(self, items: Mapping[str, OptionValue] | None = None) -> None:
        self._items: dict[str, OptionValue] = dict(sorted((items or {}).items()))
        self._hash: int | None = None

    def __getitem__(self, key: str) -> OptionValue:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(self._items.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BondOptions):
            return self._items == other._items
        if isinstance(other, Mapping):
            return self._items == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"BondOptions({self._items!r})"

    def with_values(self, **changes: OptionValue) -> BondOptions:
        """A copy with some options replaced (kernel names as keywords)."""
        return BondOptions({**self._items, **changes})


@dataclass(frozen=True)
class PortMatch:
    """How a port id finds its device: exact name, name glob, permanent MAC, driver.

    All given properties must match (netplan semantics). With no `match:` in
    the YAML the id itself is the exact name.
    """

    name: str | None = None
    macaddress: str | None = None  # lowercase, permanent MAC
    driver: tuple[str, ...] = ()  # globs, any may match

    @property
    def is_glob(self) -> bool:
        return self.name is not None and any(c in self.name for c in "*?[")

    @property
    def exact_name(self) -> str | None:
        """The device name when this match can only ever select that one name."""
        return self.name if self.name is not None and not self.is_glob else None


@dataclass(frozen=True)
class PortSpec:
    """A port of a bond: its netplan id, how to find it, its per-port bond options."""

    id: str
    match: PortMatch
    queue_id: int | None = None  # IFLA_BOND_SLAVE_QUEUE_ID; None: kernel default 0
    prio: int | None = None  # IFLA_BOND_SLAVE_PRIO; None: kernel default 0


@dataclass(frozen=True)
class RouteSpec:
    """A static route through a bond or VLAN. `to` is a normalised prefix."""

    to: str  # "0.0.0.0/0" for default; always with a prefix length
    via: str | None = None
    metric: int | None = None
    table: int | None = None  # None: main
    on_link: bool = False
    source: str | None = None  # netplan `from`: preferred source address
    scope: str | None = None  # global | link | host
    type: str = "unicast"
    mtu: int | None = None

    @property
    def is_default(self) -> bool:
        return self.to in ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class VlanSpec:
    """A VLAN on a bond."""

    name: str
    id: int
    link: str
    addresses: tuple[str, ...] = ()  # normalised CIDR, e.g. "10.0.100.5/24"
    routes: tuple[RouteSpec, ...] = ()
    mtu: int | None = None
    macaddress: str | None = None


@dataclass(frozen=True)
class BondSpec:
    """A bond as the YAML wants it. `options` holds only what the YAML set."""

    name: str
    ports: tuple[PortSpec, ...] = ()
    options: BondOptions = field(default_factory=BondOptions)
    addresses: tuple[str, ...] = ()
    routes: tuple[RouteSpec, ...] = ()
    mtu: int | None = None
    macaddress: str | None = None
    vlans: tuple[VlanSpec, ...] = ()
    # Snapshots restore the kernel's enslave order too (it decides the first
    # port); YAML never asks for it, so a reordered list causes no churn.
    ordered_ports: bool = False

    @property
    def mode(self) -> BondMode:
        """The mode the bond will run in: the YAML's, else the kernel default."""
        value = self.options.get("mode", BondMode.BALANCE_RR.value)
        return BondMode(str(value))

    def port(self, port_id: str) -> PortSpec | None:
        return next((p for p in self.ports if p.id == port_id), None)


class ProbeType(enum.StrEnum):
    PING = "ping"
    ARP = "arp"
    TCP = "tcp"


@dataclass(frozen=True)
class ProbeSpec:
    """A connectivity check that must still pass after a change."""

    type: ProbeType
    target: str
    via: str | None = None  # interface to probe through
    port: int | None = None  # tcp only
    timeout: float | None = None  # seconds; None: the engine's default


@dataclass(frozen=True)
class Settings:
    """The `bondd:` section."""

    apply_on_change: bool = True
    lacp_gate: bool = True
    probes: tuple[ProbeSpec, ...] = ()
    metrics_textfile: str | None = None  # None: node_exporter's directory, when it exists
    strict: bool = False  # values netplan passes but the kernel cannot take are errors


@dataclass(frozen=True)
class DesiredState:
    """Everything the configuration files ask for, validated and normalised."""

    bonds: tuple[BondSpec, ...] = ()
    settings: Settings = field(default_factory=Settings)
    sources: tuple[str, ...] = ()  # files read, in merge order

    def bond(self, name: str) -> BondSpec | None:
        return next((b for b in self.bonds if b.name == name), None)


# --- the actual side -------------------------------------------------------


@dataclass(frozen=True)
class PortState:
    """A link as the kernel reports it: a bond's port, or a link a port match may select.

    The fields after `prio` are run-time facts (carrier, MII, LACP) that
    status and the LACP gate read; the planner never diffs them.
    """

    name: str
    ifindex: int
    perm_macaddress: str | None = None
    macaddress: str | None = None
    up: bool = False  # administratively up (IFF_UP)
    queue_id: int = 0
    prio: int = 0
    kind: str = ""  # veth, dummy, ... ; "" for plain hardware
    master: str | None = None  # the bond (or bridge) it is enslaved to
    mtu: int | None = None
    addresses: tuple[str, ...] = ()  # static addresses, normalised CIDR
    carrier: bool = False
    mii_up: bool | None = None  # None: not a bond port
    link_failures: int = 0
    backup: bool = False  # IFLA_BOND_SLAVE_STATE: 1 = backup, 0 = active
    ad_aggregator_id: int | None = None
    ad_actor_state: int | None = None
    ad_partner_state: int | None = None

    @property
    def identity_mac(self) -> str | None:
        """The MAC a `match: {macaddress}` compares with: permanent when known."""
        return self.perm_macaddress or self.macaddress


@dataclass(frozen=True)
class AdInfo:
    """IFLA_BOND_AD_INFO: the bond's active LACP aggregator and its partner."""

    aggregator: int
    num_ports: int
    actor_key: int
    partner_key: int
    partner_mac: str


@dataclass(frozen=True)
class BondState:
    """A bond as the kernel reports it; `options` holds every option read."""

    name: str
    ifindex: int
    ports: tuple[PortState, ...] = ()
    options: BondOptions = field(default_factory=BondOptions)
    addresses: tuple[str, ...] = ()
    routes: tuple[RouteSpec, ...] = ()
    mtu: int | None = None
    macaddress: str | None = None
    vlans: tuple[VlanSpec, ...] = ()
    up: bool = False
    carrier: bool = False
    active_port: str | None = None  # run-time; the kernel moves it on failover
    ad_info: AdInfo | None = None

    @property
    def mode(self) -> BondMode:
        return BondMode(str(self.options.get("mode", BondMode.BALANCE_RR.value)))

    def port(self, name: str) -> PortState | None:
        return next((p for p in self.ports if p.name == name), None)


@dataclass(frozen=True)
class ActualState:
    """What the kernel has: its bonds, and every other link (bond ports included).

    `links` is what a port match selects from; a bond's `ports` are the same
    links seen as members of that bond.
    """

    bonds: tuple[BondState, ...] = ()
    links: tuple[PortState, ...] = ()
    unsupported: frozenset[str] = frozenset()  # options this kernel does not have

    def bond(self, name: str) -> BondState | None:
        return self._bonds_by_name.get(name)

    def link(self, name: str) -> PortState | None:
        """Any non-bond link by name, enslaved or not."""
        return self._links_by_name.get(name)

    # Looked up per VLAN by the planner and diff: 1,000 VLANs would make a
    # linear search quadratic. Names are unique in the kernel; built once.
    @cached_property
    def _bonds_by_name(self) -> dict[str, BondState]:
        return {b.name: b for b in reversed(self.bonds)}

    @cached_property
    def _links_by_name(self) -> dict[str, PortState]:
        return {p.name: p for p in reversed(self.links)}
