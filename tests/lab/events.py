"""Watch rtnetlink link events with a raw socket, independent of pyroute2.

Used to prove that an apply changed nothing (no event at all) or changed an
option live (no link went down). Parses just the ifinfomsg header and name.
"""

from __future__ import annotations

import select
import socket
import struct
from dataclasses import dataclass

RTMGRP_LINK = 1
RTM_NEWLINK = 16
RTM_DELLINK = 17
IFLA_IFNAME = 3
IFF_UP = 0x1
IFF_LOWER_UP = 0x10000
_NLMSG = struct.Struct("=IHHII")
_IFINFO = struct.Struct("=BxHiII")


@dataclass(frozen=True)
class LinkEvent:
    kind: str  # "new" or "del"
    ifname: str
    flags: int

    @property
    def up(self) -> bool:
        return bool(self.flags & IFF_UP)

    @property
    def lower_up(self) -> bool:
        return bool(self.flags & IFF_LOWER_UP)


class LinkEvents:
    """Collects link events from the moment it is opened (in the current namespace)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((0, RTMGRP_LINK))

    def drain(self, wait: float = 0.2) -> list[LinkEvent]:
        events: list[LinkEvent] = []
        while select.select([self.sock], [], [], wait)[0]:
            data = self.sock.recv(1 << 16)
            events.extend(_parse(data))
            wait = 0.05
        return events

    def close(self) -> None:
        self.sock.close()


def _parse(data: bytes) -> list[LinkEvent]:
    events = []
    offset = 0
    while offset + _NLMSG.size <= len(data):
        length, msg_type, _, _, _ = _NLMSG.unpack_from(data, offset)
        if length < _NLMSG.size:
            break
        if msg_type in (RTM_NEWLINK, RTM_DELLINK):
            body = offset + _NLMSG.size
            _, _, _, flags, _ = _IFINFO.unpack_from(data, body)
            events.append(
                LinkEvent(
                    "new" if msg_type == RTM_NEWLINK else "del",
                    _ifname(data[body + _IFINFO.size : offset + length]),
                    flags,
                )
            )
        offset += (length + 3) & ~3
    return events


def _ifname(attrs: bytes) -> str:
    offset = 0
    while offset + 4 <= len(attrs):
        length, kind = struct.unpack_from("=HH", attrs, offset)
        if length < 4:
            break
        if kind == IFLA_IFNAME:
            return attrs[offset + 4 : offset + length].split(b"\0")[0].decode()
        offset += (length + 3) & ~3
    return "?"
