"""The one table of kernel bond options, and conversions between their spellings.

Each `BondOption` row says everything bondd knows about one kernel option:
its YAML key(s) (netplan's name first, then netplan's older spellings, or
bondd's own kebab-case name where netplan has none), sysfs file, netlink
attribute, value type and range, named<->numeric values, kernel default,
modes the kernel accepts it in, modes where it has any effect, and whether
changing it needs the bond down or without ports. Validation, planning,
the kernel reader and writer and the renderers all read this table; there is
no second one. Sources: Documentation/networking/bonding.rst and
drivers/net/bonding/bond_options.c (bond_opts[] and its value tables),
netplan's YAML reference for the key names.

Values have three spellings: YAML (what a person writes: `100ms`, `true`,
`layer3+4`), canonical (what the kernel prints in sysfs and what `BondSpec`
holds: ints, the enum word, tuples of addresses) and netlink (numbers).
Pure module: no I/O.
"""

from __future__ import annotations

import enum
import ipaddress
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bondd import scalars
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
_AB_TLB_ALB = frozenset({BondMode.ACTIVE_BACKUP, BondMode.BALANCE_TLB, BondMode.BALANCE_ALB})
_LACP = frozenset({BondMode.IEEE_802_3AD})
# ARP monitoring does not exist in these modes (they need the port's carrier).
_ARP_MODES = ALL_MODES - {BondMode.IEEE_802_3AD, BondMode.BALANCE_TLB, BondMode.BALANCE_ALB}

_OFF_ON: Mapping[str, int] = MappingProxyType({"off": 0, "on": 1})


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


NETPLAN_MODES = frozenset(
    {
        "balance-rr",
        "active-backup",
        "balance-xor",
        "broadcast",
        "802.3ad",
        "balance-tlb",
        "balance-alb",
        "balance-tcp",
        "balance-slb",
    }
)


@dataclass(frozen=True)
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

    def sysfs_path(self, ifname: str) -> str | None:
        if not self.sysfs:
            return None
        sub = "bonding" if self.scope is Scope.BOND else "bonding_slave"
        return f"/sys/class/net/{ifname}/{sub}/{self.kernel_name}"


def _values(*words: str) -> Mapping[str, int]:
    return MappingProxyType({word: number for number, word in enumerate(words)})


