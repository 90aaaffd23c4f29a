"""The captured kernel dumps in tests/unit/netlink/, and a socket that replays them."""

from __future__ import annotations

import errno
import struct
from collections.abc import Iterable
from pathlib import Path

from bondd.kernel import codec

HERE = Path(__file__).resolve().parent / "netlink"


def datagrams(name: str) -> list[bytes]:
    """One captured dump: its datagrams as the kernel sent them."""
    return [bytes.fromhex(line) for line in (HERE / f"{name}.hex").read_text().split()]


def messages(name: str) -> list[codec.Message]:
    return [m for data in datagrams(name) for m in codec.messages(data)]


def with_seq(data: bytes, seq: int) -> bytes:
    """The datagram with every message's sequence number rewritten."""
    out = bytearray(data)
    offset = 0
    while offset + codec.NLMSGHDR.size <= len(out):
        length = codec.NLMSGHDR.unpack_from(out, offset)[0]
        struct.pack_into("=I", out, offset + 8, seq)
        offset += (length + 3) & ~3
    return bytes(out)


def error(seq: int, code: int) -> bytes:
    """An NLMSG_ERROR (code 0: an ack) answering request `seq`."""
    body = struct.pack("=i", -code) + codec.NLMSGHDR.pack(16, 0, 0, seq, 0)
    return codec.encode_message(codec.NLMSG_ERROR, 0, seq, body)


class ReplaySocket:
    """Stands in for the kernel's end: answers each request with prepared datagrams."""

    def __init__(self, answers: Iterable[list[bytes]]) -> None:
        self.answers = list(answers)
        self.sent: list[codec.Message] = []
        self.queue: list[bytes] = []

    def send(self, data: bytes) -> int:
        self.sent.extend(codec.messages(data))
        if self.answers:
            self.queue.extend(self.answers.pop(0))
        return len(data)

    def recv(self, size: int) -> bytes:
        if not self.queue:
            raise BlockingIOError(errno.EAGAIN, "nothing queued")
        return self.queue.pop(0)[:size]

    def close(self) -> None:
        pass


class DumpServer(ReplaySocket):
    """Answers dumps from the captured files and RTM_GETLINK of one ifindex from `links`."""

    def __init__(self) -> None:
        super().__init__([])
        self.links = {
            codec.IFINFOMSG.unpack_from(m.body)[2]: m
            for m in messages("links")
            if m.type == codec.RTM_NEWLINK
        }

    def send(self, data: bytes) -> int:
        msg = next(codec.messages(data))
        self.sent.append(msg)
        if msg.flags & codec.NLM_F_DUMP:
            name = {codec.RTM_GETLINK: "links", codec.RTM_GETADDR: "addresses"}.get(msg.type)
            if name is None:
                name = "routes4" if msg.body[0] == 2 else "routes6"
            self.queue.extend(with_seq(d, msg.seq) for d in datagrams(name))
            return len(data)
        index = codec.IFINFOMSG.unpack_from(msg.body)[2]
        found = self.links.get(index)
        if found is None:
            self.queue.append(error(msg.seq, errno.ENODEV))
        else:
            body = found.body
            self.queue.append(codec.encode_message(found.type, 0, msg.seq, body))
        return len(data)
