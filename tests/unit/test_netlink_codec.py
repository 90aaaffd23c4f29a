"""bondd.kernel.codec on captured kernel dumps: framing, errors, attributes, headers."""

from __future__ import annotations

import errno
import socket
import struct

import pytest

from bondd.kernel import codec
from tests.unit.netlink_fixtures import ReplaySocket, datagrams, error, messages, with_seq

pytestmark = pytest.mark.unit


def replay(*answers: list[bytes]) -> tuple[codec.RouteSocket, ReplaySocket]:
    sock = codec.RouteSocket()
    sock.sock.close()
    fake = ReplaySocket(answers)
    sock.sock = fake  # type: ignore[assignment]
    return sock, fake


# -- framing ---------------------------------------------------------------------


def test_a_link_dump_is_multi_part_and_ends_with_done() -> None:
    found = messages("links")
    assert len(datagrams("links")) > 1  # the kernel split it over several datagrams
    assert [m.type for m in found[:-1]] == [codec.RTM_NEWLINK] * (len(found) - 1)
    assert found[-1].type == codec.NLMSG_DONE
    assert all(m.flags & codec.NLM_F_MULTI and m.seq == 1 for m in found)
    assert codec.error_code(found[-1]) == 0


def test_framing_stops_at_a_truncated_or_malformed_message() -> None:
    data = datagrams("addresses")[0]
    whole = list(codec.messages(data))
    assert list(codec.messages(data[:-1])) == whole[:-1]  # last message cut short
    bad_length = struct.pack("=IHHII", 8, 0, 0, 0, 0)  # shorter than its own header
    assert list(codec.messages(bad_length + data)) == []
    assert list(codec.messages(b"\x00" * 10)) == []


def test_encoded_messages_frame_back_to_themselves() -> None:
    data = codec.encode_message(codec.RTM_GETLINK, codec.NLM_F_REQUEST, 7, b"abcde")
    data += codec.encode_message(codec.RTM_GETADDR, 0, 8, b"")
    found = list(codec.messages(data.ljust(len(data) + 3, b"\0")))
    assert [(m.type, m.seq, m.body) for m in found[:1]] == [(codec.RTM_GETLINK, 7, b"abcde")]


def test_error_code_is_the_positive_errno() -> None:
    (msg,) = codec.messages(error(3, errno.EBUSY))
    assert codec.error_code(msg) == errno.EBUSY
    assert codec.error_code(codec.Message(codec.NLMSG_DONE, 0, 0, 0, b"")) == 0


# -- attributes ----------------------------------------------------------------------


def test_attributes_round_trip_with_padding_and_the_nested_flag_masked() -> None:
    inner = codec.attr(1, b"\x01") + codec.attr(2, b"bond\0")
    payload = codec.attr(18, inner, nested=True) + codec.attr(3, b"eth0\0")
    assert len(codec.attr(1, b"\x01")) == 8  # 4-byte header + 1 byte, padded to 4
    top = codec.attrs(payload)
    assert set(top) == {18, 3}
    assert codec.attrs(top[18]) == {1: b"\x01", 2: b"bond\0"}
    assert codec.string(top[3]) == "eth0"


def test_attribute_arrays_keep_order_and_a_bad_length_ends_them() -> None:
    payload = codec.attr(0, b"a") + codec.attr(0, b"b") + codec.attr(1, b"c")
    assert codec.attr_list(payload) == [(0, b"a"), (0, b"b"), (1, b"c")]
    assert codec.attrs(payload)[0] == b"b"
    assert codec.attr_list(struct.pack("=HH", 2, 1) + payload) == []
    assert codec.attr_list(struct.pack("=HH", 200, 1)) == []


def test_numbers_strings_and_hardware_addresses() -> None:
    assert codec.uint(struct.pack("=B", 7)) == 7
    assert codec.uint(struct.pack("=H", 0x1234)) == 0x1234
    assert codec.uint(struct.pack("=I", 2**32 - 1)) == 2**32 - 1
    assert codec.uint(b"") == 0
    assert codec.sint(struct.pack("=i", -5)) == -5
    assert codec.string(b"bond0\0junk") == "bond0"
    assert codec.string(b"\xff\0") == "\ufffd"
    assert codec.hwaddr(bytes.fromhex("02000000aBcd")) == "02:00:00:00:ab:cd"
    assert codec.hwaddr(b"") is None