OPTIONS: tuple[BondOption, ...] = (
    BondOption(
        "mode",
        ("mode",),
        "IFLA_BOND_MODE",
        1,
        True,
        Kind.ENUM,
        "balance-rr",
        restriction=Restriction.NEEDS_NO_PORTS_AND_DOWN,
        values=_values(*(m.value for m in BondMode)),
        summary="bonding mode; changing it releases all ports and resets arp_validate",
    ),
    BondOption(
        "active_slave",
        (),
        "IFLA_BOND_ACTIVE_SLAVE",
        2,
        True,
        Kind.INTERFACE,
        "",
        modes=_AB_TLB_ALB,
        summary="the port carrying traffic now; run-time state, so not desired state"
        " (the kernel moves it on every failover); failover drills set it",
    ),
    BondOption(
        "miimon",
        ("mii-monitor-interval",),
        "IFLA_BOND_MIIMON",
        3,
        True,
        Kind.INT,
        100,
        minimum=0,
        maximum=INT_MAX,
        unit=Unit.MS,
        summary="MII link check interval; the kernel default is 100 unless arp_interval"
        " is set; setting it disables ARP monitoring",
    ),
    BondOption(
        "updelay",
        ("up-delay",),
        "IFLA_BOND_UPDELAY",
        4,
        True,
        Kind.INT,
        0,
        minimum=0,
        maximum=INT_MAX,
        unit=Unit.MS,
        rounded_to="miimon",
        summary="wait before using a port whose link came up",
    ),
    BondOption(
        "downdelay",
        ("down-delay",),
        "IFLA_BOND_DOWNDELAY",
        5,
        True,
        Kind.INT,
        0,
        minimum=0,
        maximum=INT_MAX,
        unit=Unit.MS,
        rounded_to="miimon",
        summary="wait before dropping a port whose link went down",
    ),
    BondOption(
        "use_carrier",
        ("use-carrier",),
        "IFLA_BOND_USE_CARRIER",
        6,
        True,
        Kind.BOOL,
        1,
        values=_OFF_ON,
        netplan=False,
        summary="use netif_carrier_ok for miimon; recent kernels accept only 1",
    ),
    BondOption(
        "arp_interval",
        ("arp-interval",),
        "IFLA_BOND_ARP_INTERVAL",
        7,
        True,
        Kind.INT,
        0,
        minimum=0,
        maximum=INT_MAX,
        unit=Unit.MS,
        modes=_ARP_MODES,
        effective_modes=_ARP_MODES,
        summary="ARP link check interval; setting it disables MII monitoring",
    ),
    BondOption(
        "arp_ip_target",
        ("arp-ip-targets",),
        "IFLA_BOND_ARP_IP_TARGET",
        8,
        True,
        Kind.IPV4_LIST,
        (),
        max_items=MAX_TARGETS,
        effective_modes=_ARP_MODES,
        summary="IPv4 addresses the ARP monitor probes",
    ),
    BondOption(
        "arp_validate",
        ("arp-validate",),
        "IFLA_BOND_ARP_VALIDATE",
        9,
        True,
        Kind.ENUM,
        "none",
        modes=_ARP_MODES,
        effective_modes=_ARP_MODES,
        values=_values(
            "none", "active", "backup", "all", "filter", "filter_active", "filter_backup"
        ),
        summary="which ARP replies count as proof of life",
    ),
    BondOption(
        "arp_all_targets",
        ("arp-all-targets",),
        "IFLA_BOND_ARP_ALL_TARGETS",
        10,
        True,
        Kind.ENUM,
        "any",
        effective_modes=_ARP_MODES,
        values=_values("any", "all"),
        summary="a port is up when any / all ARP targets answer",
    ),
    BondOption(
        "primary",
        ("primary",),
        "IFLA_BOND_PRIMARY",
        11,
        True,
        Kind.INTERFACE,
        "",
        modes=_AB_TLB_ALB,
        effective_modes=_AB_TLB_ALB,
        summary="preferred port, named by its id in `interfaces`; the kernel layer"
        " translates the id to the matched device (IFLA takes an ifindex)",
    ),
    BondOption(
        "primary_reselect",
        ("primary-reselect-policy",),
        "IFLA_BOND_PRIMARY_RESELECT",
        12,
        True,
        Kind.ENUM,
        "always",
        effective_modes=_AB_TLB_ALB,
        values=_values("always", "better", "failure"),
        summary="when the primary port takes over again after it recovers",
    ),
    BondOption(
        "fail_over_mac",
        ("fail-over-mac-policy",),
        "IFLA_BOND_FAIL_OVER_MAC",
        13,
        True,
        Kind.ENUM,
        "none",
        restriction=Restriction.NEEDS_NO_PORTS,
        effective_modes=frozenset({BondMode.ACTIVE_BACKUP}),
        values=_values("none", "active", "follow"),
        summary="how active-backup handles port MAC addresses on failover",
    ),
    BondOption(
        "xmit_hash_policy",
        ("transmit-hash-policy",),
        "IFLA_BOND_XMIT_HASH_POLICY",
        14,
        True,
        Kind.ENUM,
        "layer2",
        effective_modes=frozenset(
            {
                BondMode.BALANCE_XOR,
                BondMode.IEEE_802_3AD,
                BondMode.BALANCE_TLB,
                BondMode.BALANCE_ALB,
            }
        ),
        values=_values("layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac"),
        summary="which header fields pick the port for a flow",
    ),
    BondOption(
        "resend_igmp",
        ("resend-igmp",),
        "IFLA_BOND_RESEND_IGMP",
        15,
        True,
        Kind.INT,
        1,
        minimum=0,
        maximum=255,
        effective_modes=frozenset(
            {
                BondMode.BALANCE_RR,
                BondMode.ACTIVE_BACKUP,
                BondMode.BALANCE_TLB,
                BondMode.BALANCE_ALB,
            }
        ),
        summary="IGMP membership reports sent after a failover",
    ),
    BondOption(
        "num_grat_arp",
        ("gratuitous-arp", "gratuitious-arp"),
        "IFLA_BOND_NUM_PEER_NOTIF",
        16,
        True,
        Kind.INT,
        1,
        minimum=0,
        maximum=255,
        sysfs_aliases=("num_unsol_na",),
        effective_modes=frozenset({BondMode.ACTIVE_BACKUP}),
        summary="peer notifications (gratuitous ARP and unsolicited NA) after a failover;"
        " num_unsol_na is the same kernel setting",
    ),
    BondOption(
        "all_slaves_active",
        ("all-members-active", "all-slaves-active"),
        "IFLA_BOND_ALL_SLAVES_ACTIVE",
        17,
        True,
        Kind.BOOL,
        0,
        values=_OFF_ON,
        summary="deliver duplicate frames received on inactive ports",
    ),
    BondOption(
        "min_links",
        ("min-links",),
        "IFLA_BOND_MIN_LINKS",
        18,
        True,
        Kind.INT,
        0,
        minimum=0,
        maximum=INT_MAX,
        summary="ports that must be up before the bond asserts carrier",
    ),
    BondOption(
        "lp_interval",
        ("learn-packet-interval",),
        "IFLA_BOND_LP_INTERVAL",
        19,
        True,
        Kind.INT,
        1,
        minimum=1,
        maximum=INT_MAX,
        unit=Unit.S,
        effective_modes=frozenset({BondMode.BALANCE_TLB, BondMode.BALANCE_ALB}),
        summary="seconds between learning packets to each port's switch",
    ),
    BondOption(
        "packets_per_slave",
        ("packets-per-member", "packets-per-slave"),
        "IFLA_BOND_PACKETS_PER_SLAVE",
        20,
        True,
        Kind.INT,
        1,
        minimum=0,
        maximum=65535,
        modes=frozenset({BondMode.BALANCE_RR}),
        effective_modes=frozenset({BondMode.BALANCE_RR}),
        summary="packets sent on a port before moving to the next; 0 = random",
    ),
    BondOption(
        "lacp_rate",
        ("lacp-rate",),
        "IFLA_BOND_AD_LACP_RATE",
        21,
        True,
        Kind.ENUM,
        "slow",
        restriction=Restriction.NEEDS_DOWN,
        modes=_LACP,
        effective_modes=_LACP,
        values=_values("slow", "fast"),
        summary="LACPDU rate asked of the partner: slow 30 s, fast 1 s",
    ),
    BondOption(
        "ad_select",
        ("ad-select",),
        "IFLA_BOND_AD_SELECT",
        22,
        True,
        Kind.ENUM,
        "stable",
        restriction=Restriction.NEEDS_DOWN,
        effective_modes=_LACP,
        values=_values("stable", "bandwidth", "count"),
        summary="how the active aggregator is chosen",
    ),
    BondOption(
        "ad_actor_sys_prio",
        ("ad-actor-sys-prio",),
        "IFLA_BOND_AD_ACTOR_SYS_PRIO",
        24,
        True,
        Kind.INT,
        65535,
        minimum=1,
        maximum=65535,
        modes=_LACP,
        effective_modes=_LACP,
        netplan=False,
        summary="LACP system priority",
    ),
    BondOption(
        "ad_user_port_key",
        ("ad-user-port-key",),
        "IFLA_BOND_AD_USER_PORT_KEY",
        25,
        True,
        Kind.INT,
        0,
        minimum=0,
        maximum=1023,
        restriction=Restriction.NEEDS_DOWN,
        modes=_LACP,
        effective_modes=_LACP,
        netplan=False,
        summary="upper 10 bits of the LACP port key",
    ),
    BondOption(
        "ad_actor_system",
        ("ad-actor-system",),
        "IFLA_BOND_AD_ACTOR_SYSTEM",
        26,
        True,
        Kind.MAC,
        "00:00:00:00:00:00",
        modes=_LACP,
        effective_modes=_LACP,
        netplan=False,
        summary="LACP system id (a unicast MAC); all zeros means the bond's own MAC",
    ),
    BondOption(
        "tlb_dynamic_lb",
        ("tlb-dynamic-lb",),
        "IFLA_BOND_TLB_DYNAMIC_LB",
        27,
        True,
        Kind.BOOL,
        1,
        restriction=Restriction.NEEDS_DOWN,
        modes=frozenset({BondMode.BALANCE_TLB, BondMode.BALANCE_ALB}),
        effective_modes=frozenset({BondMode.BALANCE_TLB, BondMode.BALANCE_ALB}),
        values=_OFF_ON,
        netplan=False,
        summary="shuffle flows by load (1) or hash them (0); balance-alb needs a newer kernel",
    ),
    BondOption(
        "peer_notif_delay",
        ("peer-notify-delay",),
        "IFLA_BOND_PEER_NOTIF_DELAY",
        28,
        False,
        Kind.INT,
        0,
        minimum=0,
        maximum=300000,
        unit=Unit.MS,
        rounded_to="miimon",
        effective_modes=frozenset({BondMode.ACTIVE_BACKUP}),
        netplan=False,
        summary="delay between peer notifications after a failover",
    ),
    BondOption(
        "lacp_active",
        ("lacp-active",),
        "IFLA_BOND_AD_LACP_ACTIVE",
        29,
        False,
        Kind.BOOL,
        1,
        restriction=Restriction.NEEDS_DOWN,
        modes=_LACP,
        effective_modes=_LACP,
        values=_OFF_ON,
        netplan=False,
        summary="send LACPDUs (on) or only answer them (off)",
    ),
    BondOption(
        "arp_missed_max",
        ("arp-missed-max",),
        "IFLA_BOND_MISSED_MAX",
        30,
        False,
        Kind.INT,
        2,
        minimum=1,
        maximum=255,
        modes=_ARP_MODES,
        effective_modes=_ARP_MODES,
        netplan=False,
        summary="missed ARP intervals before a port is down",
    ),
    BondOption(
        "ns_ip6_target",
        ("ns-ip6-targets",),
        "IFLA_BOND_NS_IP6_TARGET",
        31,
        False,
        Kind.IPV6_LIST,
        (),
        max_items=MAX_TARGETS,
        effective_modes=_ARP_MODES,
        netplan=False,
        summary="IPv6 addresses the ARP monitor probes with neighbour solicitations",
    ),
    BondOption(
        "coupled_control",
        ("coupled-control",),
        "IFLA_BOND_COUPLED_CONTROL",
        32,
        False,
        Kind.BOOL,
        1,
        restriction=Restriction.NEEDS_DOWN,
        modes=_LACP,
        effective_modes=_LACP,
        values=_OFF_ON,
        netplan=False,
        summary="coupled LACP mux state machine (newer kernels only)",
    ),
    # Per-port options. In YAML they are mappings port id -> value under the
    # bond's `parameters`, the way netplan spells bridge `port-priority`.
    BondOption(
        "queue_id",
        ("port-queue-id",),
        "IFLA_BOND_SLAVE_QUEUE_ID",
        5,
        True,
        Kind.INT,
        0,
        minimum=0,
        maximum=65535,
        scope=Scope.PORT,
        netplan=False,
        summary="transmit queue mapped to this port (must be below the bond's tx_queues, 16)",
    ),
    BondOption(
        "prio",
        ("port-priority",),
        "IFLA_BOND_SLAVE_PRIO",
        9,
        False,
        Kind.INT,
        0,
        minimum=INT_MIN,
        maximum=INT_MAX,
        modes=_AB_TLB_ALB,
        effective_modes=_AB_TLB_ALB,
        scope=Scope.PORT,
        netplan=False,
        sysfs=False,
        summary="failover preference among ports, higher first (newer kernels; netlink only)",
    ),
)

