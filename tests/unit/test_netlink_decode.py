"""Captured kernel dumps decode to the ActualState bondd plans against (no kernel, no pyroute2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bondd.kernel import codec, decode, reader, sysfs
from bondd.model import ActualState, AdInfo, RouteSpec
from tests.unit.netlink_fixtures import DumpServer, messages

pytestmark = pytest.mark.unit


def whole(order: decode.PortOrder = lambda bond: None) -> ActualState:
    return decode.state(
        decode.links(messages("links")),
        decode.addresses(messages("addresses")),
        decode.routes(messages("routes4") + messages("routes6")),
        order,
    )


def test_every_bond_and_link_is_read() -> None:
    state = whole()
    assert [b.name for b in state.bonds] == ["bond0", "bond1", "bond2", "bond3"]
    assert [x.name for x in state.links] == [
        "bond0.100", "lo", "p0a", "p0b", "p1a", "p1b", "p2a", "p2b", "p3a", "p3b"
    ]  # fmt: skip
    assert state.unsupported == frozenset()  # 6.1 has every attribute bondd reads


def test_bond_options_come_out_canonical() -> None:
    state = whole()
    bond0 = state.bond("bond0")
    assert bond0 is not None
    assert bond0.options["mode"] == "active-backup"
    assert bond0.options["miimon"] == 100
    assert bond0.options["primary"] == "p0a"
    assert bond0.options["arp_ip_target"] == ()
    assert bond0.options["xmit_hash_policy"] == "layer2"
    assert bond0.options["use_carrier"] == 1
    assert "active_slave" not in bond0.options  # run-time, never desired
    assert "ad_actor_sys_prio" not in bond0.options  # sent in 802.3ad only
    bond1 = state.bond("bond1")
    assert bond1 is not None
    assert dict(bond1.options) | {} == dict(bond1.options)
    assert (bond1.options["mode"], bond1.options["lacp_rate"]) == ("802.3ad", "fast")
    assert bond1.options["xmit_hash_policy"] == "layer3+4"
    assert bond1.options["ad_actor_sys_prio"] == 100
    assert bond1.options["ad_user_port_key"] == 5
    assert bond1.options["ad_actor_system"] == "02:00:00:00:00:01"
    assert bond1.options["min_links"] == 1
    assert bond1.options["primary"] == ""
    bond2 = state.bond("bond2")
    assert bond2 is not None
    assert bond2.options["arp_interval"] == 200
    assert bond2.options["arp_ip_target"] == ("10.12.2.1", "10.12.2.3")
    assert bond2.options["arp_validate"] == "all"
    assert bond2.options["ns_ip6_target"] == ("2001:db8::1", "2001:db8::5")
    assert bond2.options["miimon"] == 0
    assert bond2.options["arp_missed_max"] == 2
    assert bond2.options["coupled_control"] == 1


def test_bond_run_time_state() -> None:
    state = whole()
    bond0, bond1, bond2, bond3 = state.bonds
    assert (bond0.up, bond0.carrier, bond0.active_port, bond0.mtu) == (True, True, "p0a", 1500)
    assert bond1.ad_info == AdInfo(1, 1, 335, 1, "00:00:00:00:00:00")
    assert bond0.ad_info is None
    assert (bond2.up, [p.name for p in bond2.ports]) == (False, ["p2a"])
    assert (bond3.mtu, bond3.macaddress) == (9000, "02:00:00:00:03:03")


def test_ports_carry_their_bond_data() -> None:
    state = whole()
    p0a, p0b = state.links[2], state.links[3]
    assert (p0a.master, p0a.mii_up, p0a.backup, p0b.backup) == ("bond0", True, False, True)
    assert p0b.perm_macaddress == "ca:af:d9:e3:ed:bb"  # permanent, not the bond's MAC
    assert p0b.macaddress == "de:3d:02:a9:ba:4d"
    p1a = state.link("p1a")
    assert p1a is not None
    assert (p1a.ad_aggregator_id, p1a.ad_actor_state, p1a.ad_partner_state) == (1, 199, 2)
    assert state.link("p3a").queue_id == 2  # type: ignore[union-attr]
    assert state.link("p3b").prio == 10  # type: ignore[union-attr]
    p2b = state.link("p2b")
    assert p2b is not None
    assert (p2b.master, p2b.mii_up, p2b.up, p2b.kind) == (None, None, False, "veth")
    lo = state.link("lo")
    assert lo is not None and lo.kind == "" and lo.macaddress == "00:00:00:00:00:00"


def test_static_addresses_only() -> None:
    state = whole()
    bond0 = state.bond("bond0")
    assert bond0 is not None
    # 10.10.0.9/24 has a lifetime (dynamic) and fe80:: is link-local: never drift.
    assert bond0.addresses == ("10.10.0.2/24", "2001:db8::2/64")
    assert state.link("lo").addresses == ("127.0.0.1/8", "::1/128")  # type: ignore[union-attr]


def test_static_routes_canonical_and_kernel_routes_left_out() -> None:
    state = whole()
    bond0 = state.bond("bond0")
    assert bond0 is not None
    assert bond0.routes == (
        RouteSpec(to="0.0.0.0/0", via="10.10.0.1", table=100),
        RouteSpec(to="10.200.0.0/16", via="10.10.0.1", metric=50),
        RouteSpec(to="10.201.0.0/24", source="10.10.0.2", mtu=1400),
        RouteSpec(to="10.202.0.0/24", via="192.0.2.1", on_link=True),
        RouteSpec(to="2001:db8:99::/64", via="2001:db8::1", metric=300),
    )
    (vlan,) = bond0.vlans
    assert (vlan.name, vlan.id, vlan.link, vlan.addresses) == (
        "bond0.100", 100, "bond0", ("10.100.0.5/24",)
    )  # fmt: skip
    assert vlan.routes == (RouteSpec(to="10.203.0.0/24", via="10.100.0.1"),)


def test_ports_follow_the_kernel_order_when_sysfs_gives_one() -> None:
    state = whole(lambda bond: ["p0b", "p0a"] if bond == "bond0" else None)
    assert [p.name for p in state.bond("bond0").ports] == ["p0b", "p0a"]  # type: ignore[union-attr]
    assert [p.name for p in state.bond("bond3").ports] == ["p3a", "p3b"]  # type: ignore[union-attr]


def test_malformed_messages_are_skipped() -> None:
    nameless = codec.Message(codec.RTM_NEWLINK, 0, 1, 0, codec.IFINFOMSG.pack(0, 0, 5, 0, 0))
    short = codec.Message(codec.RTM_NEWADDR, 0, 1, 0, b"\0")
    other = codec.Message(codec.NLMSG_DONE, 0, 1, 0, b"")
    assert decode.links([nameless, other]) == []
    assert decode.addresses([short, other]) == {}
    assert decode.routes([short, other]) == {}


# -- the per-bond read, over the captured host -----------------------------------------


def fake_sysfs(tmp: Path) -> Path:
    """A /sys/class/net with what the per-bond read looks at: ifindex, slaves, upper_*."""
    for link in decode.links(messages("links")):
        (tmp / link.name).mkdir()
        (tmp / link.name / "ifindex").write_text(f"{link.index}\n")
    for bond, ports in {"bond0": "p0a p0b", "bond1": "p1a p1b", "bond3": "p3b p3a"}.items():
        (tmp / bond / "bonding").mkdir()
        (tmp / bond / "bonding" / "slaves").write_text(ports + "\n")
    (tmp / "bond0" / "upper_bond0.100").mkdir()
    (tmp / "bond3" / "upper_br9").mkdir()  # not a VLAN of bond3: no such link here
    (tmp / "bond1" / "upper_bond0.100").mkdir()  # a VLAN, but of another bond
    return tmp


@pytest.mark.parametrize("strict", [True, False])
def test_one_bond_reads_as_the_whole_host_read_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, strict: bool
) -> None:
    monkeypatch.setattr(sysfs, "SYSFS_NET", fake_sysfs(tmp_path))
    sock = codec.RouteSocket()
    sock.sock.close()
    server = DumpServer()
    sock.sock = server  # type: ignore[assignment]
    sock.strict = strict
    full = reader.read_actual(sock)
    for name in ("bond0", "bond1", "bond3"):
        one = reader.read_bond(sock, name, also=["p2b"])
        bond = full.bond(name)
        assert bond is not None
        assert one.bonds == (bond,)
        assert {x.name for x in one.links} == {
            *(p.name for p in bond.ports),
            *(v.name for v in bond.vlans),
            "p2b",
        }
        for link in one.links:
            assert link == full.link(link.name)
    requests = len(server.sent)
    assert reader.read_bond(sock, "bond7") == ActualState()  # gone: an empty view
    assert len(server.sent) == requests  # and no dump for it
    if strict:  # the kernel filters: one address dump and two route dumps per interface
        assert any(m.body[-4:] != b"\0" * 4 for m in server.sent if m.type == codec.RTM_GETADDR)
