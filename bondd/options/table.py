"""The one table of kernel bond options: a row per option, and the lookups.

Adding an option is adding a row here (see docs/ARCHITECTURE.md); what a
row's fields mean is in bondd/options/row.py. Sources:
Documentation/networking/bonding.rst and drivers/net/bonding/bond_options.c
(bond_opts[] and its value tables), netplan's YAML reference for the key
names. Pure module: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bondd.model import BondMode
from bondd.options.row import (
    ALL_MODES,
    INT_MAX,
    INT_MIN,
    MAX_TARGETS,
    BondOption,
    Kind,
    Restriction,
    Scope,
    Unit,
)

_AB_TLB_ALB = frozenset({BondMode.ACTIVE_BACKUP, BondMode.BALANCE_TLB, BondMode.BALANCE_ALB})
_LACP = frozenset({BondMode.IEEE_802_3AD})
# ARP monitoring does not exist in these modes (they need the port's carrier).
_ARP_MODES = ALL_MODES - {BondMode.IEEE_802_3AD, BondMode.BALANCE_TLB, BondMode.BALANCE_ALB}

_OFF_ON: Mapping[str, int] = MappingProxyType({"off": 0, "on": 1})


def _values(*words: str) -> Mapping[str, int]:
    return MappingProxyType({word: number for number, word in enumerate(words)})


OPTIONS: tuple[BondOption, ...] = (
    BondOption(
        kernel_name="mode",
        yaml_keys=("mode",),
        ifla="IFLA_BOND_MODE",
        ifla_id=1,
        in_pyroute2=True,
        kind=Kind.ENUM,
        default="balance-rr",
        restriction=Restriction.NEEDS_NO_PORTS_AND_DOWN,
        values=_values(*(m.value for m in BondMode)),
        summary="bonding mode; changing it releases all ports and resets arp_validate",
    ),
    BondOption(
        kernel_name="active_slave",
        yaml_keys=(),
        ifla="IFLA_BOND_ACTIVE_SLAVE",
        ifla_id=2,
        in_pyroute2=True,
        kind=Kind.INTERFACE,
        default="",
        modes=_AB_TLB_ALB,
        summary="the port carrying traffic now; run-time state, so not desired state"
        " (the kernel moves it on every failover); failover drills set it",
    ),
    BondOption(
        kernel_name="miimon",
        yaml_keys=("mii-monitor-interval",),
        ifla="IFLA_BOND_MIIMON",
        ifla_id=3,
        in_pyroute2=True,
        kind=Kind.INT,
        default=100,
        minimum=0,
        maximum=INT_MAX,
        unit=Unit.MS,
        summary="MII link check interval; the kernel default is 100 unless arp_interval"
        " is set; setting it disables ARP monitoring",
    ),
    BondOption(
        kernel_name="updelay",
        yaml_keys=("up-delay",),
        ifla="IFLA_BOND_UPDELAY",
        ifla_id=4,
        in_pyroute2=True,
        kind=Kind.INT,
        default=0,
        minimum=0,
        maximum=INT_MAX,
        unit=Unit.MS,
        rounded_to="miimon",
        summary="wait before using a port whose link came up",
    ),
    BondOption(
        kernel_name="downdelay",
        yaml_keys=("down-delay",),
        ifla="IFLA_BOND_DOWNDELAY",
        ifla_id=5,
        in_pyroute2=True,
        kind=Kind.INT,
        default=0,
        minimum=0,
        maximum=INT_MAX,
        unit=Unit.MS,
        rounded_to="miimon",
        summary="wait before dropping a port whose link went down",
    ),
    BondOption(
        kernel_name="use_carrier",
        yaml_keys=("use-carrier",),
        ifla="IFLA_BOND_USE_CARRIER",
        ifla_id=6,
        in_pyroute2=True,
        kind=Kind.BOOL,
        default=1,
        values=_OFF_ON,
        netplan=False,
        summary="use netif_carrier_ok for miimon; recent kernels accept only 1",
    ),
    BondOption(
        kernel_name="arp_interval",
        yaml_keys=("arp-interval",),
        ifla="IFLA_BOND_ARP_INTERVAL",
        ifla_id=7,
        in_pyroute2=True,
        kind=Kind.INT,
        default=0,
        minimum=0,
        maximum=INT_MAX,
        unit=Unit.MS,
        modes=_ARP_MODES,
        effective_modes=_ARP_MODES,
        summary="ARP link check interval; setting it disables MII monitoring",
    ),
    BondOption(
        kernel_name="arp_ip_target",
        yaml_keys=("arp-ip-targets",),
        ifla="IFLA_BOND_ARP_IP_TARGET",
        ifla_id=8,
        in_pyroute2=True,
        kind=Kind.IPV4_LIST,
        default=(),
        max_items=MAX_TARGETS,
        effective_modes=_ARP_MODES,
        summary="IPv4 addresses the ARP monitor probes",
    ),
    BondOption(
        kernel_name="arp_validate",
        yaml_keys=("arp-validate",),
        ifla="IFLA_BOND_ARP_VALIDATE",
        ifla_id=9,
        in_pyroute2=True,
        kind=Kind.ENUM,
        default="none",
        modes=_ARP_MODES,
        effective_modes=_ARP_MODES,
        values=_values(
            "none", "active", "backup", "all", "filter", "filter_active", "filter_backup"
        ),
        summary="which ARP replies count as proof of life",
    ),
    BondOption(
        kernel_name="arp_all_targets",
        yaml_keys=("arp-all-targets",),
        ifla="IFLA_BOND_ARP_ALL_TARGETS",
        ifla_id=10,
        in_pyroute2=True,
        kind=Kind.ENUM,
        default="any",
        effective_modes=_ARP_MODES,
        values=_values("any", "all"),
        summary="a port is up when any / all ARP targets answer",
    ),
    BondOption(
        kernel_name="primary",
        yaml_keys=("primary",),
        ifla="IFLA_BOND_PRIMARY",
        ifla_id=11,
        in_pyroute2=True,
        kind=Kind.INTERFACE,
        default="",
        modes=_AB_TLB_ALB,
        effective_modes=_AB_TLB_ALB,
        summary="preferred port, named by its id in `interfaces`; the kernel layer"
        " translates the id to the matched device (IFLA takes an ifindex)",
    ),
    BondOption(
        kernel_name="primary_reselect",
        yaml_keys=("primary-reselect-policy",),
        ifla="IFLA_BOND_PRIMARY_RESELECT",
        ifla_id=12,
        in_pyroute2=True,
        kind=Kind.ENUM,
        default="always",
        effective_modes=_AB_TLB_ALB,
        values=_values("always", "better", "failure"),
        summary="when the primary port takes over again after it recovers",
    ),
    BondOption(
        kernel_name="fail_over_mac",
        yaml_keys=("fail-over-mac-policy",),
        ifla="IFLA_BOND_FAIL_OVER_MAC",
        ifla_id=13,
        in_pyroute2=True,
        kind=Kind.ENUM,
        default="none",
        restriction=Restriction.NEEDS_NO_PORTS,
        effective_modes=frozenset({BondMode.ACTIVE_BACKUP}),
        values=_values("none", "active", "follow"),
        summary="how active-backup handles port MAC addresses on failover",
    ),
    BondOption(
        kernel_name="xmit_hash_policy",
        yaml_keys=("transmit-hash-policy",),
        ifla="IFLA_BOND_XMIT_HASH_POLICY",
        ifla_id=14,
        in_pyroute2=True,
        kind=Kind.ENUM,
        default="layer2",
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
        kernel_name="resend_igmp",
        yaml_keys=("resend-igmp",),
        ifla="IFLA_BOND_RESEND_IGMP",
        ifla_id=15,
        in_pyroute2=True,
        kind=Kind.INT,
        default=1,
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
        kernel_name="num_grat_arp",
        yaml_keys=("gratuitous-arp", "gratuitious-arp"),
        ifla="IFLA_BOND_NUM_PEER_NOTIF",
        ifla_id=16,
        in_pyroute2=True,
        kind=Kind.INT,
        default=1,
        minimum=0,
        maximum=255,
        sysfs_aliases=("num_unsol_na",),
        effective_modes=frozenset({BondMode.ACTIVE_BACKUP}),
        summary="peer notifications (gratuitous ARP and unsolicited NA) after a failover;"
        " num_unsol_na is the same kernel setting",
    ),
    BondOption(
        kernel_name="all_slaves_active",
        yaml_keys=("all-members-active", "all-slaves-active"),
        ifla="IFLA_BOND_ALL_SLAVES_ACTIVE",
        ifla_id=17,
        in_pyroute2=True,
        kind=Kind.BOOL,
        default=0,
        values=_OFF_ON,
        summary="deliver duplicate frames received on inactive ports",
    ),
    BondOption(
        kernel_name="min_links",
        yaml_keys=("min-links",),
        ifla="IFLA_BOND_MIN_LINKS",
        ifla_id=18,
        in_pyroute2=True,
        kind=Kind.INT,
        default=0,
        minimum=0,
        maximum=INT_MAX,
        summary="ports that must be up before the bond asserts carrier",
    ),
    BondOption(
        kernel_name="lp_interval",
        yaml_keys=("learn-packet-interval",),
        ifla="IFLA_BOND_LP_INTERVAL",
        ifla_id=19,
        in_pyroute2=True,
        kind=Kind.INT,
        default=1,
        minimum=1,
        maximum=INT_MAX,
        unit=Unit.S,
        effective_modes=frozenset({BondMode.BALANCE_TLB, BondMode.BALANCE_ALB}),
        summary="seconds between learning packets to each port's switch",
    ),
    BondOption(
        kernel_name="packets_per_slave",
        yaml_keys=("packets-per-member", "packets-per-slave"),
        ifla="IFLA_BOND_PACKETS_PER_SLAVE",
        ifla_id=20,
        in_pyroute2=True,
        kind=Kind.INT,
        default=1,
        minimum=0,
        maximum=65535,
        modes=frozenset({BondMode.BALANCE_RR}),
        effective_modes=frozenset({BondMode.BALANCE_RR}),
        summary="packets sent on a port before moving to the next; 0 = random",
    ),
    BondOption(
        kernel_name="lacp_rate",
        yaml_keys=("lacp-rate",),
        ifla="IFLA_BOND_AD_LACP_RATE",
        ifla_id=21,
        in_pyroute2=True,
        kind=Kind.ENUM,
        default="slow",
        restriction=Restriction.NEEDS_DOWN,
        modes=_LACP,
        effective_modes=_LACP,
        values=_values("slow", "fast"),
        summary="LACPDU rate asked of the partner: slow 30 s, fast 1 s",
    ),
    BondOption(
        kernel_name="ad_select",
        yaml_keys=("ad-select",),
        ifla="IFLA_BOND_AD_SELECT",
        ifla_id=22,
        in_pyroute2=True,
        kind=Kind.ENUM,
        default="stable",
        restriction=Restriction.NEEDS_DOWN,
        effective_modes=_LACP,
        values=_values("stable", "bandwidth", "count"),
        summary="how the active aggregator is chosen",
    ),
    BondOption(
        kernel_name="ad_actor_sys_prio",
        yaml_keys=("ad-actor-sys-prio",),
        ifla="IFLA_BOND_AD_ACTOR_SYS_PRIO",
        ifla_id=24,
        in_pyroute2=True,
        kind=Kind.INT,
        default=65535,
        minimum=1,
        maximum=65535,
        modes=_LACP,
        effective_modes=_LACP,
        netplan=False,
        summary="LACP system priority",
    ),
    BondOption(
        kernel_name="ad_user_port_key",
        yaml_keys=("ad-user-port-key",),
        ifla="IFLA_BOND_AD_USER_PORT_KEY",
        ifla_id=25,
        in_pyroute2=True,
        kind=Kind.INT,
        default=0,
        minimum=0,
        maximum=1023,
        restriction=Restriction.NEEDS_DOWN,
        modes=_LACP,
        effective_modes=_LACP,
        netplan=False,
        summary="upper 10 bits of the LACP port key",
    ),
    BondOption(
        kernel_name="ad_actor_system",
        yaml_keys=("ad-actor-system",),
        ifla="IFLA_BOND_AD_ACTOR_SYSTEM",
        ifla_id=26,
        in_pyroute2=True,
        kind=Kind.MAC,
        default="00:00:00:00:00:00",
        modes=_LACP,
        effective_modes=_LACP,
        netplan=False,
        summary="LACP system id (a unicast MAC); all zeros means the bond's own MAC",
    ),
    BondOption(
        kernel_name="tlb_dynamic_lb",
        yaml_keys=("tlb-dynamic-lb",),
        ifla="IFLA_BOND_TLB_DYNAMIC_LB",
        ifla_id=27,
        in_pyroute2=True,
        kind=Kind.BOOL,
        default=1,
        restriction=Restriction.NEEDS_DOWN,
        modes=frozenset({BondMode.BALANCE_TLB, BondMode.BALANCE_ALB}),
        effective_modes=frozenset({BondMode.BALANCE_TLB, BondMode.BALANCE_ALB}),
        values=_OFF_ON,
        netplan=False,
        summary="shuffle flows by load (1) or hash them (0); balance-alb needs a newer kernel",
    ),
    BondOption(
        kernel_name="peer_notif_delay",
        yaml_keys=("peer-notify-delay",),
        ifla="IFLA_BOND_PEER_NOTIF_DELAY",
        ifla_id=28,
        in_pyroute2=False,
        kind=Kind.INT,
        default=0,
        minimum=0,
        maximum=300000,
        unit=Unit.MS,
        rounded_to="miimon",
        effective_modes=frozenset({BondMode.ACTIVE_BACKUP}),
        netplan=False,
        summary="delay between peer notifications after a failover",
    ),
    BondOption(
        kernel_name="lacp_active",
        yaml_keys=("lacp-active",),
        ifla="IFLA_BOND_AD_LACP_ACTIVE",
        ifla_id=29,
        in_pyroute2=False,
        kind=Kind.BOOL,
        default=1,
        restriction=Restriction.NEEDS_DOWN,
        modes=_LACP,
        effective_modes=_LACP,
        values=_OFF_ON,
        netplan=False,
        summary="send LACPDUs (on) or only answer them (off)",
    ),
    BondOption(
        kernel_name="arp_missed_max",
        yaml_keys=("arp-missed-max",),
        ifla="IFLA_BOND_MISSED_MAX",
        ifla_id=30,
        in_pyroute2=False,
        kind=Kind.INT,
        default=2,
        minimum=1,
        maximum=255,
        modes=_ARP_MODES,
        effective_modes=_ARP_MODES,
        netplan=False,
        summary="missed ARP intervals before a port is down",
    ),
    BondOption(
        kernel_name="ns_ip6_target",
        yaml_keys=("ns-ip6-targets",),
        ifla="IFLA_BOND_NS_IP6_TARGET",
        ifla_id=31,
        in_pyroute2=False,
        kind=Kind.IPV6_LIST,
        default=(),
        max_items=MAX_TARGETS,
        effective_modes=_ARP_MODES,
        netplan=False,
        summary="IPv6 addresses the ARP monitor probes with neighbour solicitations",
    ),
    BondOption(
        kernel_name="coupled_control",
        yaml_keys=("coupled-control",),
        ifla="IFLA_BOND_COUPLED_CONTROL",
        ifla_id=32,
        in_pyroute2=False,
        kind=Kind.BOOL,
        default=1,
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
        kernel_name="queue_id",
        yaml_keys=("port-queue-id",),
        ifla="IFLA_BOND_SLAVE_QUEUE_ID",
        ifla_id=5,
        in_pyroute2=True,
        kind=Kind.INT,
        default=0,
        minimum=0,
        maximum=65535,
        scope=Scope.PORT,
        netplan=False,
        summary="transmit queue mapped to this port (must be below the bond's tx_queues, 16)",
    ),
    BondOption(
        kernel_name="prio",
        yaml_keys=("port-priority",),
        ifla="IFLA_BOND_SLAVE_PRIO",
        ifla_id=9,
        in_pyroute2=False,
        kind=Kind.INT,
        default=0,
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
