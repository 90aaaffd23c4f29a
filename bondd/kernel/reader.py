"""Read the kernel's bonds, links, addresses and routes into an `ActualState`.

Two reads, both over bondd's own rtnetlink codec (bondd.kernel.codec) and
decoded by bondd.kernel.decode, so they agree value for value:

- `read_actual`: the whole host, one dump each of links, addresses and IPv4
  and IPv6 routes, whatever the number of bonds. pyroute2 decoded the same
  dumps in 0.6-0.8 s for 64 bonds in the lab (its per-attribute lookups in
  Python); the raw decode takes a small fraction of that (bench/RESULTS.md).
- `read_bond`: one bond, its ports and VLANs only, for repairing drift on
  one bond without reading the host: links by ifindex (RTM_GETLINK), the
  bond's ports and VLANs named by sysfs, addresses and routes dumped per
  interface with the kernel filtering (strict dump checking, Linux 4.20+;
  without it the answers are filtered here).

sysfs only for the port order (the kernel's enslave order).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from bondd.kernel import codec, decode, sysfs
from bondd.model import ActualState, RouteSpec

RTA_OIF = 4
# Above this many interfaces a per-bond read dumps addresses and routes once
# for the host and filters here: a trunk with 1,000 VLANs would otherwise
# cost 3,000 small dumps.
FILTERED_DUMPS_UP_TO = 8
# Above this many links by name, one link dump is cheaper than a get each.
LINK_GETS_UP_TO = 32
_FAMILIES = (socket.AF_INET, socket.AF_INET6)


def sysfs_port_order(bond: str) -> list[str] | None:
    """The bond's ports in enslave order, as sysfs `slaves` lists them; None if unreadable."""
    try:
        return (sysfs.SYSFS_NET / bond / "bonding" / "slaves").read_text().split()
    except OSError:
        return None


def _upper_names(bond: str) -> list[str]:
    """Interfaces stacked on the bond (its VLANs among them), from sysfs `upper_*` links."""
    try:
        entries = (sysfs.SYSFS_NET / bond).iterdir()
        return sorted(p.name[len("upper_") :] for p in entries if p.name.startswith("upper_"))
    except OSError:
        return []


def read_actual(sock: codec.RouteSocket) -> ActualState:
    """The whole kernel view bondd manages, from one dump of each kind."""
    empty_link = codec.IFINFOMSG.pack(0, 0, 0, 0, 0)
    links = decode.links(sock.dump(codec.RTM_GETLINK, empty_link))
    addresses = decode.addresses(sock.dump(codec.RTM_GETADDR, codec.IFADDRMSG.pack(0, 0, 0, 0, 0)))
    routes = decode.routes(
        msg for family in _FAMILIES for msg in sock.dump(codec.RTM_GETROUTE, _route_dump(family))
    )
    return decode.state(links, addresses, routes, sysfs_port_order)


def read_bond(sock: codec.RouteSocket, bond: str, also: Iterable[str] = ()) -> ActualState:
    """One bond, its ports and VLANs, and the links named in `also`, as `read_actual` sees them.

    `also` is for links the caller's plan may touch that are not (or no
    longer) in the bond, e.g. the ports the committed config names. A bond
    that does not exist reads as an ActualState without it.
    """
    return read_scope(sock, bond, also).actual


@dataclass(frozen=True)
class Scoped:
    """A per-bond read, and what in it points outside the bond.

    `foreign` names the links read that are enslaved to some other master
    than the bond (a configured port taken by another bond or a bridge):
    the partial read cannot see that master, so a repair must read the host.
    """

    actual: ActualState
    foreign: tuple[str, ...] = ()


def read_scope(
    sock: codec.RouteSocket,
    bond: str,
    also: Iterable[str] = (),
    vlans: Collection[str] | None = None,
) -> Scoped:
    """`read_bond`, optionally with only the VLANs named in `vlans` (None: all of them).

    A trunk with 1,000 VLANs repairs one VLAN by reading the bond, its ports
    and that VLAN; the others are not read.
    """
    extra = list(also)
    uppers = _upper_names(bond) if vlans is None else [v for v in vlans if v not in extra]
    names = list(dict.fromkeys([*(sysfs_port_order(bond) or []), *uppers, *extra]))
    bond_link = _get_link(sock, bond)
    found: dict[int, decode.Link] = {bond_link.index: bond_link} if bond_link else {}
    bond_index = bond_link.index if bond_link is not None else -1
    candidates = (
        _links_named(sock, set(names)) if len(names) > LINK_GETS_UP_TO else _links(sock, names)
    )
    foreign = []
    for link in candidates:
        vlan_of_bond = link.kind == "vlan" and link.u32(decode.IFLA_LINK) == bond_index
        if link.name in uppers and link.name not in extra and not vlan_of_bond:
            continue  # a bridge or macvlan on the bond is not the bond's business
        master = link.u32(decode.IFLA_MASTER)
        if master and master != bond_index:
            foreign.append(link.name)
        found[link.index] = link
    addresses, routes = _addresses_routes(sock, sorted(found))
    actual = decode.state(found.values(), addresses, routes, sysfs_port_order)
    return Scoped(actual, tuple(sorted(foreign)))