def test_headers_decode_and_short_bodies_are_refused() -> None:
    link = next(m for m in messages("links") if m.type == codec.RTM_NEWLINK)
    parsed = codec.ifinfo(link.body)
    assert parsed is not None and parsed[0].ifindex == 1  # lo comes first
    addr = next(m for m in messages("addresses") if m.type == codec.RTM_NEWADDR)
    head = codec.ifaddr(addr.body)
    assert head is not None and head[0].family == socket.AF_INET
    route = next(m for m in messages("routes6") if m.type == codec.RTM_NEWROUTE)
    rt = codec.rtmsg(route.body)
    assert rt is not None and rt[0].family == socket.AF_INET6
    assert codec.ifinfo(b"\0" * 3) is None
    assert codec.ifaddr(b"\0" * 3) is None
    assert codec.rtmsg(b"\0" * 3) is None


# -- the socket: dumps, gets, requests --------------------------------------------------


def test_a_dump_collects_every_part_and_skips_other_requests_answers() -> None:
    late = with_seq(datagrams("addresses")[0], 99)  # an answer to an older request
    sock, fake = replay([late, *datagrams("links")])
    found = sock.dump(codec.RTM_GETLINK, codec.IFINFOMSG.pack(0, 0, 0, 0, 0))
    assert len(found) == len(messages("links")) - 1  # all but NLMSG_DONE
    assert {m.type for m in found} == {codec.RTM_NEWLINK}
    (request,) = fake.sent
    assert request.type == codec.RTM_GETLINK
    assert request.flags == codec.NLM_F_REQUEST | codec.NLM_F_DUMP


def test_a_dump_the_kernel_refuses_raises_its_errno() -> None:
    sock, _ = replay([error(1, errno.EINVAL)])
    with pytest.raises(OSError) as caught:
        sock.dump(codec.RTM_GETROUTE, codec.RTMSG.pack(2, 0, 0, 0, 0, 0, 0, 0, 0))
    assert caught.value.errno == errno.EINVAL
    done_with_error = codec.encode_message(codec.NLMSG_DONE, 2, 1, struct.pack("=i", -4))
    sock, _ = replay([done_with_error])
    with pytest.raises(OSError) as caught:
        sock.dump(codec.RTM_GETLINK, b"")
    assert caught.value.errno == errno.EINTR


def test_an_interrupted_dump_is_run_again() -> None:
    first = [
        codec.encode_message(codec.RTM_NEWLINK, codec.NLM_F_MULTI | codec.NLM_F_DUMP_INTR, 1, b"x"),
        codec.encode_message(codec.NLMSG_DONE, codec.NLM_F_MULTI, 1, struct.pack("=i", 0)),
    ]
    second = [with_seq(d, 2) for d in datagrams("links")]
    sock, fake = replay(first, second)
    found = sock.dump(codec.RTM_GETLINK, b"")
    assert len(fake.sent) == 2
    assert len(found) == len(messages("links")) - 1


def test_get_returns_the_object_or_none_when_the_kernel_has_none() -> None:
    link = next(m for m in messages("links") if m.type == codec.RTM_NEWLINK)
    sock, fake = replay([codec.encode_message(link.type, 0, 1, link.body)], [error(2, 19)])
    got = sock.get(codec.RTM_GETLINK, codec.IFINFOMSG.pack(0, 0, 1, 0, 0))
    assert got is not None and got.body == link.body
    assert sock.get(codec.RTM_GETLINK, codec.IFINFOMSG.pack(0, 0, 999, 0, 0)) is None
    assert fake.sent[0].flags == codec.NLM_F_REQUEST
    sock, _ = replay([error(1, errno.EPERM)])
    with pytest.raises(PermissionError):
        sock.get(codec.RTM_GETLINK, b"")


def test_a_request_waits_for_its_ack_and_raises_a_refusal() -> None:
    sock, fake = replay([error(1, 0)], [error(2, errno.EBUSY)])
    sock.request(codec.RTM_NEWLINK, b"body")
    assert fake.sent[0].flags == codec.NLM_F_REQUEST | codec.NLM_F_ACK
    with pytest.raises(OSError) as caught:
        sock.request(codec.RTM_NEWLINK, b"body")
    assert caught.value.errno == errno.EBUSY


def test_a_real_socket_opens_and_says_whether_strict_checking_is_on() -> None:
    with codec.RouteSocket(strict=True) as sock:
        assert isinstance(sock.strict, bool)
    with codec.RouteSocket() as sock:
        assert sock.strict is False
