"""Turn rtnetlink link, address and route messages into bondd's `ActualState`.

Pure: bytes in (bondd.kernel.codec messages), values out, no socket and no
sysfs (the port order comes in as a function). The whole-host read and the
per-bond read both end here, so a bond reads the same whichever way it was
fetched, and the unit tests feed it captured kernel dumps.

Values come out canonical (see bondd.options), so they compare equal to a
normalised desired state; what the planner may never call drift (dynamic
and IPv6 link-local addresses, kernel and DHCP routes) is left out here.
"""

from __future__ import annotations

import ipaddress
import socket
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bondd.kernel import codec
from bondd.kernel.rawlink import BOND_WIRE, PORT_WIRE, decode
from bondd.model import (
    ActualState,
    AdInfo,
    BondOptions,
    BondState,
    OptionValue,
    PortState,
    RouteSpec,
    VlanSpec,
)
from bondd.options import BOND_OPTIONS, RUNTIME_OPTIONS, Kind, from_netlink

# include/uapi/linux/if_link.h, if_addr.h, rtnetlink.h
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER = 1, 3, 4, 5, 10
IFLA_LINKINFO, IFLA_CARRIER, IFLA_PERM_ADDRESS = 18, 33, 54
IFLA_INFO_KIND, IFLA_INFO_DATA, IFLA_INFO_SLAVE_KIND, IFLA_INFO_SLAVE_DATA = 1, 2, 4, 5
IFLA_VLAN_ID = 1
IFLA_BOND_ACTIVE_SLAVE, IFLA_BOND_AD_INFO = 2, 23
IFLA_BOND_AD_INFO_AGGREGATOR, IFLA_BOND_AD_INFO_NUM_PORTS = 1, 2
IFLA_BOND_AD_INFO_ACTOR_KEY, IFLA_BOND_AD_INFO_PARTNER_KEY = 3, 4
IFLA_BOND_AD_INFO_PARTNER_MAC = 5
IFLA_BOND_SLAVE_STATE, IFLA_BOND_SLAVE_MII_STATUS = 1, 2
IFLA_BOND_SLAVE_LINK_FAILURE_COUNT, IFLA_BOND_SLAVE_PERM_HWADDR = 3, 4
IFLA_BOND_SLAVE_QUEUE_ID, IFLA_BOND_SLAVE_AD_AGGREGATOR_ID = 5, 6
IFA_ADDRESS, IFA_LOCAL, IFA_FLAGS = 1, 2, 8
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_PREFSRC, RTA_METRICS, RTA_TABLE = (
    1,
    4,
    5,
    6,
    7,
    8,
    15,
)
RTAX_MTU = 2

IFF_UP = 0x1
IFA_F_PERMANENT = 0x80
RTNH_F_ONLINK = 0x4
RT_TABLE_MAIN = 254
RT_TABLE_LOCAL = 255
RTPROT_BOOT = 3
RTPROT_STATIC = 4
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RT_SCOPE_HOST = 254
# bondd's one table of route scopes and types (rtnetlink numbers -> netplan's words);
# the writer reads it backwards. pyroute2 ships tables too, but calls scope 0
# "universe" where netplan's YAML says "global".
ROUTE_SCOPES = {RT_SCOPE_UNIVERSE: "global", RT_SCOPE_LINK: "link", RT_SCOPE_HOST: "host"}
ROUTE_TYPES = {
    1: "unicast",
    2: "local",
    3: "broadcast",
    6: "blackhole",
    7: "unreachable",
    8: "prohibit",
    9: "throw",
}
# bondd's own routes and an admin's `ip route add`: what a config can own.
MANAGED_PROTOCOLS = frozenset({RTPROT_BOOT, RTPROT_STATIC})
_RTM_PROTOCOL = 5  # offset of rtm_protocol in struct rtmsg
_IFA_FLAGS_BYTE = 2  # offset of ifa_flags in struct ifaddrmsg
_BOND_ROWS = {o.ifla_id: o for o in BOND_OPTIONS if o.kernel_name not in RUNTIME_OPTIONS}

PortOrder = Callable[[str], list[str] | None]  # bond name -> port names, enslave order


@dataclass(frozen=True)
class Link:
    """One RTM_NEWLINK message, its attributes decoded as far as bondd needs them."""

    index: int
    flags: int
    name: str
    attrs: dict[int, bytes]
    kind: str = ""
    data: dict[int, bytes] = field(default_factory=dict)
    slave_kind: str = ""
    slave_data: dict[int, bytes] | None = None

    def u32(self, kind: int) -> int | None:
        value = self.attrs.get(kind)
        return codec.uint(value) if value is not None else None