def _links(sock: codec.RouteSocket, names: Iterable[str]) -> list[decode.Link]:
    return [link for name in names if (link := _get_link(sock, name)) is not None]


def _links_named(sock: codec.RouteSocket, names: set[str]) -> list[decode.Link]:
    """Many links by name from one dump: 1,000 VLANs cost one round trip, not 1,000."""
    empty_link = codec.IFINFOMSG.pack(0, 0, 0, 0, 0)
    return [x for x in decode.links(sock.dump(codec.RTM_GETLINK, empty_link)) if x.name in names]


def _get_link(sock: codec.RouteSocket, name: str) -> decode.Link | None:
    # The ifindex from sysfs, not if_nametoindex(): its ioctl asks the kernel
    # to load a module named for an interface that does not exist (a modprobe
    # run, about 0.1 s in the lab, for every bond or port that is gone).
    try:
        index = int((sysfs.SYSFS_NET / name / "ifindex").read_text())
    except (OSError, ValueError):
        return None
    msg = sock.get(codec.RTM_GETLINK, codec.IFINFOMSG.pack(0, 0, index, 0, 0))
    return decode.link(msg.body) if msg is not None and msg.type == codec.RTM_NEWLINK else None


def _addresses_routes(
    sock: codec.RouteSocket, indexes: list[int]
) -> tuple[dict[int, tuple[str, ...]], dict[int, tuple[RouteSpec, ...]]]:
    """Addresses and routes of these interfaces only (kernel-filtered dumps when it can)."""
    wanted = set(indexes)
    if not wanted:
        return {}, {}
    if sock.strict and len(indexes) <= FILTERED_DUMPS_UP_TO:
        addresses: dict[int, tuple[str, ...]] = {}
        routes: dict[int, tuple[RouteSpec, ...]] = {}
        for index in indexes:
            # Each answer is decoded on its own and only its interface kept:
            # a kernel that ignored the filter cannot double anything.
            head = codec.IFADDRMSG.pack(0, 0, 0, 0, index)
            found = decode.addresses(sock.dump(codec.RTM_GETADDR, head)).get(index)
            if found:
                addresses[index] = found
            oif = codec.attr(RTA_OIF, struct.pack("=I", index))
            msgs = [
                msg
                for family in _FAMILIES
                for msg in sock.dump(codec.RTM_GETROUTE, _route_dump(family), oif)
            ]
            if paths := decode.routes(msgs).get(index):
                routes[index] = paths
        return addresses, routes
    addr_msgs = sock.dump(codec.RTM_GETADDR, codec.IFADDRMSG.pack(0, 0, 0, 0, 0))
    route_msgs = [
        msg for family in _FAMILIES for msg in sock.dump(codec.RTM_GETROUTE, _route_dump(family))
    ]
    all_addresses = decode.addresses(addr_msgs)
    all_routes = decode.routes(route_msgs)
    return (
        {i: v for i, v in all_addresses.items() if i in wanted},
        {i: v for i, v in all_routes.items() if i in wanted},
    )


def _route_dump(family: int) -> bytes:
    return codec.RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0)


class KernelReader:
    """The engine's Reader: whole-host reads, and one bond's for drift repair.

    `ipr` is accepted for the callers (tests) that pass a pyroute2 socket;
    reads do not use it.
    """

    def __init__(self, ipr: object | None = None) -> None:
        del ipr
        self.sock = codec.RouteSocket(strict=True)

    def read(self) -> ActualState:
        return read_actual(self.sock)

    def read_bond(self, bond: str, also: Iterable[str] = ()) -> ActualState:
        """One bond, its ports and VLANs (and the links in `also`): see `read_bond`."""
        return read_bond(self.sock, bond, also)

    def read_scope(
        self, bond: str, also: Iterable[str] = (), vlans: Collection[str] | None = None
    ) -> Scoped:
        """One bond (and only `vlans` of its VLANs, when given): see `read_scope`."""
        return read_scope(self.sock, bond, also, vlans)

    def close(self) -> None:
        self.sock.close()
