"""`bondctl lacp`'s pure half: /proc/net/bonding parsed, partners judged, changes found."""

from __future__ import annotations

import pytest

from bondd.cli.lacp_render import PartnerStatus, build, changes, to_text
from bondd.kernel.procbonding import parse
from bondd.model import AdInfo, BondOptions, BondState, PortState

pytestmark = pytest.mark.unit

PARTNER = "3a:20:60:6c:5a:b9"


def port_block(name: str, number: int, partner: str, state: int = 63, key: int = 15) -> str:
    return f"""
Slave Interface: {name}
MII Status: up
Speed: 10000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 86:b7:6e:e9:b6:8{number}
Slave queue ID: 0
Aggregator ID: 1
Actor Churn State: monitoring
Partner Churn State: monitoring
Actor Churned Count: 0
Partner Churned Count: 1
details actor lacp pdu:
    system priority: 65535
    system mac address: 86:b7:6e:e9:b6:88
    port key: 15
    port priority: 255
    port number: {number}
    port state: 63
details partner lacp pdu:
    system priority: 65535
    system mac address: {partner}
    oper key: {key}
    port priority: 255
    port number: {number}
    port state: {state}
"""


HEAD = """Ethernet Channel Bonding Driver: v6.1.176

Bonding Mode: IEEE 802.3ad Dynamic link aggregation
Transmit Hash Policy: layer2 (0)
MII Status: up

802.3ad info
LACP active: on
LACP rate: fast
System MAC address: 86:b7:6e:e9:b6:88
Active Aggregator Info:
	Aggregator ID: 1
	Number of ports: 2
	Actor Key: 15
	Partner Key: 15
	Partner Mac Address: 3a:20:60:6c:5a:b9
"""


def test_proc_text_gives_each_ports_partner_and_churn() -> None:
    proc = parse("bond0", HEAD + port_block("p0", 1, PARTNER) + port_block("p1", 2, PARTNER))
    assert [p.name for p in proc.ports] == ["p0", "p1"]
    p1 = proc.port("p1")
    assert p1 is not None
    assert (p1.partner.system_mac, p1.partner.key, p1.partner.port_state) == (PARTNER, 15, 63)
    assert (p1.actor.key, p1.actor.port_number) == (15, 2)
    assert (p1.aggregator_id, p1.actor_churn, p1.partner_churned) == (1, "monitoring", 1)


def lacp_port(name: str, actor: int = 63, partner: int = 63, agg: int = 1) -> PortState:
    return PortState(
        name=name,
        ifindex=int(name[-1]) + 10,
        up=True,
        mii_up=True,
        master="bond0",
        ad_aggregator_id=agg,
        ad_actor_state=actor,
        ad_partner_state=partner,
    )


def lacp_bond(*ports: PortState) -> BondState:
    return BondState(
        name="bond0",
        ifindex=5,
        ports=ports,
        options=BondOptions({"mode": "802.3ad", "lacp_rate": "fast", "miimon": 100}),
        up=True,
        carrier=True,
        ad_info=AdInfo(1, len(ports), 15, 15, PARTNER),
    )


def test_negotiated_bond_has_every_partner_ok() -> None:
    proc = parse("bond0", HEAD + port_block("p0", 1, PARTNER) + port_block("p1", 2, PARTNER))
    view = build(lacp_bond(lacp_port("p0"), lacp_port("p1")), proc)
    assert view is not None
    assert view.negotiation.negotiated and view.timeout == 3
    assert {p.partner for p in view.ports} == {PartnerStatus.OK}
    assert view.odd_partner == ()
    assert f"{PARTNER} key 15" in to_text(view)


def test_port_on_another_switch_is_named() -> None:
    other = "02:00:00:00:00:99"
    proc = parse(
        "bond0",
        HEAD
        + port_block("p0", 1, PARTNER)
        + port_block("p1", 2, PARTNER)
        + port_block("p2", 3, other),
    )
    view = build(lacp_bond(lacp_port("p0"), lacp_port("p1"), lacp_port("p2", agg=2)), proc)
    assert view is not None
    assert view.odd_partner == ("p2",)
    assert "differs from the other ports" in to_text(view)


def test_partner_lost_and_back_are_changes_with_the_timeout() -> None:
    before_proc = parse("bond0", HEAD + port_block("p0", 1, PARTNER) + port_block("p1", 2, PARTNER))
    lost_proc = parse(
        "bond0",
        HEAD + port_block("p0", 1, PARTNER) + port_block("p1", 2, "00:00:00:00:00:00", 2, 0),
    )
    before = build(lacp_bond(lacp_port("p0"), lacp_port("p1")), before_proc)
    after = build(
        lacp_bond(lacp_port("p0"), lacp_port("p1", actor=0x47, partner=2, agg=2)), lost_proc
    )
    found = changes(before, after, "bond0")
    partner = [c for c in found if c.field == "partner"]
    assert [(c.port, c.old, c.new) for c in partner] == [("p1", "ok", "lost")]
    assert "no LACPDU within 3s" in partner[0].text
    assert any(c.field == "verdict" and c.old == "negotiated" for c in found)
    assert any(c.field == "aggregator_id" and (c.old, c.new) == (1, 2) for c in found)
    back = changes(after, before, "bond0")
    assert [(c.port, c.new) for c in back if c.field == "partner"] == [("p1", "ok")]


def test_no_change_means_nothing_printed() -> None:
    proc = parse("bond0", HEAD + port_block("p0", 1, PARTNER))
    view = build(lacp_bond(lacp_port("p0")), proc)
    assert changes(view, view, "bond0") == []


def test_other_modes_have_no_lacp_view() -> None:
    bond = BondState(name="bond0", ifindex=5, options=BondOptions({"mode": "active-backup"}))
    assert build(bond, None) is None