_BY_KERNEL: Mapping[str, BondOption] = MappingProxyType(
    {o.kernel_name: o for o in OPTIONS} | {a: o for o in OPTIONS for a in o.sysfs_aliases}
)
_BY_YAML: Mapping[tuple[Scope, str], BondOption] = MappingProxyType(
    {(o.scope, k): o for o in OPTIONS for k in o.yaml_keys}
)
_BY_IFLA: Mapping[tuple[Scope, str], BondOption] = MappingProxyType(
    {(o.scope, o.ifla): o for o in OPTIONS}
)

# Run-time state that has a row in the table but is never desired state: the
# kernel moves the active port on every failover.
RUNTIME_OPTIONS = frozenset({"active_slave"})

BOND_OPTIONS: tuple[BondOption, ...] = tuple(o for o in OPTIONS if o.scope is Scope.BOND)
PORT_OPTIONS: tuple[BondOption, ...] = tuple(o for o in OPTIONS if o.scope is Scope.PORT)


def by_kernel_name(name: str) -> BondOption:
    """The row for a sysfs name (aliases such as num_unsol_na included). KeyError if unknown."""
    return _BY_KERNEL[name]


def by_yaml_key(key: str, scope: Scope = Scope.BOND) -> BondOption | None:
    """The row for a YAML key under a bond's `parameters`, any accepted spelling."""
    return _BY_YAML.get((scope, key))


