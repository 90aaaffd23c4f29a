"""bondd.kernel.rawlink on captured bytes: the bond attributes pyroute2 lacks.

The link dump in tests/unit/netlink/links.hex (see its README) carries
bond2's NS targets and p3b's prio; these tests decode them from the kernel's
own bytes, encode requests and check them against the layout the kernel
expects, with a replaying socket instead of the kernel.
"""

from __future__ import annotations

import errno
import struct

import pytest

from bondd.kernel import codec, rawlink
from bondd.kernel.rawlink import BOND_WIRE, PORT_WIRE, RawLinkSocket, Wire, decode, encode
from tests.unit.netlink_fixtures import DumpServer, ReplaySocket, error

pytestmark = pytest.mark.unit

IFLA_IFNAME = 3  # linux/if_link.h


def replayed(server: ReplaySocket) -> RawLinkSocket:
    raw = RawLinkSocket()
    raw.sock.sock.close()  # never a request to this host's kernel
    raw.sock.sock = server  # type: ignore[assignment]
    return raw


def dump() -> dict[str, rawlink.RawLink]:
    server = DumpServer()
    raw = replayed(server)
    links = raw.dump()
    raw.close()
    names = {}
    for index, message in server.links.items():
        parsed = codec.ifinfo(message.body)
        assert parsed is not None
        names[index] = codec.string(parsed[1][IFLA_IFNAME])
    return {names[index]: link for index, link in links.items()}


def test_a_dump_keeps_each_links_bond_and_port_data() -> None:
    links = dump()
    assert {n for n, link in links.items() if link.kind == "bond"} == {
        "bond0",
        "bond1",
        "bond2",
        "bond3",
    }
    assert links["p3b"].slave_kind == "bond" and links["p3b"].slave_data
    assert links["p2b"].slave_kind == "" and links["p2b"].slave_data == {}
    assert links["lo"] == rawlink.RawLink()  # no IFLA_LINKINFO at all


def test_the_captured_ns_targets_and_port_prio_decode() -> None:
    links = dump()
    ns = BOND_WIRE["ns_ip6_target"]
    assert decode(ns, links["bond2"].data[ns.ifla_id]) == ("2001:db8::1", "2001:db8::5")
    prio = PORT_WIRE["prio"]
    assert decode(prio, links["p3b"].slave_data[prio.ifla_id]) == 10
    # Every bond attribute the 6.1 lab kernel sends decodes to a number.
    for name in ("peer_notif_delay", "lacp_active", "arp_missed_max"):
        wire = BOND_WIRE[name]
        assert isinstance(decode(wire, links["bond1"].data[wire.ifla_id]), int), name
    assert decode(BOND_WIRE["lacp_active"], links["bond1"].data[29]) == 1


@pytest.mark.parametrize(
    ("wire", "value", "payload"),
    [
        (Wire(28, "I"), 300, struct.pack("=I", 300)),
        (Wire(29, "B"), 1, b"\x01"),
        (Wire(8, "H"), 0x3D, struct.pack("=H", 0x3D)),
        (Wire(9, "i"), -5, struct.pack("=i", -5)),
    ],
)
def test_numbers_encode_as_one_padded_attribute(wire: Wire, value: int, payload: bytes) -> None:
    data = encode(wire, value)
    length, kind = struct.unpack_from("=HH", data)
    assert (length, kind) == (4 + len(payload), wire.ifla_id)
    assert len(data) % 4 == 0 and data[4 : 4 + len(payload)] == payload
    assert decode(wire, codec.attrs(data)[wire.ifla_id]) == value


def test_ns_targets_encode_as_a_nested_array_of_16_byte_addresses() -> None:
    wire = BOND_WIRE["ns_ip6_target"]
    data = encode(wire, ("2001:db8::1", "fe80::2"))
    kind = struct.unpack_from("=H", data, 2)[0]
    assert kind == wire.ifla_id | codec.NLA_F_NESTED
    inner = codec.attrs(data)[wire.ifla_id]
    assert [len(v) for v in codec.attrs(inner).values()] == [16, 16]
    assert decode(wire, inner) == ("2001:db8::1", "fe80::2")
    assert decode(wire, encode(wire, ())[4:]) == ()
    # A malformed element (not 16 bytes) is left out, not guessed at.
    assert decode(wire, codec.attr(0, b"\x00" * 4)) == ()


def test_a_value_of_the_wrong_kind_is_an_einval_not_a_crash() -> None:
    with pytest.raises(OSError) as numbers:
        encode(BOND_WIRE["ns_ip6_target"], 5)
    with pytest.raises(OSError) as text:
        encode(BOND_WIRE["lacp_active"], ("2001:db8::1",))
    assert numbers.value.errno == text.value.errno == errno.EINVAL


@pytest.mark.parametrize("port", [False, True])
def test_a_set_request_nests_the_attribute_where_the_kernel_reads_it(port: bool) -> None:
    server = ReplaySocket([[error(1, 0)]])
    raw = replayed(server)
    payload = encode(PORT_WIRE["prio"] if port else BOND_WIRE["arp_missed_max"], 3)
    raw.set_bond_attr(7, payload, port=port)
    [sent] = server.sent
    assert sent.type == codec.RTM_NEWLINK and sent.flags & codec.NLM_F_ACK
    index = codec.IFINFOMSG.unpack_from(sent.body)[2]
    top = codec.attrs(sent.body[codec.IFINFOMSG.size :])
    info = codec.attrs(top[rawlink.IFLA_LINKINFO])
    assert index == 7
    if port:
        assert set(info) == {rawlink.IFLA_INFO_SLAVE_DATA}
        assert info[rawlink.IFLA_INFO_SLAVE_DATA] == payload
    else:
        assert codec.string(info[rawlink.IFLA_INFO_KIND]) == "bond"
        assert info[rawlink.IFLA_INFO_DATA] == payload


def test_a_refused_set_raises_the_kernels_errno() -> None:
    raw = replayed(ReplaySocket([[error(1, errno.EOPNOTSUPP)]]))
    with pytest.raises(OSError) as refused:
        raw.set_bond_attr(7, encode(BOND_WIRE["coupled_control"], 0))
    assert refused.value.errno == errno.EOPNOTSUPP