def link(body: bytes) -> Link | None:
    """A link message body (ifinfomsg + attributes); None when malformed or nameless."""
    parsed = codec.ifinfo(body)
    if parsed is None or IFLA_IFNAME not in parsed[1]:
        return None
    info, top = parsed
    found = Link(info.ifindex, info.flags, codec.string(top[IFLA_IFNAME]), top)
    nested = top.get(IFLA_LINKINFO)
    if nested is None:
        return found
    linkinfo = codec.attrs(nested)
    slave = linkinfo.get(IFLA_INFO_SLAVE_DATA)
    return Link(
        info.ifindex,
        info.flags,
        found.name,
        top,
        kind=codec.string(linkinfo.get(IFLA_INFO_KIND, b"")),
        data=codec.attrs(linkinfo.get(IFLA_INFO_DATA, b"")),
        slave_kind=codec.string(linkinfo.get(IFLA_INFO_SLAVE_KIND, b"")),
        slave_data=codec.attrs(slave) if slave is not None else None,
    )


def links(msgs: Iterable[codec.Message]) -> list[Link]:
    found = (link(m.body) for m in msgs if m.type == codec.RTM_NEWLINK)
    return [x for x in found if x is not None]


def _mac(payload: bytes | None) -> str | None:
    return codec.hwaddr(payload) if payload else None


def _ip(payload: bytes) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(payload)


# -- addresses and routes -------------------------------------------------------


def addresses(msgs: Iterable[codec.Message]) -> dict[int, tuple[str, ...]]:
    """Static addresses per ifindex. Dynamic (DHCP, SLAAC) and IPv6 link-local are left out:
    they belong to other agents and are never drift."""
    found: dict[int, list[str]] = defaultdict(list)
    for msg in msgs:
        # ifa_flags (byte 2) carries the low 8 flag bits, IFA_F_PERMANENT among
        # them: dynamic addresses are dropped before their attributes are parsed.
        if len(msg.body) > _IFA_FLAGS_BYTE and not msg.body[_IFA_FLAGS_BYTE] & IFA_F_PERMANENT:
            continue
        parsed = codec.ifaddr(msg.body) if msg.type == codec.RTM_NEWADDR else None
        if parsed is None:
            continue
        head, top = parsed
        flags = codec.uint(top[IFA_FLAGS]) if IFA_FLAGS in top else head.flags
        if not flags & IFA_F_PERMANENT:
            continue
        raw = top.get(IFA_ADDRESS) if head.family == socket.AF_INET6 else None
        raw = raw or top.get(IFA_LOCAL) or top.get(IFA_ADDRESS)
        if not raw:
            continue
        iface = ipaddress.ip_interface((raw, head.prefixlen))
        if iface.version == 6 and iface.ip.is_link_local:
            continue
        found[head.ifindex].append(str(iface))
    return {index: tuple(sorted(values)) for index, values in found.items()}


def routes(msgs: Iterable[codec.Message]) -> dict[int, tuple[RouteSpec, ...]]:
    """Static routes per output ifindex, canonical like a normalised desired route."""
    found: dict[int, list[RouteSpec]] = defaultdict(list)
    for msg in msgs:
        # The protocol is in the fixed header (rtm_protocol, byte 5): the
        # kernel's own routes (local, broadcast, connected, RA), most of a
        # dump on a VLAN-heavy host, are dropped before their attributes are parsed.
        if len(msg.body) > _RTM_PROTOCOL and msg.body[_RTM_PROTOCOL] not in MANAGED_PROTOCOLS:
            continue
        parsed = codec.rtmsg(msg.body) if msg.type == codec.RTM_NEWROUTE else None
        if parsed is None:
            continue
        head, top = parsed
        table = codec.uint(top[RTA_TABLE]) if RTA_TABLE in top else 0
        table = table or head.table
        if head.protocol not in MANAGED_PROTOCOLS or table == RT_TABLE_LOCAL:
            continue
        if RTA_OIF not in top:
            continue  # multipath: not a route a bondd config writes
        found[codec.uint(top[RTA_OIF])].append(route(head, top, table))
    return {index: tuple(sorted(values, key=_route_key)) for index, values in found.items()}


