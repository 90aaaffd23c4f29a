"""Probe replies count only when they answer exactly our request."""

from __future__ import annotations

import struct

import pytest

from bondd.kernel.probe import ETH_P_IP, is_arp_reply, is_echo_reply

pytestmark = pytest.mark.unit

OUR_MAC, OUR_IP = bytes.fromhex("525400000001"), bytes([10, 0, 0, 2])
TARGET_IP, TARGET_MAC = bytes([10, 0, 0, 1]), bytes.fromhex("525400000099")


def arp(op: int = 2, sender_ip: bytes = TARGET_IP, to_mac: bytes = OUR_MAC) -> bytes:
    return struct.pack(
        "!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, op, TARGET_MAC, sender_ip, to_mac, OUR_IP
    )


def test_an_arp_reply_must_come_from_the_target_ip_to_our_mac() -> None:
    assert is_arp_reply(arp(), TARGET_IP, OUR_MAC, OUR_IP)
    assert not is_arp_reply(arp(op=1), TARGET_IP, OUR_MAC, OUR_IP)  # a request, not a reply
    assert not is_arp_reply(arp(to_mac=b"\xff" * 6), TARGET_IP, OUR_MAC, OUR_IP)  # not to us
    assert not is_arp_reply(arp(sender_ip=bytes(4)), TARGET_IP, OUR_MAC, OUR_IP)
    assert not is_arp_reply(arp()[:27], TARGET_IP, OUR_MAC, OUR_IP)


def test_an_echo_reply_must_echo_id_sequence_and_payload() -> None:
    payload = b"bondd-probe12345678"
    good = struct.pack("!BBHHH", 0, 0, 0, 4242, 7) + payload
    assert is_echo_reply(good, 0, 4242, 7, payload)
    assert not is_echo_reply(good, 0, 4243, 7, payload)
    assert not is_echo_reply(good, 0, 4242, 8, payload)
    assert not is_echo_reply(good[:-1] + b"x", 0, 4242, 7, payload)
    assert not is_echo_reply(struct.pack("!BBHHH", 8, 0, 0, 4242, 7) + payload, 0, 4242, 7, payload)
