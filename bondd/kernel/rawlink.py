"""Bond attributes pyroute2 cannot decode or encode, over a plain netlink socket.

pyroute2's bond maps (0.7.2 and 0.9.x alike) stop at IFLA_BOND_TLB_DYNAMIC_LB
and miss the port's LACP oper states and prio; some of these have no sysfs
file either (ns_ip6_target on 6.1). Rather than patch pyroute2's private
tables, bondd speaks rtnetlink itself (bondd.kernel.codec): this module
holds those attributes' wire formats, RTM_NEWLINK requests that set one of
them, and a raw link dump that returns the IFLA_INFO_DATA /
IFLA_INFO_SLAVE_DATA attributes per ifindex (tests use it to look).
"""

from __future__ import annotations

import errno
import ipaddress
import struct
from dataclasses import dataclass, field

from bondd.kernel import codec
from bondd.kernel.codec import NLA_F_NESTED, attr, attrs

__all__ = ["NLA_F_NESTED", "attr", "attrs"]

IFLA_LINKINFO = 18
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
IFLA_INFO_SLAVE_KIND = 4
IFLA_INFO_SLAVE_DATA = 5


@dataclass
class RawLink:
    """The raw nested attributes of one link, keyed by attribute type."""

    kind: str = ""
    data: dict[int, bytes] = field(default_factory=dict)
    slave_kind: str = ""
    slave_data: dict[int, bytes] = field(default_factory=dict)


class RawLinkSocket:
    """A NETLINK_ROUTE socket in the caller's network namespace (bondd.kernel.codec's)."""

    def __init__(self) -> None:
        self.sock = codec.RouteSocket()

    def close(self) -> None:
        self.sock.close()

    def dump(self) -> dict[int, RawLink]:
        """Every link's raw bond data, from one RTM_GETLINK dump."""
        links: dict[int, RawLink] = {}
        for msg in self.sock.dump(codec.RTM_GETLINK, codec.IFINFOMSG.pack(0, 0, 0, 0, 0)):
            parsed = codec.ifinfo(msg.body) if msg.type == codec.RTM_NEWLINK else None
            if parsed is not None:
                links[parsed[0].ifindex] = _raw_link(parsed[1])
        return links

    def set_bond_attr(self, index: int, payload: bytes, *, port: bool = False) -> None:
        """Send one IFLA_INFO_DATA (or, for a port, IFLA_INFO_SLAVE_DATA) attribute."""
        if port:
            info = attr(IFLA_INFO_SLAVE_DATA, payload, nested=True)
        else:
            info = attr(IFLA_INFO_KIND, b"bond\0") + attr(IFLA_INFO_DATA, payload, nested=True)
        body = codec.IFINFOMSG.pack(0, 0, index, 0, 0) + attr(IFLA_LINKINFO, info, nested=True)
        self.sock.request(codec.RTM_NEWLINK, body)


def _raw_link(top: dict[int, bytes]) -> RawLink:
    link = RawLink()
    info = top.get(IFLA_LINKINFO)
    if info is None:
        return link
    nested = attrs(info)
    link.kind = codec.string(nested.get(IFLA_INFO_KIND, b""))
    link.slave_kind = codec.string(nested.get(IFLA_INFO_SLAVE_KIND, b""))
    link.data = attrs(nested.get(IFLA_INFO_DATA, b""))
    link.slave_data = attrs(nested.get(IFLA_INFO_SLAVE_DATA, b""))
    return link


# -- the attributes bondd needs, with their wire formats ---------------------


@dataclass(frozen=True)
class Wire:
    """How one attribute is laid out: struct format, or 'in6-list' for NS targets."""

    ifla_id: int
    format: str  # "B", "H", "I", "i" or "in6-list"


BOND_WIRE = {
    "peer_notif_delay": Wire(28, "I"),
    "lacp_active": Wire(29, "B"),
    "arp_missed_max": Wire(30, "B"),
    "ns_ip6_target": Wire(31, "in6-list"),
    "coupled_control": Wire(32, "B"),
}
# The fixed-width IFLA_BOND_* attributes bondd writes over netlink, as the
# kernel's policy has them (drivers/net/bonding/bond_netlink.c): what goes
# into a bond's IFLA_INFO_DATA on create and on an option change.
NUMBER_WIRE = {
    1: "B",  # mode
    2: "I",  # active_slave (an ifindex)
    3: "I",  # miimon
    4: "I",  # updelay
    5: "I",  # downdelay
    6: "B",  # use_carrier
    7: "I",  # arp_interval
    9: "I",  # arp_validate
    10: "I",  # arp_all_targets
    11: "I",  # primary (an ifindex)
    12: "B",  # primary_reselect
    13: "B",  # fail_over_mac
    14: "B",  # xmit_hash_policy
    15: "I",  # resend_igmp
    16: "B",  # num_peer_notif
    17: "B",  # all_slaves_active
    18: "I",  # min_links
    19: "I",  # lp_interval
    20: "I",  # packets_per_slave
    21: "B",  # ad_lacp_rate
    22: "B",  # ad_select
    24: "H",  # ad_actor_sys_prio
    25: "H",  # ad_user_port_key
    27: "B",  # tlb_dynamic_lb
}
PORT_WIRE = {
    "ad_actor_state": Wire(7, "B"),
    "ad_partner_state": Wire(8, "H"),
    "prio": Wire(9, "i"),
}


def decode(wire: Wire, payload: bytes) -> int | tuple[str, ...]:
    if wire.format == "in6-list":
        values = attrs(payload).values()
        return tuple(str(ipaddress.IPv6Address(v)) for v in values if len(v) == 16)
    return int(struct.unpack_from("=" + wire.format, payload)[0])


def encode(wire: Wire, value: int | tuple[str, ...]) -> bytes:
    if wire.format == "in6-list":
        if not isinstance(value, tuple):
            raise OSError(errno.EINVAL, "expected a list of IPv6 addresses")
        return attr(
            wire.ifla_id,
            b"".join(attr(i, ipaddress.IPv6Address(a).packed) for i, a in enumerate(value)),
            nested=True,
        )
    if not isinstance(value, int):
        raise OSError(errno.EINVAL, f"expected a number, got {value!r}")
    return attr(wire.ifla_id, struct.pack("=" + wire.format, value))
