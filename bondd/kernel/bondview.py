"""The bonds and their ports only, from one raw RTM_GETLINK dump: the metrics' read.

The full reader (bondd.kernel.reader) decodes links, addresses and routes
through pyroute2 and takes most of a second on a 64-bond host; the metrics
need none of the addresses and routes, and only a few link attributes: name,
kind, master, admin state, carrier, MAC, and the bond and port run-time state
(mode, active port, 802.3ad aggregator and partner, MII status, link
failures, aggregator id, actor and partner oper states). This module reads
exactly those from one dump over a plain netlink socket, tens of times faster,
so a daemon can refresh its metrics file after every event without holding
its loop. The result is an `ActualState` whose bonds carry only the `mode`
option; everything else the metrics read is the same as the full reader's.
"""

from __future__ import annotations

import os
import socket
import struct

from bondd.kernel.rawlink import attrs
from bondd.model import ActualState, AdInfo, BondMode, BondOptions, BondState, PortState

NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_GETLINK = 16, 18
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MASTER, IFLA_LINKINFO, IFLA_CARRIER = 1, 3, 10, 18, 33
IFLA_PERM_ADDRESS = 54
IFLA_INFO_KIND, IFLA_INFO_DATA, IFLA_INFO_SLAVE_KIND, IFLA_INFO_SLAVE_DATA = 1, 2, 4, 5
IFLA_BOND_MODE, IFLA_BOND_ACTIVE_SLAVE, IFLA_BOND_AD_INFO = 1, 2, 23
AD_AGGREGATOR, AD_NUM_PORTS, AD_ACTOR_KEY, AD_PARTNER_KEY, AD_PARTNER_MAC = 1, 2, 3, 4, 5
SLAVE_STATE, SLAVE_MII_STATUS, SLAVE_LINK_FAILURES, SLAVE_PERM_HWADDR = 1, 2, 3, 4
SLAVE_AGGREGATOR_ID, SLAVE_ACTOR_STATE, SLAVE_PARTNER_STATE = 6, 7, 8
IFF_UP = 0x1
MODES = (
    BondMode.BALANCE_RR,
    BondMode.ACTIVE_BACKUP,
    BondMode.BALANCE_XOR,
    BondMode.BROADCAST,
    BondMode.IEEE_802_3AD,
    BondMode.BALANCE_TLB,
    BondMode.BALANCE_ALB,
)
_NLMSG = struct.Struct("=IHHII")
_IFINFO = struct.Struct("=BxHiII")


def _int(data: dict[int, bytes], kind: int, fmt: str) -> int | None:
    value = data.get(kind)
    return None if value is None else int(struct.unpack_from("=" + fmt, value)[0])


def _mac(value: bytes | None) -> str | None:
    if not value or len(value) != 6:
        return None
    return ":".join(f"{b:02x}" for b in value)


def _string(value: bytes | None) -> str:
    return value.split(b"\0")[0].decode() if value else ""


class _Link:
    """One RTM_NEWLINK message, reduced to what the metrics read."""

    def __init__(self, index: int, flags: int, top: dict[int, bytes]) -> None:
        self.index = index
        self.flags = flags
        self.name = _string(top.get(IFLA_IFNAME))
        self.master = _int(top, IFLA_MASTER, "I") or 0
        self.carrier = bool(_int(top, IFLA_CARRIER, "B"))
        self.mac = _mac(top.get(IFLA_ADDRESS))
        self.perm_mac = _mac(top.get(IFLA_PERM_ADDRESS))
        info = attrs(top.get(IFLA_LINKINFO, b""))
        self.kind = _string(info.get(IFLA_INFO_KIND))
        self.slave_kind = _string(info.get(IFLA_INFO_SLAVE_KIND))
        self.data = attrs(info.get(IFLA_INFO_DATA, b""))
        self.slave_data = attrs(info.get(IFLA_INFO_SLAVE_DATA, b""))