def by_ifla(attr: str) -> BondOption | None:
    """The row for a netlink attribute name (IFLA_BOND_* or IFLA_BOND_SLAVE_*)."""
    scope = Scope.PORT if attr.startswith("IFLA_BOND_SLAVE_") else Scope.BOND
    return _BY_IFLA.get((scope, attr))


def yaml_keys() -> frozenset[str]:
    """Every YAML key accepted under a bond's `parameters`."""
    return frozenset(key for _, key in _BY_YAML)


# --- YAML -> canonical -------------------------------------------------------

_DURATION_UNITS: Mapping[str, float] = MappingProxyType(
    {
        "us": 0.001,
        "usec": 0.001,
        "ms": 1,
        "msec": 1,
        "s": 1000,
        "sec": 1000,
        "second": 1000,
        "seconds": 1000,
        "m": 60_000,
        "min": 60_000,
        "minute": 60_000,
        "minutes": 60_000,
        "h": 3_600_000,
        "hr": 3_600_000,
        "hour": 3_600_000,
        "hours": 3_600_000,
    }
)
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)", re.IGNORECASE)


def parse_duration(raw: object, unit: Unit) -> int:
    """A netplan/systemd time span -> whole `unit`s.

    netplan takes a bare number in the option's default unit (ms for the
    monitor intervals and delays, s for learn-packet-interval) or a string
    with suffixes such as "100ms", "1s", "1.5s", "1min 30s" (systemd.time(7)).
    """
    if isinstance(raw, bool) or raw is None:
        raise OptionValueError(f"expected a time span, got {_show(raw)}", _duration_hint(unit))
    if isinstance(raw, int):
        if raw < 0:
            raise OptionValueError(f"{raw} is negative", _duration_hint(unit))
        return raw
    if isinstance(raw, float) or not isinstance(raw, str) or not raw.strip():
        raise OptionValueError(f"expected a time span, got {_show(raw)}", _duration_hint(unit))
    text = raw.strip()
    pos = 0
    total_ms = 0.0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if m is None or m.end() == pos:
            raise OptionValueError(f"{raw!r} is not a time span", _duration_hint(unit))
        if len(m.group(1)) > _MAX_DIGITS:
            raise OptionValueError(f"{_clip(raw)} is far too large", _duration_hint(unit))
        number, suffix = float(m.group(1)), m.group(2).lower()
        if suffix == "":
            if pos != 0 or m.end() < len(text.rstrip()):
                raise OptionValueError(f"{raw!r} is not a time span", _duration_hint(unit))
            total_ms += number * (1000 if unit is Unit.S else 1)
        elif suffix in _DURATION_UNITS:
            total_ms += number * _DURATION_UNITS[suffix]
        else:
            raise OptionValueError(f"unknown time unit {suffix!r} in {raw!r}", _duration_hint(unit))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    scale = 1000 if unit is Unit.S else 1
    value = total_ms / scale
    if not math.isfinite(value) or value > INT_MAX:
        raise OptionValueError(f"{_clip(raw)} is far too large", _duration_hint(unit))
    if abs(value - round(value)) > 1e-9:
        raise OptionValueError(
            f"{raw!r} is not a whole number of {'seconds' if unit is Unit.S else 'milliseconds'}",
            _duration_hint(unit),
        )
    return round(value)


