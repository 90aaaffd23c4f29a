"""Bond attributes pyroute2 cannot decode or encode, over a plain netlink socket.

pyroute2's bond maps (0.7.2 and 0.9.x alike) stop at IFLA_BOND_TLB_DYNAMIC_LB
and miss the port's LACP oper states and prio; some of these have no sysfs
file either (ns_ip6_target on 6.1). Rather than patch pyroute2's private
tables, this module speaks just enough rtnetlink itself: one RTM_GETLINK
dump that returns the raw IFLA_INFO_DATA / IFLA_INFO_SLAVE_DATA attributes
per ifindex, and RTM_NEWLINK requests that set one such attribute.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
from dataclasses import dataclass, field

NLMSG_ERROR = 2
NLMSG_DONE = 3
RTM_NEWLINK = 16
RTM_GETLINK = 18
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF
IFLA_LINKINFO = 18
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
IFLA_INFO_SLAVE_KIND = 4
IFLA_INFO_SLAVE_DATA = 5

_NLMSG = struct.Struct("=IHHII")
_IFINFO = struct.Struct("=BxHiII")
_NLA = struct.Struct("=HH")


@dataclass
class RawLink:
    """The raw nested attributes of one link, keyed by attribute type."""

    kind: str = ""
    data: dict[int, bytes] = field(default_factory=dict)
    slave_kind: str = ""
    slave_data: dict[int, bytes] = field(default_factory=dict)


def attrs(payload: bytes) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    offset = 0
    while offset + _NLA.size <= len(payload):
        length, kind = _NLA.unpack_from(payload, offset)
        if length < _NLA.size:
            break
        found[kind & NLA_TYPE_MASK] = payload[offset + _NLA.size : offset + length]
        offset += (length + 3) & ~3
    return found


def attr(kind: int, payload: bytes, nested: bool = False) -> bytes:
    header = _NLA.pack(_NLA.size + len(payload), kind | (NLA_F_NESTED if nested else 0))
    return (header + payload).ljust((len(header) + len(payload) + 3) & ~3, b"\0")


def _string(payload: bytes) -> str:
    return payload.split(b"\0")[0].decode()


class RawLinkSocket:
    """A NETLINK_ROUTE socket in the caller's network namespace."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.seq = 0

    def close(self) -> None:
        self.sock.close()

    def _send(self, msg_type: int, flags: int, body: bytes) -> int:
        self.seq += 1
        self.sock.send(_NLMSG.pack(_NLMSG.size + len(body), msg_type, flags, self.seq, 0) + body)
        return self.seq

    def dump(self) -> dict[int, RawLink]:
        """Every link's raw bond data, from one RTM_GETLINK dump."""
        seq = self._send(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, _IFINFO.pack(0, 0, 0, 0, 0))
        links: dict[int, RawLink] = {}
        while True:
            data = self.sock.recv(1 << 20)
            offset = 0
            while offset + _NLMSG.size <= len(data):
                length, msg_type, _, msg_seq, _ = _NLMSG.unpack_from(data, offset)
                body = data[offset + _NLMSG.size : offset + length]
                offset += (length + 3) & ~3
                if msg_seq != seq:
                    continue
                if msg_type == NLMSG_DONE:
                    return links
                if msg_type == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", body)[0]
                    raise OSError(code, os.strerror(code))
                if msg_type == RTM_NEWLINK:
                    index = _IFINFO.unpack_from(body)[2]
                    links[index] = _raw_link(attrs(body[_IFINFO.size :]))

    def set_bond_attr(self, index: int, payload: bytes, *, port: bool = False) -> None:
        """Send one IFLA_INFO_DATA (or, for a port, IFLA_INFO_SLAVE_DATA) attribute."""
        if port:
            info = attr(IFLA_INFO_SLAVE_DATA, payload, nested=True)
        else:
            info = attr(IFLA_INFO_KIND, b"bond\0") + attr(IFLA_INFO_DATA, payload, nested=True)
        body = _IFINFO.pack(0, 0, index, 0, 0) + attr(IFLA_LINKINFO, info, nested=True)
        seq = self._send(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, body)
        while True:
            data = self.sock.recv(1 << 16)
            _, msg_type, _, msg_seq, _ = _NLMSG.unpack_from(data)
            if msg_seq == seq and msg_type == NLMSG_ERROR:
                code = -struct.unpack_from("=i", data, _NLMSG.size)[0]
                if code:
                    raise OSError(code, os.strerror(code))
                return


def _raw_link(top: dict[int, bytes]) -> RawLink:
    link = RawLink()
    info = top.get(IFLA_LINKINFO)
    if info is None:
        return link
    nested = attrs(info)
    link.kind = _string(nested.get(IFLA_INFO_KIND, b""))
    link.slave_kind = _string(nested.get(IFLA_INFO_SLAVE_KIND, b""))
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