class BondViewReader:
    """A NETLINK_ROUTE socket of its own, in the caller's network namespace."""

    def __init__(self) -> None:
        self.sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE
        )
        self.sock.bind((0, 0))
        self.seq = 0

    def close(self) -> None:
        self.sock.close()

    def read(self) -> ActualState:
        return build(self._dump())

    def _dump(self) -> list[_Link]:
        self.seq += 1
        body = _IFINFO.pack(0, 0, 0, 0, 0)
        header = _NLMSG.pack(
            _NLMSG.size + len(body), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, self.seq, 0
        )
        self.sock.send(header + body)
        links: list[_Link] = []
        while True:
            data = self.sock.recv(1 << 20)
            offset = 0
            while offset + _NLMSG.size <= len(data):
                length, msg_type, _, seq, _ = _NLMSG.unpack_from(data, offset)
                payload = data[offset + _NLMSG.size : offset + length]
                offset += (length + 3) & ~3
                if seq != self.seq:
                    continue
                if msg_type == NLMSG_DONE:
                    return links
                if msg_type == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", payload)[0]
                    raise OSError(code, os.strerror(code))
                if msg_type == RTM_NEWLINK:
                    _, _, index, flags, _ = _IFINFO.unpack_from(payload)
                    links.append(_Link(index, flags, attrs(payload[_IFINFO.size :])))


def build(links: list[_Link]) -> ActualState:
    names = {link.index: link.name for link in links}
    plain = [_port(link, names) for link in links if link.kind != "bond"]
    bonds = [_bond(link, names, plain) for link in links if link.kind == "bond"]
    return ActualState(
        bonds=tuple(sorted(bonds, key=lambda b: b.name)),
        links=tuple(sorted(plain, key=lambda p: p.name)),
    )


def _port(link: _Link, names: dict[int, str]) -> PortState:
    fields: dict[str, object] = {"perm_macaddress": link.perm_mac}
    if link.slave_kind == "bond":
        data = link.slave_data
        fields = {
            "perm_macaddress": _mac(data.get(SLAVE_PERM_HWADDR)) or link.perm_mac,
            "mii_up": _int(data, SLAVE_MII_STATUS, "B") == 0,
            "link_failures": _int(data, SLAVE_LINK_FAILURES, "I") or 0,
            "backup": _int(data, SLAVE_STATE, "B") == 1,
            "ad_aggregator_id": _int(data, SLAVE_AGGREGATOR_ID, "H"),
            "ad_actor_state": _int(data, SLAVE_ACTOR_STATE, "B"),
            "ad_partner_state": _int(data, SLAVE_PARTNER_STATE, "H"),
        }
    return PortState(
        name=link.name,
        ifindex=link.index,
        macaddress=link.mac,
        up=bool(link.flags & IFF_UP),
        kind=link.kind,
        master=names.get(link.master) if link.master else None,
        carrier=link.carrier,
        **fields,  # type: ignore[arg-type]
    )


def _bond(link: _Link, names: dict[int, str], plain: list[PortState]) -> BondState:
    mode = _int(link.data, IFLA_BOND_MODE, "B") or 0
    active = _int(link.data, IFLA_BOND_ACTIVE_SLAVE, "I")
    ad_info = None
    if IFLA_BOND_AD_INFO in link.data:
        ad = attrs(link.data[IFLA_BOND_AD_INFO])
        ad_info = AdInfo(
            aggregator=_int(ad, AD_AGGREGATOR, "H") or 0,
            num_ports=_int(ad, AD_NUM_PORTS, "H") or 0,
            actor_key=_int(ad, AD_ACTOR_KEY, "H") or 0,
            partner_key=_int(ad, AD_PARTNER_KEY, "H") or 0,
            partner_mac=_mac(ad.get(AD_PARTNER_MAC)) or "00:00:00:00:00:00",
        )
    return BondState(
        name=link.name,
        ifindex=link.index,
        ports=tuple(p for p in plain if p.master == link.name and p.mii_up is not None),
        options=BondOptions({"mode": MODES[mode].value if mode < len(MODES) else "balance-rr"}),
        macaddress=link.mac,
        up=bool(link.flags & IFF_UP),
        carrier=link.carrier,
        active_port=names.get(active) if active else None,
        ad_info=ad_info,
    )