# More digits than any kernel value needs; float() and int() of longer text
# overflow (inf) or raise (Python's 4300-digit limit).
_MAX_DIGITS = 30


def _clip(raw: object) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."


def _duration_hint(unit: Unit) -> str:
    if unit is Unit.S:
        return 'write whole seconds, e.g. 1 or "1s"'
    return 'write milliseconds, e.g. 100 or "100ms" or "1s"'


def _show(raw: object) -> str:
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) >= 10**40:
        return "a number of more than 40 digits"
    if isinstance(raw, str) and len(raw) > 40:
        return _clip(raw)
    if raw is None:
        return "nothing"
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, list | tuple):
        return "a list"
    if isinstance(raw, dict):
        return "a mapping"
    return repr(raw)


def parse_yaml_value(option: BondOption, raw: object) -> OptionValue:
    """A value as written in YAML -> the kernel's canonical value, or OptionValueError."""
    key = option.yaml_key or option.kernel_name
    match option.kind:
        case Kind.INT:
            if option.unit is not Unit.NONE and option.netplan:
                # netplan takes any text here and leaves it to the renderer to parse.
                try:
                    value = parse_duration(raw, option.unit)
                except OptionValueError as exc:
                    raise NotAppliedError(exc.message, exc.hint) from exc
            elif option.unit is not Unit.NONE:
                value = parse_duration(raw, option.unit)
            elif option.netplan and isinstance(raw, str):
                number = scalars.uint(raw)
                if number is None:
                    raise OptionValueError(
                        f"invalid unsigned int value {raw!r} for {key}", _range_hint(option)
                    )
                value = number
            elif isinstance(raw, int) and not isinstance(raw, bool):
                value = raw
            elif isinstance(raw, str) and re.fullmatch(rf"\s*-?\d{{1,{_MAX_DIGITS}}}\s*", raw):
                value = int(raw)
            else:
                raise OptionValueError(
                    f"{key} must be a whole number, got {_show(raw)}", _range_hint(option)
                )
            if (option.minimum is not None and value < option.minimum) or (
                option.maximum is not None and value > option.maximum
            ):
                error = NotAppliedError if option.netplan else OptionValueError
                raise error(
                    f"{key} must be between {option.minimum} and {option.maximum}, got {value}",
                    _range_hint(option),
                )
            return value
        case Kind.BOOL:
            if isinstance(raw, bool):
                return int(raw)
            if isinstance(raw, str) and scalars.boolean(raw) is not None:
                return int(bool(scalars.boolean(raw)))
            if isinstance(raw, str) and raw.lower() in option.values:
                return option.values[raw.lower()]
            raise OptionValueError(f"{key} must be true or false, got {_show(raw)}")
        case Kind.ENUM:
            return _parse_enum(option, raw, key)
        case Kind.MAC:
            return parse_mac(raw, key)
        case Kind.IPV4_LIST | Kind.IPV6_LIST:
            return _parse_address_list(option, raw, key)
        case Kind.INTERFACE:
            if isinstance(raw, str) and raw:
                return raw
            raise OptionValueError(f"{key} must name a port of this bond, got {_show(raw)}")
    raise AssertionError(option.kind)  # pragma: no cover


