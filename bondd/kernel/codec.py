"""bondd's one rtnetlink codec: framing, attributes, the link/address/route headers.

Every netlink byte bondd reads goes through here: the reader's dumps, the
per-bond reads, the daemon's event socket, the drill's and the writer's raw
requests. It is small on purpose and depends on nothing but the standard
library, so it decodes the same bytes the same way whatever pyroute2 version
is installed, and its unit tests run on captured kernel messages
(tests/unit/netlink/) without a kernel.

Framing follows netlink(7): a datagram holds one or more messages, each a
`struct nlmsghdr` padded to 4 bytes; a dump answers in several datagrams,
ended by NLMSG_DONE; an error or an acknowledgement is NLMSG_ERROR with a
negative errno (0 = ack). Attributes are `struct nlattr` (length, type), the
type's top bits being flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER) that are
masked off.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_OVERRUN = 4
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLA_F_NESTED = 0x8000
NLA_F_NET_BYTEORDER = 0x4000
NLA_TYPE_MASK = 0x3FFF
SOL_NETLINK = 270
NETLINK_GET_STRICT_CHK = 12

RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26

NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
IFADDRMSG = struct.Struct("=BBBBi")  # family, prefixlen, flags, scope, index
RTMSG = struct.Struct(
    "=BBBBBBBBI"
)  # family, dst_len, src_len, tos, table, proto, scope, type, flags
NLATTR = struct.Struct("=HH")
_ERRNO = struct.Struct("=i")

# A dump the kernel marks interrupted (the table changed under it) is re-run
# this many times before its last answer is used as it is.
DUMP_RETRIES = 3
RECV_SIZE = 1 << 16  # the kernel caps a dump datagram at 32 KiB


@dataclass(frozen=True)
class Message:
    """One netlink message: header fields and the body after `struct nlmsghdr`."""

    type: int
    flags: int
    seq: int
    pid: int
    body: bytes


def messages(data: bytes) -> Iterator[Message]:
    """The messages of one datagram; a truncated or malformed tail ends it."""
    offset = 0
    while offset + NLMSGHDR.size <= len(data):
        length, msg_type, flags, seq, pid = NLMSGHDR.unpack_from(data, offset)
        if length < NLMSGHDR.size or offset + length > len(data):
            return
        yield Message(msg_type, flags, seq, pid, data[offset + NLMSGHDR.size : offset + length])
        offset += (length + 3) & ~3


def error_code(msg: Message) -> int:
    """The positive errno an NLMSG_ERROR (or NLMSG_DONE) carries; 0 for an ack."""
    if len(msg.body) < _ERRNO.size:
        return 0
    return -int(_ERRNO.unpack_from(msg.body)[0])


def encode_message(msg_type: int, flags: int, seq: int, body: bytes) -> bytes:
    return NLMSGHDR.pack(NLMSGHDR.size + len(body), msg_type, flags, seq, 0) + body


# -- attributes ------------------------------------------------------------------


def attr_list(payload: bytes) -> list[tuple[int, bytes]]:
    """Attributes in wire order, flags masked off (arrays keep order and repeats)."""
    # The reader's hot loop (1,000 VLANs: ~50,000 attributes a read): locals only.
    found: list[tuple[int, bytes]] = []
    unpack = NLATTR.unpack_from
    size, end, offset = NLATTR.size, len(payload), 0
    while offset + size <= end:
        length, kind = unpack(payload, offset)
        if length < size or offset + length > end:
            break
        found.append((kind & NLA_TYPE_MASK, payload[offset + size : offset + length]))
        offset += (length + 3) & ~3
    return found


def attrs(payload: bytes) -> dict[int, bytes]:
    """Attributes by type (a repeated type: the last one)."""
    return dict(attr_list(payload))


def attr(kind: int, payload: bytes, nested: bool = False) -> bytes:
    """One encoded attribute, padded to 4 bytes."""
    header = NLATTR.pack(NLATTR.size + len(payload), kind | (NLA_F_NESTED if nested else 0))
    return (header + payload).ljust((len(header) + len(payload) + 3) & ~3, b"\0")


def uint(payload: bytes) -> int:
    """An unsigned attribute of any width (u8, u16, u32, u64), host byte order."""
    return int.from_bytes(payload, "little" if _LITTLE else "big")


def sint(payload: bytes) -> int:
    """A signed attribute (s8 .. s64), host byte order."""
    return int.from_bytes(payload, "little" if _LITTLE else "big", signed=True)


def string(payload: bytes) -> str:
    """A NUL-terminated string attribute."""
    return payload.split(b"\0", 1)[0].decode(errors="replace")


def hwaddr(payload: bytes) -> str | None:
    """A link-layer address as iproute2 prints it (lowercase, colons); None when empty."""
    return ":".join(f"{b:02x}" for b in payload) if payload else None


_LITTLE = struct.pack("=H", 1) == b"\x01\x00"


# -- the rtnetlink headers ---------------------------------------------------------


class IfInfo(NamedTuple):
    family: int
    type: int
    ifindex: int
    flags: int
    change: int


class IfAddr(NamedTuple):
    family: int
    prefixlen: int
    flags: int
    scope: int
    ifindex: int


class RtMsg(NamedTuple):
    family: int
    dst_len: int
    src_len: int
    tos: int
    table: int
    protocol: int
    scope: int
    type: int
    flags: int


def ifinfo(body: bytes) -> tuple[IfInfo, dict[int, bytes]] | None:
    """A link message's header and attributes; None when the body is too short."""
    if len(body) < IFINFOMSG.size:
        return None
    return IfInfo(*IFINFOMSG.unpack_from(body)), attrs(body[IFINFOMSG.size :])