def route(head: codec.RtMsg, top: dict[int, bytes], table: int) -> RouteSpec:
    dst = top.get(RTA_DST)
    to = (
        ipaddress.ip_network((dst, head.dst_len), strict=False)
        if dst
        else ipaddress.ip_network("0.0.0.0/0" if head.family == socket.AF_INET else "::/0")
    )
    gateway = top.get(RTA_GATEWAY)
    metric = codec.uint(top[RTA_PRIORITY]) if RTA_PRIORITY in top else None
    default_metric = 1024 if head.family == socket.AF_INET6 else 0
    default_scope = RT_SCOPE_UNIVERSE if gateway else RT_SCOPE_LINK
    mtu = None
    if RTA_METRICS in top:
        value = codec.attrs(top[RTA_METRICS]).get(RTAX_MTU)
        mtu = codec.uint(value) if value else None
    source = top.get(RTA_PREFSRC)
    return RouteSpec(
        to=str(to),
        via=str(_ip(gateway)) if gateway else None,
        metric=None if metric in (None, default_metric) else metric,
        table=None if table == RT_TABLE_MAIN else table,
        on_link=bool(head.flags & RTNH_F_ONLINK),
        source=str(_ip(source)) if source else None,
        scope=None
        if head.scope == default_scope
        else ROUTE_SCOPES.get(head.scope, str(head.scope)),
        type=ROUTE_TYPES.get(head.type, str(head.type)),
        mtu=mtu or None,
    )


def _route_key(route: RouteSpec) -> tuple[str, str, int, int]:
    return (route.to, route.via or "", route.metric or 0, route.table or 0)


# -- links into bonds -------------------------------------------------------------------


@dataclass
class _Maps:
    """What one read shares between its links: names, addresses, routes."""

    names: dict[int, str]
    addresses: dict[int, tuple[str, ...]]
    routes: dict[int, tuple[RouteSpec, ...]]
    unsupported: set[str] = field(default_factory=set)

    def name(self, index: int | None) -> str | None:
        return self.names.get(index) if index else None


def state(
    found: Iterable[Link],
    addrs: dict[int, tuple[str, ...]],
    rts: dict[int, tuple[RouteSpec, ...]],
    order: PortOrder,
) -> ActualState:
    """The kernel view bondd manages, from the links, addresses and routes of one read."""
    all_links = list(found)
    maps = _Maps({x.index: x.name for x in all_links}, addrs, rts)
    plain: list[PortState] = []
    bond_links: list[Link] = []
    vlans: dict[int, list[VlanSpec]] = defaultdict(list)
    for x in all_links:
        if x.kind == "bond":
            bond_links.append(x)
            continue
        if x.kind == "vlan":
            vlans[x.u32(IFLA_LINK) or 0].append(_vlan(x, maps))
        plain.append(_port(x, maps))  # a VLAN's up/down state lives there too
    bonds = (_bond(x, maps, plain, vlans.get(x.index, []), order) for x in bond_links)
    return ActualState(
        bonds=tuple(sorted(bonds, key=lambda b: b.name)),
        links=tuple(sorted(plain, key=lambda p: p.name)),
        unsupported=frozenset(maps.unsupported),
    )


def _vlan(x: Link, maps: _Maps) -> VlanSpec:
    vid = x.data.get(IFLA_VLAN_ID)
    return VlanSpec(
        name=x.name,
        id=codec.uint(vid) if vid else 0,
        link=maps.name(x.u32(IFLA_LINK)) or "",
        addresses=maps.addresses.get(x.index, ()),
        routes=maps.routes.get(x.index, ()),
        mtu=x.u32(IFLA_MTU),
        macaddress=_mac(x.attrs.get(IFLA_ADDRESS)),
    )


def _port(x: Link, maps: _Maps) -> PortState:
    fields: dict[str, object] = {}
    port = x.slave_data if x.slave_kind == "bond" else None
    if port is not None:
        status = port.get(IFLA_BOND_SLAVE_MII_STATUS)
        state_ = port.get(IFLA_BOND_SLAVE_STATE)
        aggregator = port.get(IFLA_BOND_SLAVE_AD_AGGREGATOR_ID)
        fields = {
            "perm_macaddress": _mac(port.get(IFLA_BOND_SLAVE_PERM_HWADDR)),
            "queue_id": codec.uint(port.get(IFLA_BOND_SLAVE_QUEUE_ID, b"")),
            "mii_up": status is not None and codec.uint(status) == 0,
            "link_failures": codec.uint(port.get(IFLA_BOND_SLAVE_LINK_FAILURE_COUNT, b"")),
            "backup": state_ is not None and codec.uint(state_) == 1,
            "ad_aggregator_id": codec.uint(aggregator) if aggregator is not None else None,
        }
        for key, wire in PORT_WIRE.items():
            if wire.ifla_id in port:
                fields[key] = decode(wire, port[wire.ifla_id])
            elif key == "prio":
                maps.unsupported.add("prio")
    else:
        fields["perm_macaddress"] = _mac(x.attrs.get(IFLA_PERM_ADDRESS))
    carrier = x.attrs.get(IFLA_CARRIER)
    return PortState(
        name=x.name,
        ifindex=x.index,
        macaddress=_mac(x.attrs.get(IFLA_ADDRESS)),
        up=bool(x.flags & IFF_UP),
        kind=x.kind,
        master=maps.name(x.u32(IFLA_MASTER)),
        mtu=x.u32(IFLA_MTU),
        addresses=maps.addresses.get(x.index, ()),
        carrier=bool(carrier and codec.uint(carrier)),
        **fields,  # type: ignore[arg-type]
    )


