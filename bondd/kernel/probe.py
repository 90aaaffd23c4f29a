"""Connectivity probes: does the network still work after a change?

ICMP echo (ping), ARP (a reply from the target on the bond's link) and TCP
connect, each bounded by a timeout. The engine drives them through its
Prober interface; this module owns the sockets. Needs CAP_NET_RAW for
ping and ARP (bondd runs as root).
"""

from __future__ import annotations

import errno
import fcntl
import ipaddress
import secrets
import select
import socket
import struct
import time
from dataclasses import dataclass

from bondd.kernel import icmp
from bondd.model import ProbeSpec, ProbeType

ETH_P_ARP = 0x0806
ETH_P_IP = 0x0800
SIOCGIFADDR = 0x8915
SIOCGIFHWADDR = 0x8927


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str
    seconds: float = 0.0


def describe(probe: ProbeSpec) -> str:
    parts = [probe.type.value, probe.target]
    if probe.port is not None:
        parts.append(f"port {probe.port}")
    if probe.via:
        parts.append(f"via {probe.via}")
    return " ".join(parts)


class NetworkProber:
    """Runs one probe attempt at a time; the engine decides how often and how long."""

    def check(self, probe: ProbeSpec, timeout: float) -> ProbeResult:
        started = time.monotonic()
        try:
            if probe.type is ProbeType.PING:
                ok, detail = _ping(probe.target, probe.via, timeout)
            elif probe.type is ProbeType.ARP:
                ok, detail = _arp(probe.target, probe.via, timeout)
            else:
                ok, detail = _tcp(probe.target, probe.port or 0, probe.via, timeout)
        except OSError as exc:
            ok, detail = False, exc.strerror or str(exc)
        return ProbeResult(ok, detail, time.monotonic() - started)


def _ping(target: str, via: str | None, timeout: float) -> tuple[bool, str]:
    address = ipaddress.ip_address(target.split("%", maxsplit=1)[0])  # replies carry no zone id
    version = address.version
    # Unpredictable id, sequence and payload: a reply is ours only if it echoes
    # all three, so neither another pinger nor a forger can pass the probe.
    ident, seq = secrets.randbelow(1 << 16), secrets.randbelow(1 << 16)
    payload = b"bondd-probe" + secrets.token_bytes(8)
    with icmp.open_echo_socket(version, via) as sock:
        sock.sendto(icmp.echo_request(version, ident, seq, payload), (target, 0))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([sock], [], [], left)[0]:
                break
            data, peer = sock.recvfrom(2048)
            if ipaddress.ip_address(peer[0].split("%")[0]) != address:
                continue
            reply = icmp.icmp_part(version, data)
            if is_echo_reply(reply, icmp.ECHO_REPLY[version], ident, seq, payload):
                return True, "echo reply"
    return False, f"no echo reply within {timeout:g}s"


def is_echo_reply(message: bytes, kind: int, ident: int, seq: int, payload: bytes) -> bool:
    """An ICMP(v6) echo reply to exactly our request: type, id, sequence and payload."""
    if len(message) < 8 + len(payload):
        return False
    rkind, code, _, rid, rseq = icmp.HEADER.unpack_from(message)
    return (rkind, code, rid, rseq) == (kind, 0, ident, seq) and message[8:] == payload


def is_arp_reply(data: bytes, target_ip: bytes, our_mac: bytes, our_ip: bytes) -> bool:
    """An Ethernet/IPv4 ARP reply from the target's IP to our MAC and IP."""
    if len(data) < 28:
        return False
    htype, ptype, hlen, plen, op = struct.unpack_from("!HHBBH", data)
    return (
        (htype, ptype, hlen, plen, op) == (1, ETH_P_IP, 6, 4, 2)
        and data[14:18] == target_ip
        and data[18:24] == our_mac
        and data[24:28] == our_ip
    )


def _interface_ipv4(sock: socket.socket, ifname: str) -> bytes:
    request = struct.pack("256s", ifname.encode()[:15])
    return fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request)[20:24]


def _interface_mac(sock: socket.socket, ifname: str) -> bytes:
    request = struct.pack("256s", ifname.encode()[:15])
    return fcntl.ioctl(sock.fileno(), SIOCGIFHWADDR, request)[18:24]


def _arp(target: str, via: str | None, timeout: float) -> tuple[bool, str]:
    if not via:
        return False, "an ARP probe needs `via` (the interface to ask on)"
    target_ip = ipaddress.IPv4Address(target).packed
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as helper:
        try:
            sender_ip = _interface_ipv4(helper, via)
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                return False, f"{via} has no IPv4 address to ask from"
            raise
        sender_mac = _interface_mac(helper, via)
    with socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ARP)) as sock:
        sock.bind((via, ETH_P_ARP))
        request = struct.pack(
            "!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, 1, sender_mac, sender_ip, b"\0" * 6, target_ip
        )
        sock.sendto(request, (via, ETH_P_ARP, 0, 0, b"\xff" * 6))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([sock], [], [], left)[0]:
                break
            data = sock.recv(2048)
            if is_arp_reply(data, target_ip, sender_mac, sender_ip):
                mac = ":".join(f"{b:02x}" for b in data[8:14])
                return True, f"{target} is at {mac}"
    return False, f"no ARP reply from {target} on {via} within {timeout:g}s"


def _tcp(target: str, port: int, via: str | None, timeout: float) -> tuple[bool, str]:
    family = socket.AF_INET6 if ipaddress.ip_address(target).version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        icmp.bind_device(sock, via)
        sock.settimeout(timeout)
        try:
            sock.connect((target, port))
        except TimeoutError:
            return False, f"no answer from {target}:{port} within {timeout:g}s"
        except ConnectionRefusedError:
            return False, f"{target}:{port} refused the connection"
    return True, f"connected to {target}:{port}"
