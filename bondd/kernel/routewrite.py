"""Static routes added, replaced and deleted over bondd's codec.

A route request is a few fixed attributes (destination, gateway, output
interface, metric, table, preferred source, MTU), so bondd encodes it
itself, as it encodes its link writes (bondd.kernel.linkwrite): the daemon
then never imports pyroute2 (see bondd.kernel). The request is the one
`ip route add/replace/del` sends: protocol static, table 254 (main) unless
the route names one, scope link for a route without a gateway.
"""

from __future__ import annotations

import ipaddress
import socket
import struct

from bondd.kernel import codec
from bondd.kernel.decode import ROUTE_SCOPES, ROUTE_TYPES
from bondd.model import RouteSpec

NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
RTPROT_STATIC = 4
RTNH_F_ONLINK = 4
RT_TABLE_MAIN = 254
RT_TABLE_COMPAT = 252  # the header's table when the number does not fit its byte
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_PREFSRC, RTA_METRICS = 1, 4, 5, 6, 7, 8
RTA_TABLE = 15
RTAX_MTU = 2
_SCOPES = {word: number for number, word in ROUTE_SCOPES.items()}
_TYPES = {word: number for number, word in ROUTE_TYPES.items()}
_U32 = struct.Struct("=I")


def route_message(route: RouteSpec, oif: int) -> bytes:
    """The rtmsg header and attributes of `route` through the interface `oif`."""
    network = ipaddress.ip_network(route.to)
    table = route.table if route.table is not None else RT_TABLE_MAIN
    # No scope given: a route through a gateway is global, one without is on-link.
    scope = _SCOPES[route.scope] if route.scope is not None else 0 if route.via else _SCOPES["link"]
    header = codec.RTMSG.pack(
        socket.AF_INET6 if network.version == 6 else socket.AF_INET,
        network.prefixlen,
        0,
        0,
        table if table < 256 else RT_TABLE_COMPAT,
        RTPROT_STATIC,
        scope,
        _TYPES.get(route.type, 1),
        RTNH_F_ONLINK if route.on_link else 0,
    )
    body = [header, codec.attr(RTA_TABLE, _U32.pack(table))]
    if network.prefixlen:
        body.append(codec.attr(RTA_DST, network.network_address.packed))
    body.append(codec.attr(RTA_OIF, _U32.pack(oif)))
    if route.via:
        body.append(codec.attr(RTA_GATEWAY, ipaddress.ip_address(route.via).packed))
    if route.metric is not None:
        body.append(codec.attr(RTA_PRIORITY, _U32.pack(route.metric)))
    if route.source:
        body.append(codec.attr(RTA_PREFSRC, ipaddress.ip_address(route.source).packed))
    if route.mtu:
        metrics = codec.attr(RTAX_MTU, _U32.pack(route.mtu))
        body.append(codec.attr(RTA_METRICS, metrics, nested=True))
    return b"".join(body)


def write_route(sock: codec.RouteSocket, route: RouteSpec, oif: int, command: str) -> None:
    """`command` "add", "replace" or "del" of `route`; OSError with the kernel's errno."""
    body = route_message(route, oif)
    if command == "del":
        sock.request(codec.RTM_DELROUTE, body)
    elif command == "replace":
        sock.request(codec.RTM_NEWROUTE, body, NLM_F_CREATE | NLM_F_REPLACE)
    else:
        sock.request(codec.RTM_NEWROUTE, body, NLM_F_CREATE | NLM_F_EXCL)
