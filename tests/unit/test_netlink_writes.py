"""The engine's netlink writes as bondd's codec encodes them, without a kernel.

Bond options, routes, MTU and MAC used to go through pyroute2; they are
encoded by bondd now (the daemon imports no pyroute2). These tests decode
the requests back with bondd's codec and check them field by field against
the layout the kernel's headers give; the widths of the bond attributes
are checked against pyroute2's own map as a second opinion. That the
kernel takes them is the lab's part (tests/kernel/test_options_kernel.py,
test_converge.py, test_reconcile.py).
"""

from __future__ import annotations

import socket
import struct
import subprocess
import sys

import pytest

from bondd.kernel import codec
from bondd.kernel.rawlink import BOND_WIRE, NUMBER_WIRE
from bondd.kernel.routewrite import RT_TABLE_COMPAT, route_message
from bondd.kernel.writer import split_options
from bondd.model import BondOptions, RouteSpec
from bondd.options import BOND_OPTIONS

pytestmark = pytest.mark.unit

RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_PREFSRC, RTA_METRICS, RTA_TABLE = (
    1, 4, 5, 6, 7, 8, 15,
)  # fmt: skip


def decoded(route: RouteSpec, oif: int = 7) -> tuple[codec.RtMsg, dict[int, bytes]]:
    parsed = codec.rtmsg(route_message(route, oif))
    assert parsed is not None
    return parsed


def test_a_default_route_through_a_gateway_is_static_global_and_in_main() -> None:
    header, found = decoded(RouteSpec(to="0.0.0.0/0", via="192.0.2.1"))
    assert (header.family, header.dst_len, header.table) == (socket.AF_INET, 0, 254)
    assert (header.protocol, header.scope, header.type, header.flags) == (4, 0, 1, 0)
    assert RTA_DST not in found  # a default route has no destination attribute
    assert found[RTA_GATEWAY] == socket.inet_aton("192.0.2.1")
    assert codec.uint(found[RTA_OIF]) == 7
    assert codec.uint(found[RTA_TABLE]) == 254


def test_a_route_without_gateway_is_on_link_and_carries_every_field_asked() -> None:
    route = RouteSpec(
        to="2001:db8:5::/64", metric=300, table=1000, source="2001:db8::5", mtu=1400, on_link=True
    )
    header, found = decoded(route)
    assert (header.family, header.dst_len) == (socket.AF_INET6, 64)
    assert header.scope == 253  # link
    assert header.table == RT_TABLE_COMPAT and codec.uint(found[RTA_TABLE]) == 1000
    assert header.flags == 4  # RTNH_F_ONLINK
    assert found[RTA_DST] == socket.inet_pton(socket.AF_INET6, "2001:db8:5::")
    assert codec.uint(found[RTA_PRIORITY]) == 300
    assert found[RTA_PREFSRC] == socket.inet_pton(socket.AF_INET6, "2001:db8::5")
    assert codec.attrs(found[RTA_METRICS]) == {2: struct.pack("=I", 1400)}  # RTAX_MTU


def test_a_scope_and_type_named_in_the_yaml_are_sent() -> None:
    header, _ = decoded(RouteSpec(to="198.51.100.0/24", scope="host", type="blackhole"))
    assert (header.scope, header.type) == (254, 6)


def test_numeric_bond_options_become_attributes_of_their_width_and_the_rest_stays() -> None:
    indexes = {"eno1": 12}
    data, rest = split_options(
        BondOptions(
            {
                "mode": "active-backup",
                "miimon": 100,
                "primary": "eno1",
                "ad_actor_sys_prio": 65535,
                "arp_ip_target": ("192.0.2.1",),
                "lacp_active": "on",
            }
        ),
        indexes.__getitem__,
    )
    assert codec.attr_list(data) == [  # in the options' (sorted) order
        (24, struct.pack("=H", 65535)),
        (3, struct.pack("=I", 100)),
        (1, struct.pack("=B", 1)),  # mode: active-backup is 1
        (11, struct.pack("=I", 12)),  # primary: the port's ifindex
    ]
    assert rest == {"arp_ip_target": ("192.0.2.1",), "lacp_active": "on"}


def test_an_empty_primary_is_ifindex_zero() -> None:
    no_ports: dict[str, int] = {}
    data, _ = split_options(BondOptions({"primary": ""}), no_ports.__getitem__)
    assert codec.attr_list(data) == [(11, struct.pack("=I", 0))]


def test_the_attribute_widths_agree_with_pyroute2s_bond_map() -> None:
    from pyroute2.netlink.rtnl.ifinfmsg.plugins.bond import bond  # noqa: PLC0415

    widths = {"uint8": "B", "uint16": "H", "uint32": "I"}
    theirs = {
        number: widths[kind] for number, (_, kind) in enumerate(bond.nla_map) if kind in widths
    }
    assert {n: theirs[n] for n in NUMBER_WIRE} == NUMBER_WIRE
    # Every option the table says is numeric and not newer than pyroute2's map has a width.
    numeric = {o.ifla_id for o in BOND_OPTIONS if o.kernel_name not in BOND_WIRE}
    assert {n for n in numeric if n in theirs} <= set(NUMBER_WIRE)


def test_the_daemon_imports_no_pyroute2() -> None:
    probe = (
        "import sys, bondd.daemon.main; print(sorted(m for m in sys.modules if 'pyroute2' in m))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert run.stdout.strip() == "[]"
