"""What one row of the option table says, and the errors a value can raise.

A `BondOption` names one kernel bond (or per-port) option in every spelling
bondd meets it: YAML key, sysfs file, netlink attribute. The rows live in
bondd/options/table.py; the value conversions in bondd/options/codec.py.
Pure module: no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from bondd.model import BondMode, OptionValue

INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
MAX_TARGETS = 16  # BOND_MAX_ARP_TARGETS / BOND_MAX_NS_TARGETS


class Kind(enum.StrEnum):
    """How an option's value is typed."""

    INT = "int"
    ENUM = "enum"
    BOOL = "bool"  # canonical 0/1; YAML true/false
    MAC = "mac"
    IPV4_LIST = "ipv4-list"
    IPV6_LIST = "ipv6-list"
    INTERFACE = "interface"  # a port id of the same bond


class Restriction(enum.StrEnum):
    """What the kernel demands before it lets the option change (bond_opts[].flags)."""

    LIVE = "live"
    NEEDS_DOWN = "needs-down"  # BOND_OPTFLAG_IFDOWN: EBUSY while up
    NEEDS_NO_PORTS = "needs-no-ports"  # BOND_OPTFLAG_NOSLAVES: ENOTEMPTY with ports
    NEEDS_NO_PORTS_AND_DOWN = "needs-no-ports-and-down"

    @property
    def needs_down(self) -> bool:
        return self in (Restriction.NEEDS_DOWN, Restriction.NEEDS_NO_PORTS_AND_DOWN)

    @property
    def needs_no_ports(self) -> bool:
        return self in (Restriction.NEEDS_NO_PORTS, Restriction.NEEDS_NO_PORTS_AND_DOWN)


class Unit(enum.StrEnum):
    NONE = ""
    MS = "ms"
    S = "s"


class Scope(enum.StrEnum):
    BOND = "bond"  # /sys/class/net/BOND/bonding/NAME, IFLA_BOND_*
    PORT = "port"  # /sys/class/net/PORT/bonding_slave/NAME, IFLA_BOND_SLAVE_*


ALL_MODES: frozenset[BondMode] = frozenset(BondMode)


class OptionValueError(ValueError):
    """A YAML value that does not fit its option; `hint` says what would."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class NotAppliedError(OptionValueError):
    """A value netplan passes through (so the file stays valid) that the kernel cannot take.

    bondd keeps the kernel default for the option and says so in a warning
    (an error with --strict).
    """


@dataclass(frozen=True, kw_only=True)
class BondOption:
    """One kernel bond (or per-port) option."""

    kernel_name: str  # sysfs file name; the key in BondSpec.options
    yaml_keys: tuple[str, ...]  # preferred first; () = not settable from YAML
    ifla: str  # IFLA_BOND_* / IFLA_BOND_SLAVE_* attribute name (kernel and pyroute2 spelling)
    ifla_id: int  # its number in include/uapi/linux/if_link.h
    in_pyroute2: bool  # pyroute2 (0.7.2 .. 0.9.x) decodes it; else read sysfs or extend the nla map
    kind: Kind
    default: OptionValue  # kernel default for a new bond
    restriction: Restriction = Restriction.LIVE
    modes: frozenset[BondMode] = ALL_MODES  # kernel refuses (EACCES) outside these
    effective_modes: frozenset[BondMode] = ALL_MODES  # accepted but inert outside these
    minimum: int | None = None
    maximum: int | None = None
    values: Mapping[str, int] = field(default_factory=dict)  # word -> number, ENUM/BOOL
    unit: Unit = Unit.NONE
    scope: Scope = Scope.BOND
    netplan: bool = True  # netplan knows the YAML key
    sysfs: bool = True  # a sysfs file exists under kernel_name
    sysfs_aliases: tuple[str, ...] = ()  # other sysfs files for the same setting
    max_items: int | None = None  # list options
    rounded_to: str | None = None  # kernel rounds down to a multiple of this option
    summary: str = ""

    def __post_init__(self) -> None:
        # An option the kernel refuses in a mode has no effect there either.
        object.__setattr__(self, "effective_modes", self.effective_modes & self.modes)

    @property
    def yaml_key(self) -> str | None:
        """The spelling bondd writes and recommends."""
        return self.yaml_keys[0] if self.yaml_keys else None

    @property
    def words(self) -> dict[int, str]:
        """number -> word for ENUM/BOOL options."""
        return {number: word for word, number in self.values.items()}
