"""Kernel events the daemon wakes on: link, address and route changes.

A raw rtnetlink socket subscribed to the link, IPv4/IPv6 address and route
groups; each message is reduced to what the daemon decides on: which
interface, whether something it manages may have changed (admin state,
master, options, addresses, routes, deletion) or only carrier, and bonding
failover events. Carrier flaps are not drift, so they never cost a pass.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from bondd.kernel import codec

RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV4_ROUTE = 0x40
RTMGRP_IPV6_IFADDR = 0x100
RTMGRP_IPV6_ROUTE = 0x400
IFLA_IFNAME = 3
IFLA_MASTER = 10
IFLA_EVENT = 44
IFLA_EVENT_BONDING_FAILOVER = 3
IFLA_EVENT_BONDING_OPTIONS = 6
RTA_OIF = 4
IFF_UP = 0x1
_LINK = (codec.RTM_NEWLINK, codec.RTM_DELLINK)
_ADDR = (codec.RTM_NEWADDR, codec.RTM_DELADDR)
_ROUTE = (codec.RTM_NEWROUTE, codec.RTM_DELROUTE)


@dataclass(frozen=True)
class KernelEvent:
    kind: str  # "link", "link-deleted", "address", "route"
    ifindex: int
    ifname: str = ""
    up: bool = False
    master: int = 0
    failover: bool = False
    options_changed: bool = False


def parse(data: bytes) -> list[KernelEvent]:
    """The events in one datagram from the event socket (bondd.kernel.codec framing)."""
    events: list[KernelEvent] = []
    for msg in codec.messages(data):
        if msg.type in _LINK and (link := codec.ifinfo(msg.body)) is not None:
            info, attrs = link
            event = codec.uint(attrs.get(IFLA_EVENT, b""))
            events.append(
                KernelEvent(
                    "link" if msg.type == codec.RTM_NEWLINK else "link-deleted",
                    info.ifindex,
                    codec.string(attrs.get(IFLA_IFNAME, b"")),
                    up=bool(info.flags & IFF_UP),
                    master=codec.uint(attrs.get(IFLA_MASTER, b"")),
                    failover=event == IFLA_EVENT_BONDING_FAILOVER,
                    options_changed=event == IFLA_EVENT_BONDING_OPTIONS,
                )
            )
        elif msg.type in _ADDR and (addr := codec.ifaddr(msg.body)) is not None:
            events.append(KernelEvent("address", addr[0].ifindex))
        elif msg.type in _ROUTE and (route := codec.rtmsg(msg.body)) is not None:
            events.append(KernelEvent("route", codec.uint(route[1].get(RTA_OIF, b""))))
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
        """Pending events, and whether some were lost (buffer overrun: resync everything).

        ENOBUFS is the kernel saying it dropped messages for this socket: the
        events so far are kept and the caller resyncs. EINTR is retried. Any
        other error is not an overrun and is raised as what it is, never
        retried here for ever.
        """
        events: list[KernelEvent] = []
        lost = False
        while True:
            try:
                data = self.sock.recv(codec.RECV_SIZE)
            except BlockingIOError:
                return events, lost
            except InterruptedError:  # pragma: no cover - Python retries EINTR itself
                continue
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                lost = True
                continue  # the error is reported once; what is queued after it is readable
            events.extend(parse(data))

    def close(self) -> None:
        self.sock.close()
