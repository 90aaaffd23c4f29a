"""Addresses and routes on one interface: the order of adds and deletes, and what the kernel drops.

The planner asks here because two kernel rules decide the order: deleting
an IPv4 subnet's primary address takes its secondaries with it (unless the
host sets promote_secondaries), and an interface left without any IPv4
address, even for a moment, loses its IPv4 routes. A link going down
flushes its routes and IPv6 addresses as well.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from bondd.model import RouteSpec
from bondd.plan import ops as o


def address_ops(bond: str, ifname: str, wanted: set[str], have: set[str]) -> list[o.Op]:
    """Adds before deletes, so an interface keeps an address throughout; except in an
    IPv4 subnet that keeps or gains one: there the deletes come first.

    Deleting an IPv4 subnet's primary address takes its secondaries with it
    (unless the host sets promote_secondaries), so an address added first in
    the same subnet would go too: 10.0.0.2/24 -> 10.0.0.3/24 would end with
    none. The subnet's wanted addresses are then added after the deletes
    (an add is a replace: one still there is left as it is).
    """
    gone = have - wanted
    first = deleted_first(wanted, have)
    crowded = _subnets(first)
    ops: list[o.Op] = [o.DelAddress(bond, ifname, a) for a in sorted(first)]
    readd = {a for a in wanted if _subnet(a) in crowded}
    ops += [o.AddAddress(bond, ifname, a) for a in sorted((wanted - have) | readd)]
    ops += [o.DelAddress(bond, ifname, a) for a in sorted(gone - first)]
    return ops


def deleted_first(wanted: set[str], have: set[str]) -> set[str]:
    """The addresses address_ops deletes before it adds (IPv4, in a subnet that stays)."""
    gone = have - wanted
    kept = _subnets(wanted)
    return {a for a in gone if (n := _subnet(a)) is not None and n in kept}


def routes_kept(routes: set[RouteSpec], wanted: set[str], have: set[str]) -> set[RouteSpec]:
    """The routes still in the kernel after address_ops's early deletes.

    When those deletes leave the interface with no IPv4 address for a moment,
    the kernel flushes every IPv4 route through it (the default route via the
    subnet's gateway included); a route whose source is a deleted address
    goes in any case. Those are added again after the new addresses. The
    other addresses of a subnet whose primary is deleted may go with it
    (without promote_secondaries), so only addresses in other subnets count
    as keeping the interface addressed; where the guess is wrong the re-add
    is a replace (AddRoute.again), which is right either way.
    """
    first = deleted_first(wanted, have)
    if not first:
        return routes
    crowded = _subnets(first)
    bare = not (_subnets(have - first) - crowded)
    sources = {str(ipaddress.ip_interface(a).ip) for a in first}

    def flushed(route: RouteSpec) -> bool:
        v4 = ipaddress.ip_network(route.to, strict=False).version == 4
        return (bare and v4) or (route.source is not None and route.source in sources)

    return {r for r in routes if not flushed(r)}


def _subnet(address: str) -> ipaddress.IPv4Network | None:
    iface = ipaddress.ip_interface(address)
    return iface.network if isinstance(iface, ipaddress.IPv4Interface) else None


def _subnets(addresses: Iterable[str]) -> set[ipaddress.IPv4Network]:
    return {n for a in addresses if (n := _subnet(a)) is not None}


def sorted_routes(routes: Iterable[RouteSpec]) -> list[RouteSpec]:
    return sorted(routes, key=lambda r: (r.to, r.via or "", r.metric or 0, r.table or 0))


def kept_when_down(addresses: set[str]) -> set[str]:
    """What survives a link going down: IPv4 addresses; IPv6 ones are flushed
    (unless keep_addr_on_down, which the writer's replace-semantics tolerate)."""
    return {a for a in addresses if ":" not in a}
