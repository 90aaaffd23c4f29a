"""Kernel events the daemon wakes on: link, address and route changes.

A raw rtnetlink socket subscribed to the link, IPv4/IPv6 address and route
groups; each message is reduced to what the daemon decides on: which
interface, whether something it manages may have changed (admin state,
master, options, addresses, routes, deletion) or only carrier, and bonding
failover events. Carrier flaps are not drift, so they never cost a pass.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV4_ROUTE = 0x40
RTMGRP_IPV6_IFADDR = 0x100
RTMGRP_IPV6_ROUTE = 0x400
RTM_NEWLINK, RTM_DELLINK = 16, 17
RTM_NEWADDR, RTM_DELADDR = 20, 21
RTM_NEWROUTE, RTM_DELROUTE = 24, 25
IFLA_IFNAME = 3
IFLA_MASTER = 10
IFLA_EVENT = 44
IFLA_EVENT_BONDING_FAILOVER = 3
IFLA_EVENT_BONDING_OPTIONS = 6
RTA_OIF = 4
IFF_UP = 0x1
_NLMSG = struct.Struct("=IHHII")
_IFINFO = struct.Struct("=BxHiII")
_IFADDR = struct.Struct("=BBBBi")
_RTMSG = struct.Struct("=BBBBBBBBI")


@dataclass(frozen=True)
class KernelEvent:
    kind: str  # "link", "link-deleted", "address", "route"
    ifindex: int
    ifname: str = ""
    up: bool = False
    master: int = 0
    failover: bool = False
    options_changed: bool = False


def _attrs(data: bytes) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    offset = 0
    while offset + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, offset)
        if length < 4:
            break
        found[kind & 0x3FFF] = data[offset + 4 : offset + length]
        offset += (length + 3) & ~3
    return found


def parse(data: bytes) -> list[KernelEvent]:
    events: list[KernelEvent] = []
    offset = 0
    while offset + _NLMSG.size <= len(data):
        length, msg_type, _, _, _ = _NLMSG.unpack_from(data, offset)
        if length < _NLMSG.size:
            break
        body = data[offset + _NLMSG.size : offset + length]
        offset += (length + 3) & ~3
        if msg_type in (RTM_NEWLINK, RTM_DELLINK) and len(body) >= _IFINFO.size:
            _, _, index, flags, _ = _IFINFO.unpack_from(body)
            attrs = _attrs(body[_IFINFO.size :])
            name = attrs.get(IFLA_IFNAME, b"").split(b"\0")[0].decode(errors="replace")
            master = struct.unpack("=I", attrs[IFLA_MASTER])[0] if IFLA_MASTER in attrs else 0
            event = struct.unpack("=I", attrs[IFLA_EVENT])[0] if IFLA_EVENT in attrs else 0
            events.append(
                KernelEvent(
                    "link" if msg_type == RTM_NEWLINK else "link-deleted",
                    index,
                    name,
                    up=bool(flags & IFF_UP),
                    master=master,
                    failover=event == IFLA_EVENT_BONDING_FAILOVER,
                    options_changed=event == IFLA_EVENT_BONDING_OPTIONS,
                )
            )
        elif msg_type in (RTM_NEWADDR, RTM_DELADDR) and len(body) >= _IFADDR.size:
            events.append(KernelEvent("address", _IFADDR.unpack_from(body)[4]))
        elif msg_type in (RTM_NEWROUTE, RTM_DELROUTE) and len(body) >= _RTMSG.size:
            attrs = _attrs(body[_RTMSG.size :])
            oif = struct.unpack("=I", attrs[RTA_OIF])[0] if RTA_OIF in attrs else 0
            events.append(KernelEvent("route", oif))
    return events


class EventSocket:
    """Non-blocking; the daemon's selector reads it when it is ready."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        groups = (
            RTMGRP_LINK
            | RTMGRP_IPV4_IFADDR
            | RTMGRP_IPV6_IFADDR
            | RTMGRP_IPV4_ROUTE
            | RTMGRP_IPV6_ROUTE
        )
        self.sock.bind((0, groups))
        self.sock.setblocking(False)

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self) -> tuple[list[KernelEvent], bool]:
        """Pending events, and whether some were lost (buffer overrun: resync everything)."""
        events: list[KernelEvent] = []
        lost = False
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except BlockingIOError:
                return events, lost
            except OSError:  # ENOBUFS: the kernel dropped messages
                lost = True
                continue
            events.extend(parse(data))

    def close(self) -> None:
        self.sock.close()
