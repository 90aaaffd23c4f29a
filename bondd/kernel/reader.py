"""Read the kernel's bonds, links, addresses and routes into an `ActualState`.

One netlink dump each of links, addresses and routes, whatever the number of
bonds, plus one raw link dump for the attributes pyroute2's map lacks
(bondd.kernel.rawlink); sysfs only for the port order. Values come out
canonical (see bondd.options), so they compare equal to a normalised
desired state.
"""

from __future__ import annotations

import ipaddress
import socket
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from bondd.kernel import sysfs
from bondd.kernel.netlink import IPRoute, Msg, attr, nested
from bondd.kernel.rawlink import BOND_WIRE, PORT_WIRE, RawLink, RawLinkSocket, decode
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
from bondd.options import BOND_OPTIONS, RUNTIME_OPTIONS, Kind, by_ifla, from_netlink

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
_SCOPES = {RT_SCOPE_UNIVERSE: "global", RT_SCOPE_LINK: "link", RT_SCOPE_HOST: "host"}
_ROUTE_TYPES = {
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


def read_actual(ipr: IPRoute, raw: RawLinkSocket) -> ActualState:
    """The whole kernel view bondd manages, from one dump of each kind.

    `raw` supplies the bond attributes pyroute2 cannot decode (one more dump).
    """
    links = list(ipr.get_links())
    dump = _Dump(
        raw=raw.dump(),
        names={msg["index"]: attr(msg, "IFLA_IFNAME") for msg in links},
        addresses=_addresses(ipr.get_addr()),
        routes=_routes(
            ipr.get_routes(family=socket.AF_INET), ipr.get_routes(family=socket.AF_INET6)
        ),
    )
    plain: list[PortState] = []
    bond_msgs: list[Msg] = []
    vlans: dict[int, list[VlanSpec]] = defaultdict(list)
    for msg in links:
        kind = nested(msg, "IFLA_LINKINFO", "IFLA_INFO_KIND")
        if kind == "bond":
            bond_msgs.append(msg)
        elif kind == "vlan":
            vlans[attr(msg, "IFLA_LINK")].append(dump.vlan(msg))
            plain.append(dump.link(msg))  # its up/down state lives there
        else:
            plain.append(dump.link(msg))
    bonds = (dump.bond(msg, plain, vlans.get(msg["index"], [])) for msg in bond_msgs)
    return ActualState(
        bonds=tuple(sorted(bonds, key=lambda b: b.name)),
        links=tuple(sorted(plain, key=lambda p: p.name)),
        unsupported=frozenset(dump.unsupported),
    )


@dataclass
class _Dump:
    """The maps one read shares between its links: names, addresses, routes."""

    raw: dict[int, RawLink]
    names: dict[int, str]
    addresses: dict[int, tuple[str, ...]]
    routes: dict[int, tuple[RouteSpec, ...]]
    unsupported: set[str] = field(default_factory=set)

    def link(self, msg: Msg) -> PortState:
        return _link(msg, self)

    def bond(self, msg: Msg, plain: list[PortState], vlans: list[VlanSpec]) -> BondState:
        return _bond(msg, self, plain, vlans)

    def vlan(self, msg: Msg) -> VlanSpec:
        return VlanSpec(
            name=attr(msg, "IFLA_IFNAME"),
            id=int(nested(msg, "IFLA_LINKINFO", "IFLA_INFO_DATA", "IFLA_VLAN_ID") or 0),
            link=self.names.get(attr(msg, "IFLA_LINK"), ""),
            addresses=self.addresses.get(msg["index"], ()),
            routes=self.routes.get(msg["index"], ()),
            mtu=attr(msg, "IFLA_MTU"),
            macaddress=_mac(attr(msg, "IFLA_ADDRESS")),
        )


def _link(msg: Msg, dump: _Dump) -> PortState:
    name = attr(msg, "IFLA_IFNAME")
    info = attr(msg, "IFLA_LINKINFO")
    is_port = nested(info, "IFLA_INFO_SLAVE_KIND") == "bond"
    port = nested(info, "IFLA_INFO_SLAVE_DATA") if is_port else None
    master = attr(msg, "IFLA_MASTER")
    fields: dict[str, object] = {}
    if port is not None:
        fields = {
            "perm_macaddress": _mac(attr(port, "IFLA_BOND_SLAVE_PERM_HWADDR")),
            "queue_id": int(attr(port, "IFLA_BOND_SLAVE_QUEUE_ID") or 0),
            "mii_up": attr(port, "IFLA_BOND_SLAVE_MII_STATUS") == 0,
            "link_failures": int(attr(port, "IFLA_BOND_SLAVE_LINK_FAILURE_COUNT") or 0),
            "backup": attr(port, "IFLA_BOND_SLAVE_STATE") == 1,
            "ad_aggregator_id": attr(port, "IFLA_BOND_SLAVE_AD_AGGREGATOR_ID"),
        }
        # prio and the LACP oper states are missing from pyroute2's map.
        extra = dump.raw.get(msg["index"], RawLink()).slave_data
        for key, wire in PORT_WIRE.items():
            if wire.ifla_id in extra:
                fields[key] = decode(wire, extra[wire.ifla_id])
            elif key == "prio":
                dump.unsupported.add("prio")
    else:
        fields["perm_macaddress"] = _mac(attr(msg, "IFLA_PERM_ADDRESS"))
    return PortState(
        name=name,
        ifindex=msg["index"],
        macaddress=_mac(attr(msg, "IFLA_ADDRESS")),
        up=bool(msg["flags"] & IFF_UP),
        kind=nested(info, "IFLA_INFO_KIND") or "",
        master=dump.names.get(master) if master else None,
        mtu=attr(msg, "IFLA_MTU"),
        addresses=dump.addresses.get(msg["index"], ()),
        carrier=bool(attr(msg, "IFLA_CARRIER")),
        **fields,  # type: ignore[arg-type]
    )


def _bond(msg: Msg, dump: _Dump, plain: list[PortState], vlans: list[VlanSpec]) -> BondState:
    name = attr(msg, "IFLA_IFNAME")
    data = nested(msg, "IFLA_LINKINFO", "IFLA_INFO_DATA")
    options: dict[str, OptionValue] = {}
    for key, value in data["attrs"] if data is not None else ():
        option = by_ifla(key)
        if option is None or option.kernel_name in RUNTIME_OPTIONS:
            continue
        if option.kind is Kind.INTERFACE:
            options[option.kernel_name] = dump.names.get(int(value), "") if value else ""
        else:
            options[option.kernel_name] = from_netlink(option, value)
    for option in BOND_OPTIONS:
        if option.kernel_name in options or option.kernel_name in RUNTIME_OPTIONS:
            continue
        if option.in_pyroute2:
            # Absent from the dump means unset: no primary, no ARP targets.
            if option.kind in (Kind.INTERFACE, Kind.IPV4_LIST, Kind.IPV6_LIST):
                options[option.kernel_name] = "" if option.kind is Kind.INTERFACE else ()
            continue
        wire = BOND_WIRE[option.kernel_name]
        extra = dump.raw.get(msg["index"], RawLink()).data
        if wire.ifla_id in extra:
            options[option.kernel_name] = decode(wire, extra[wire.ifla_id])
        elif wire.format == "in6-list" and BOND_WIRE["arp_missed_max"].ifla_id in extra:
            # Sent only when set; kernels with arp_missed_max have NS targets too.
            options[option.kernel_name] = ()
        else:
            dump.unsupported.add(option.kernel_name)
    active = attr(data, "IFLA_BOND_ACTIVE_SLAVE")
    ad = attr(data, "IFLA_BOND_AD_INFO")
    ad_info = None
    if ad is not None:
        ad_info = AdInfo(
            aggregator=int(attr(ad, "IFLA_BOND_AD_INFO_AGGREGATOR") or 0),
            num_ports=int(attr(ad, "IFLA_BOND_AD_INFO_NUM_PORTS") or 0),
            actor_key=int(attr(ad, "IFLA_BOND_AD_INFO_ACTOR_KEY") or 0),
            partner_key=int(attr(ad, "IFLA_BOND_AD_INFO_PARTNER_KEY") or 0),
            partner_mac=_mac(attr(ad, "IFLA_BOND_AD_INFO_PARTNER_MAC")) or "00:00:00:00:00:00",
        )
    ports = tuple(p for p in plain if p.master == name and p.mii_up is not None)
    return BondState(
        name=name,
        ifindex=msg["index"],
        ports=_kernel_order(ports, name),
        options=BondOptions(options),
        addresses=dump.addresses.get(msg["index"], ()),
        routes=dump.routes.get(msg["index"], ()),
        mtu=attr(msg, "IFLA_MTU"),
        macaddress=_mac(attr(msg, "IFLA_ADDRESS")),
        vlans=tuple(sorted(vlans, key=lambda v: v.name)),
        up=bool(msg["flags"] & IFF_UP),
        carrier=bool(attr(msg, "IFLA_CARRIER")),
        active_port=dump.names.get(active) if active else None,
        ad_info=ad_info,
    )


def _kernel_order(ports: tuple[PortState, ...], bond: str) -> tuple[PortState, ...]:
    """Ports in the order the kernel lists them (enslave order), as sysfs `slaves` shows."""
    try:
        order = (sysfs.SYSFS_NET / bond / "bonding" / "slaves").read_text().split()
    except OSError:
        return tuple(sorted(ports, key=lambda p: p.name))
    rank = {name: i for i, name in enumerate(order)}
    return tuple(sorted(ports, key=lambda p: (rank.get(p.name, len(rank)), p.name)))


def _mac(value: object) -> str | None:
    if not value or not isinstance(value, str):
        return None
    return value.lower()


def _addresses(msgs: Iterable[Msg]) -> dict[int, tuple[str, ...]]:
    """Static addresses per ifindex. Dynamic (DHCP, SLAAC) and IPv6 link-local are left out:
    they belong to other agents and are never drift."""
    found: dict[int, list[str]] = defaultdict(list)
    for msg in msgs:
        flags = attr(msg, "IFA_FLAGS")
        flags = msg["flags"] if flags is None else flags
        if not flags & IFA_F_PERMANENT:
            continue
        address = (
            attr(msg, "IFA_ADDRESS")
            if msg["family"] == socket.AF_INET6
            else (attr(msg, "IFA_LOCAL") or attr(msg, "IFA_ADDRESS"))
        )
        iface = ipaddress.ip_interface(f"{address}/{msg['prefixlen']}")
        if iface.version == 6 and iface.ip.is_link_local:
            continue
        found[msg["index"]].append(str(iface))
    return {index: tuple(sorted(values)) for index, values in found.items()}


def _routes(*dumps: Iterable[Msg]) -> dict[int, tuple[RouteSpec, ...]]:
    """Static routes per output ifindex, canonical like a normalised desired route."""
    found: dict[int, list[RouteSpec]] = defaultdict(list)
    for dump in dumps:
        for msg in dump:
            table = attr(msg, "RTA_TABLE") or msg["table"]
            oif = attr(msg, "RTA_OIF")
            if msg["proto"] not in MANAGED_PROTOCOLS or table == RT_TABLE_LOCAL or oif is None:
                continue
            found[oif].append(route_from_msg(msg, table))
    return {index: tuple(sorted(values, key=_route_key)) for index, values in found.items()}


def route_from_msg(msg: Msg, table: int) -> RouteSpec:
    family = msg["family"]
    dst = attr(msg, "RTA_DST") or ("0.0.0.0" if family == socket.AF_INET else "::")
    gateway = attr(msg, "RTA_GATEWAY")
    metric = attr(msg, "RTA_PRIORITY")
    default_metric = 1024 if family == socket.AF_INET6 else 0
    scope = msg["scope"]
    default_scope = RT_SCOPE_UNIVERSE if gateway else RT_SCOPE_LINK
    mtu = None
    metrics = attr(msg, "RTA_METRICS")
    if metrics is not None:
        mtu = attr(metrics, "RTAX_MTU")
    return RouteSpec(
        to=str(ipaddress.ip_network(f"{dst}/{msg['dst_len']}", strict=False)),
        via=str(ipaddress.ip_address(gateway)) if gateway else None,
        metric=None if metric in (None, default_metric) else int(metric),
        table=None if table == RT_TABLE_MAIN else int(table),
        on_link=bool(msg["flags"] & RTNH_F_ONLINK),
        source=attr(msg, "RTA_PREFSRC"),
        scope=None if scope == default_scope else _SCOPES.get(scope, str(scope)),
        type=_ROUTE_TYPES.get(msg["type"], str(msg["type"])),
        mtu=int(mtu) if mtu else None,
    )


def _route_key(route: RouteSpec) -> tuple[str, str, int, int]:
    return (route.to, route.via or "", route.metric or 0, route.table or 0)


class KernelReader:
    """The engine's Reader over one netlink socket."""

    def __init__(self, ipr: IPRoute) -> None:
        self.ipr = ipr
        self.raw = RawLinkSocket()

    def read(self) -> ActualState:
        return read_actual(self.ipr, self.raw)

    def close(self) -> None:
        self.raw.close()