def _option(kind: Kind, payload: bytes, maps: _Maps) -> OptionValue:
    """One IFLA_BOND_* attribute as the wire has it (from_netlink makes it canonical)."""
    if kind is Kind.INTERFACE:
        return maps.name(codec.uint(payload)) or ""
    if kind is Kind.IPV4_LIST:
        return tuple(str(_ip(v)) for _, v in codec.attr_list(payload) if len(v) == 4)
    if kind is Kind.IPV6_LIST:
        return tuple(str(_ip(v)) for _, v in codec.attr_list(payload) if len(v) == 16)
    if kind is Kind.MAC:
        return codec.hwaddr(payload) or ""
    return codec.uint(payload)


def _bond(
    x: Link, maps: _Maps, plain: list[PortState], vlans: list[VlanSpec], order: PortOrder
) -> BondState:
    options: dict[str, OptionValue] = {}
    for ifla_id, row in _BOND_ROWS.items():
        payload = x.data.get(ifla_id)
        newer = BOND_WIRE.get(row.kernel_name)  # attributes only newer kernels have
        if payload is not None and newer is not None:
            options[row.kernel_name] = decode(newer, payload)
        elif payload is not None:
            value = _option(row.kind, payload, maps)
            options[row.kernel_name] = (
                value if row.kind is Kind.INTERFACE else from_netlink(row, value)
            )
        elif newer is None:
            # Absent means unset (no primary, no ARP targets), or an option the
            # kernel sends only in some modes (802.3ad's): left out.
            if row.kind in (Kind.INTERFACE, Kind.IPV4_LIST, Kind.IPV6_LIST):
                options[row.kernel_name] = "" if row.kind is Kind.INTERFACE else ()
        elif newer.format == "in6-list" and BOND_WIRE["arp_missed_max"].ifla_id in x.data:
            # Sent only when set; kernels with arp_missed_max have NS targets too.
            options[row.kernel_name] = ()
        else:
            maps.unsupported.add(row.kernel_name)
    active = x.data.get(IFLA_BOND_ACTIVE_SLAVE)
    ad = x.data.get(IFLA_BOND_AD_INFO)
    ad_info = None
    if ad is not None:
        info = codec.attrs(ad)
        ad_info = AdInfo(
            aggregator=codec.uint(info.get(IFLA_BOND_AD_INFO_AGGREGATOR, b"")),
            num_ports=codec.uint(info.get(IFLA_BOND_AD_INFO_NUM_PORTS, b"")),
            actor_key=codec.uint(info.get(IFLA_BOND_AD_INFO_ACTOR_KEY, b"")),
            partner_key=codec.uint(info.get(IFLA_BOND_AD_INFO_PARTNER_KEY, b"")),
            partner_mac=_mac(info.get(IFLA_BOND_AD_INFO_PARTNER_MAC)) or "00:00:00:00:00:00",
        )
    ports = tuple(p for p in plain if p.master == x.name and p.mii_up is not None)
    carrier = x.attrs.get(IFLA_CARRIER)
    return BondState(
        name=x.name,
        ifindex=x.index,
        ports=_kernel_order(ports, order(x.name)),
        options=BondOptions(options),
        addresses=maps.addresses.get(x.index, ()),
        routes=maps.routes.get(x.index, ()),
        mtu=x.u32(IFLA_MTU),
        macaddress=_mac(x.attrs.get(IFLA_ADDRESS)),
        vlans=tuple(sorted(vlans, key=lambda v: v.name)),
        up=bool(x.flags & IFF_UP),
        carrier=bool(carrier and codec.uint(carrier)),
        active_port=maps.name(codec.uint(active)) if active else None,
        ad_info=ad_info,
    )


def _kernel_order(ports: tuple[PortState, ...], order: list[str] | None) -> tuple[PortState, ...]:
    """Ports in the order the kernel lists them (enslave order), as sysfs `slaves` shows."""
    if order is None:
        return tuple(sorted(ports, key=lambda p: p.name))
    rank = {name: i for i, name in enumerate(order)}
    return tuple(sorted(ports, key=lambda p: (rank.get(p.name, len(rank)), p.name)))