def _range_hint(option: BondOption) -> str | None:
    if option.minimum is None or option.maximum is None:
        return None
    unit = {Unit.MS: " ms", Unit.S: " s", Unit.NONE: ""}[option.unit]
    return f"use a value from {option.minimum} to {option.maximum}{unit}"


def _parse_enum(option: BondOption, raw: object, key: str) -> str:
    choices = ", ".join(option.values)
    if not isinstance(raw, str):
        raise OptionValueError(f"{key} must be one of {choices}, got {_show(raw)}")
    if option.kernel_name == "mode" and raw not in NETPLAN_MODES:
        raise OptionValueError(f"unknown bond mode {raw!r}", f"use one of {choices}")
    word = raw.strip().lower()
    # People write the arp_validate words kebab-case, like every other YAML value.
    if word not in option.values and word.replace("-", "_") in option.values:
        word = word.replace("-", "_")
    if word in option.values:
        return word
    if option.kernel_name == "mode" and word in ("balance-tcp", "balance-slb"):
        raise OptionValueError(
            f"mode {raw} exists only for Open vSwitch bonds, which bondd does not manage",
            f"use one of {choices}",
        )
    if option.netplan:
        # netplan writes the word through unchecked; the kernel has no such value.
        raise NotAppliedError(
            f"{key} {raw!r} is not a value the kernel knows", f"use one of {choices}"
        )
    raise OptionValueError(f"{key} must be one of {choices}, got {raw!r}")


