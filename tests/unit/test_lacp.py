"""The LACP verdict on constructed bonds: each case the field notes name, and the traps."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bondd import lacp
from bondd.lacp import Verdict
from bondd.model import AdInfo, BondOptions, BondState, PortState

pytestmark = pytest.mark.unit

PARTNER = "52:54:00:aa:bb:cc"
# What two Linux bonds with lacp_rate fast show once negotiated.
FAST = 63
# The partner runs lacp_rate slow: its timeout bit is clear, still in service.
SLOW_PARTNER = 61


def port(name: str, actor: int | None = FAST, partner: int = FAST, agg: int = 1) -> PortState:
    return PortState(
        name=name,
        ifindex=10 + int(name[-1]),
        mii_up=True,
        ad_aggregator_id=agg,
        ad_actor_state=actor,
        ad_partner_state=partner,
    )


def bond(
    *ports: PortState,
    aggregator: int = 1,
    num_ports: int | None = None,
    partner_mac: str = PARTNER,
    mode: str = "802.3ad",
    up: bool = True,
) -> BondState:
    return BondState(
        name="bond0",
        ifindex=5,
        ports=ports,
        options=BondOptions({"mode": mode}),
        up=up,
        ad_info=AdInfo(
            aggregator=aggregator,
            num_ports=len(ports) if num_ports is None else num_ports,
            actor_key=9,
            partner_key=9,
            partner_mac=partner_mac,
        ),
    )


def test_two_ports_in_service_in_one_aggregator_are_negotiated() -> None:
    result = lacp.verdict(bond(port("p0"), port("p1")))
    assert result is not None
    assert result.verdict is Verdict.NEGOTIATED
    assert result.negotiated
    assert result.reasons == ()


def test_partner_with_slow_rate_still_counts_as_negotiated() -> None:
    result = lacp.verdict(bond(port("p0", partner=SLOW_PARTNER), port("p1", partner=SLOW_PARTNER)))
    assert result is not None and result.negotiated


def test_zero_partner_mac_means_partner_silent() -> None:
    result = lacp.verdict(bond(port("p0", partner=0x02), port("p1"), partner_mac=lacp.ZERO_MAC))
    assert result is not None
    assert result.verdict is Verdict.PARTNER_SILENT
    assert "partner MAC is 00:00:00:00:00:00" in result.reasons


def test_every_port_defaulted_means_partner_silent_even_with_a_partner_mac() -> None:
    defaulted = lacp.ACTIVITY | lacp.AGGREGATION | lacp.DEFAULTED
    result = lacp.verdict(bond(port("p0", actor=defaulted), port("p1", actor=defaulted)))
    assert result is not None and result.verdict is Verdict.PARTNER_SILENT


def test_ports_in_two_aggregators_are_split() -> None:
    result = lacp.verdict(bond(port("p0", agg=1), port("p1", agg=2), num_ports=1))
    assert result is not None
    assert result.verdict is Verdict.SPLIT
    assert result.reasons == ("port p1: aggregator 2, active is 1",)


def test_partner_mac_and_aggregator_present_but_states_7_is_waiting() -> None:
    # The trap: MAC and aggregator ids appear ~0.35 s before the ports are in service.
    result = lacp.verdict(bond(port("p0", actor=7, partner=7), port("p1", actor=7, partner=7)))
    assert result is not None
    assert result.verdict is Verdict.WAITING
    assert "port p0: actor state 7 (active short-timeout aggregatable out-of-sync)" in (
        result.reasons
    )


def test_expired_partner_bit_is_not_negotiated() -> None:
    result = lacp.verdict(bond(port("p0"), port("p1", partner=FAST | lacp.EXPIRED)))
    assert result is not None and result.verdict is Verdict.WAITING


def test_one_defaulted_port_among_negotiated_ones_is_not_negotiated() -> None:
    result = lacp.verdict(bond(port("p0"), port("p1", actor=FAST | lacp.DEFAULTED)))
    assert result is not None and result.verdict is Verdict.WAITING


def test_aggregator_short_of_the_configured_ports_is_not_negotiated() -> None:
    result = lacp.verdict(bond(port("p0"), port("p1")), expected_ports=3)
    assert result is not None
    assert result.verdict is Verdict.WAITING
    assert result.reasons == ("the active aggregator has 2 of 3 ports",)


def test_port_without_link_is_reported_before_anything_else() -> None:
    down = replace(port("p1", agg=2, actor=0x45, partner=0x02), mii_up=False)
    result = lacp.verdict(bond(port("p0"), down, num_ports=1))
    assert result is not None
    assert result.verdict is Verdict.PORT_DOWN
    assert result.reasons == ("port p1: MII down",)


def test_bond_down_or_without_ports_is_waiting() -> None:
    down = lacp.verdict(bond(port("p0"), up=False))
    empty = lacp.verdict(bond())
    assert down is not None and down.verdict is Verdict.WAITING
    assert empty is not None and empty.reasons == ("the bond has no ports",)


def test_unknown_oper_state_is_never_in_service() -> None:
    result = lacp.verdict(bond(port("p0", actor=None), port("p1")))
    assert result is not None and result.verdict is Verdict.WAITING


def test_other_modes_have_no_verdict() -> None:
    assert lacp.verdict(bond(port("p0"), mode="active-backup")) is None


def test_state_words_name_every_bit() -> None:
    assert lacp.state_words(63) == (
        "active",
        "short-timeout",
        "aggregatable",
        "in-sync",
        "collecting",
        "distributing",
    )
    assert lacp.state_words(0xC0) == (
        "passive",
        "long-timeout",
        "individual",
        "out-of-sync",
        "defaulted",
        "expired",
    )


@pytest.mark.parametrize("verdict", list(Verdict))
def test_every_verdict_says_what_it_means(verdict: Verdict) -> None:
    assert verdict.meaning
    assert bool(verdict.check) is (verdict is not Verdict.NEGOTIATED)