def ifaddr(body: bytes) -> tuple[IfAddr, dict[int, bytes]] | None:
    if len(body) < IFADDRMSG.size:
        return None
    return IfAddr(*IFADDRMSG.unpack_from(body)), attrs(body[IFADDRMSG.size :])


def rtmsg(body: bytes) -> tuple[RtMsg, dict[int, bytes]] | None:
    if len(body) < RTMSG.size:
        return None
    return RtMsg(*RTMSG.unpack_from(body)), attrs(body[RTMSG.size :])


# -- a request/response socket ------------------------------------------------------


class RouteSocket:
    """A NETLINK_ROUTE socket in the caller's network namespace, for requests and dumps.

    `strict` asks the kernel to check dump requests strictly and honour
    their filters (an address dump of one ifindex, a route dump of one
    output interface); `self.strict` says whether it agreed (Linux 4.20+).
    Callers filter the answers again anyway, so both cases read the same.
    """

    def __init__(self, strict: bool = False) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.seq = 0
        self.strict = False
        if strict:
            try:
                self.sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
                self.strict = True
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RouteSocket:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def send(self, msg_type: int, flags: int, body: bytes) -> int:
        self.seq += 1
        self.sock.send(encode_message(msg_type, flags | NLM_F_REQUEST, self.seq, body))
        return self.seq

    def _replies(self, seq: int) -> Iterator[Message]:
        """This request's messages, datagram by datagram, until DONE or an error/ack."""
        while True:
            try:
                data = self.sock.recv(RECV_SIZE)
            except InterruptedError:  # pragma: no cover - Python retries EINTR itself
                continue
            for msg in messages(data):
                if msg.seq != seq:
                    continue  # a late answer to an earlier request
                yield msg
                if msg.type in (NLMSG_DONE, NLMSG_ERROR):
                    return

    def dump(self, msg_type: int, body: bytes, attributes: bytes = b"") -> list[Message]:
        """Every message of one dump (multi-part), re-run when the kernel marks it interrupted."""
        for attempt in range(DUMP_RETRIES + 1):
            found: list[Message] = []
            interrupted = False
            seq = self.send(msg_type, NLM_F_DUMP, body + attributes)
            for msg in self._replies(seq):
                interrupted |= bool(msg.flags & NLM_F_DUMP_INTR)
                if msg.type in (NLMSG_DONE, NLMSG_ERROR):
                    code = error_code(msg)
                    if code:
                        raise OSError(code, os.strerror(code))
                elif msg.type not in (NLMSG_NOOP, NLMSG_OVERRUN):
                    found.append(msg)
            if not interrupted or attempt == DUMP_RETRIES:
                return found
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, msg_type: int, body: bytes) -> Message | None:
        """One object (e.g. RTM_GETLINK of one ifindex); None when the kernel has none."""
        seq = self.send(msg_type, 0, body)
        for msg in self._replies(seq):
            if msg.type == NLMSG_ERROR:
                code = error_code(msg)
                if code in (errno.ENODEV, errno.ENOENT):
                    return None
                raise OSError(code, os.strerror(code))
            return msg
        return None  # pragma: no cover - the kernel always answers

    def request(self, msg_type: int, body: bytes, flags: int = 0) -> None:
        """A change (RTM_NEWLINK ...), acknowledged; OSError with the kernel's errno.

        `flags`: NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE as the request needs."""
        seq = self.send(msg_type, NLM_F_ACK | flags, body)
        for msg in self._replies(seq):
            if msg.type == NLMSG_ERROR:
                code = error_code(msg)
                if code:
                    raise OSError(code, os.strerror(code))
                return