_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


def parse_mac(raw: object, key: str = "macaddress") -> str:
    """A MAC address -> lowercase colon form, or OptionValueError."""
    if isinstance(raw, str):
        mac = raw.strip().lower().replace("-", ":")
        if _MAC.fullmatch(mac):
            return mac
    raise OptionValueError(
        f"{key} must be a MAC address, got {_show(raw)}", "write it as XX:XX:XX:XX:XX:XX"
    )


def _parse_address_list(option: BondOption, raw: object, key: str) -> tuple[str, ...]:
    version = 4 if option.kind is Kind.IPV4_LIST else 6
    items: Iterable[object]
    if isinstance(raw, list | tuple):
        items = raw
    else:
        raise OptionValueError(
            f"{key} must be a list of IPv{version} addresses, got {_show(raw)} (expected sequence)",
            f"write it as [{raw}]" if isinstance(raw, str) else None,
        )
    out: list[str] = []
    for item in items:
        ok = isinstance(item, str) and (scalars.is_ip4 if version == 4 else scalars.is_ip6)(item)
        address = ipaddress.ip_address(item) if ok and isinstance(item, str) else None
        if address is None:
            raise OptionValueError(
                f"{key}: {_show(item)} is not an IPv{version} address",
                "ARP targets are IPv4 (arp-ip-targets), NS targets IPv6 (ns-ip6-targets)",
            )
        out.append(str(address))
    return tuple(out)


# --- canonical <-> netlink / sysfs / YAML -----------------------------------


def to_netlink(option: BondOption, value: OptionValue) -> int | str | tuple[str, ...]:
    """Canonical -> the number netlink carries (enums, bools); other kinds unchanged.

    INTERFACE values stay names: the kernel layer turns them into ifindexes.
    """
    if option.kind in (Kind.ENUM, Kind.BOOL) and isinstance(value, str):
        return option.values[value]
    return value


def from_netlink(option: BondOption, raw: object) -> OptionValue:
    """A decoded netlink attribute -> canonical."""
    if option.kind is Kind.ENUM:
        return option.words[_as_int(raw)]
    if option.kind in (Kind.INT, Kind.BOOL):
        return _as_int(raw)
    if option.kind in (Kind.IPV4_LIST, Kind.IPV6_LIST):
        if isinstance(raw, list | tuple):
            return tuple(str(ipaddress.ip_address(str(x))) for x in raw)
        return (str(ipaddress.ip_address(str(raw))),) if raw else ()
    if option.kind is Kind.MAC:
        return str(raw).lower()
    return "" if raw is None else str(raw)


def _as_int(raw: object) -> int:
    if isinstance(raw, int | str):
        return int(raw)
    raise TypeError(f"expected a number from netlink, got {raw!r}")


def parse_sysfs(option: BondOption, text: str) -> OptionValue:
    """The text of a sysfs file -> canonical.

    sysfs prints enums as "word number" ("active-backup 1", "on 1"), numbers
    and most booleans as digits, lists space-separated, no primary as "".
    """
    tokens = text.split()
    if option.kind is Kind.ENUM:
        return tokens[0]
    if option.kind is Kind.BOOL:
        last = tokens[-1]
        return int(last) if last.isdigit() else option.values[last]
    if option.kind is Kind.INT:
        return int(tokens[0])
    if option.kind in (Kind.IPV4_LIST, Kind.IPV6_LIST):
        return tuple(str(ipaddress.ip_address(t)) for t in tokens)
    if option.kind is Kind.MAC:
        return tokens[0].lower()
    return tokens[0] if tokens else ""


def to_yaml(option: BondOption, value: OptionValue) -> object:
    """Canonical -> the value bondd writes in YAML (renderers, `bondctl show`)."""
    if option.kind is Kind.BOOL:
        return bool(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def default_for(option: BondOption, options: Mapping[str, OptionValue]) -> OptionValue:
    """The kernel default given the other options set (miimon is 0 with ARP monitoring)."""
    if option.kernel_name == "miimon" and options.get("arp_interval", 0):
        return 0
    return option.default
