"""ICMP echo on a raw socket: the one place bondd builds an echo request.

Two callers send pings: the post-apply connectivity probe
(bondd/kernel/probe.py, one request and its answer) and the failover drill's
echo stream (bondd/drill/echo.py, a request every few milliseconds). Both
need the same raw socket, optionally bound to a device, and the same
header; the checksum is ours to compute for ICMPv4 (the kernel fills in
ICMPv6's). Needs CAP_NET_RAW.
"""

from __future__ import annotations

import socket
import struct

HEADER = struct.Struct("!BBHHH")  # type, code, checksum, identifier, sequence
ECHO_REQUEST = {4: 8, 6: 128}
ECHO_REPLY = {4: 0, 6: 129}


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071): one's complement of the one's complement sum."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return int(~total & 0xFFFF)


def bind_device(sock: socket.socket, device: str | None) -> None:
    """Send and receive only through `device` (SO_BINDTODEVICE), when one is named."""
    if device:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device.encode())


def open_echo_socket(version: int, device: str | None = None) -> socket.socket:
    """A raw ICMP (version 4) or ICMPv6 (version 6) socket, bound to `device` if given."""
    family, proto = (
        (socket.AF_INET6, socket.IPPROTO_ICMPV6)
        if version == 6
        else (socket.AF_INET, socket.IPPROTO_ICMP)
    )
    sock = socket.socket(family, socket.SOCK_RAW, proto)
    try:
        bind_device(sock, device)
    except OSError:
        sock.close()
        raise
    return sock


def echo_request(version: int, ident: int, seq: int, payload: bytes) -> bytes:
    """An echo request packet, checksummed for ICMPv4."""
    kind = ECHO_REQUEST[version]
    header = HEADER.pack(kind, 0, 0, ident, seq)
    total = 0 if version == 6 else checksum(header + payload)
    return HEADER.pack(kind, 0, total, ident, seq) + payload


def icmp_part(version: int, data: bytes) -> bytes:
    """The ICMP message of a received datagram: IPv4 raw sockets also deliver the IP header."""
    return data if version == 6 else data[(data[0] & 0x0F) * 4 :]
