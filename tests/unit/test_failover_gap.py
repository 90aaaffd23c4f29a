"""The failover drill's arithmetic and refusals, on made-up probes and bonds."""

from __future__ import annotations

import datetime as dt

import pytest

from bondd.drill.measure import (
    DrillResult,
    DrillSummary,
    Gap,
    Leg,
    Probe,
    default_target,
    first_answer_after,
    measure,
    parse_interval,
    probe_device,
    refusals,
    report_text,
)
from bondd.model import AdInfo, BondOptions, BondState, PortState, RouteSpec, VlanSpec

pytestmark = pytest.mark.unit

RTT = 0.0002


def stream(lost: set[int], count: int = 20, interval: float = 0.01) -> list[Probe]:
    return [
        Probe(seq, seq * interval, None if seq in lost else seq * interval + RTT)
        for seq in range(count)
    ]


def test_no_loss_is_a_zero_gap() -> None:
    assert measure(stream(set()), 0.0) == Gap(sent=20, lost=0, gap_ms=0.0, runs=0)


def test_gap_runs_from_first_lost_to_first_answered_probe() -> None:
    gap = measure(stream({5, 6, 7}), 0.0)
    assert (gap.lost, gap.runs) == (3, 1)
    assert gap.gap_ms == pytest.approx(30.0)  # probe 5 sent at 50 ms, probe 8 at 80 ms


def test_loss_in_two_stretches_spans_both() -> None:
    gap = measure(stream({3, 4, 8}), 0.0)
    assert (gap.lost, gap.runs) == (3, 2)
    assert gap.gap_ms == pytest.approx(60.0)  # 30 ms .. 90 ms


def test_window_counts_only_probes_sent_inside_it_but_sees_recovery_after() -> None:
    probes = stream({2, 10, 11})
    gap = measure(probes, 0.095, 0.115)  # probes 10 and 11
    assert (gap.sent, gap.lost) == (2, 2)
    assert gap.gap_ms == pytest.approx(20.0)


def test_traffic_that_never_came_back_has_no_gap() -> None:
    gap = measure(stream({17, 18, 19}), 0.0)
    assert gap.gap_ms is None and not gap.recovered


def test_first_answer_after_a_moment() -> None:
    assert first_answer_after(stream({5, 6}), 0.045) == pytest.approx(0.07 + RTT)


def port(name: str, **kw: object) -> PortState:
    fields: dict[str, object] = {"up": True, "mii_up": True, "carrier": True, **kw}
    return PortState(name=name, ifindex=int(name[-1]) + 10, master="bond0", **fields)  # type: ignore[arg-type]


def bond(*ports: PortState, mode: str = "active-backup", **kw: object) -> BondState:
    options: dict[str, object] = {"mode": mode, "miimon": 100, "arp_interval": 0}
    options.update(kw.pop("options", {}))  # type: ignore[call-overload]
    fields: dict[str, object] = {
        "up": True,
        "carrier": True,
        "active_port": ports[0].name if ports and mode == "active-backup" else None,
        **kw,
    }
    return BondState(
        name="bond0",
        ifindex=5,
        ports=ports,
        options=BondOptions(options),  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )


def test_healthy_two_port_bond_may_be_drilled() -> None:
    assert refusals(bond(port("p0"), port("p1", backup=True))) == []


def test_one_port_bond_is_refused_with_the_reason() -> None:
    [reason] = refusals(bond(port("p0")))
    assert "only one port (p0)" in reason and "at least two ports up" in reason


def test_bond_with_a_port_down_is_refused() -> None:
    found = refusals(bond(port("p0"), port("p1", mii_up=False)))
    assert found == ["port p1 is down (MII down): the bond is already degraded"]


def test_bond_without_link_monitoring_is_refused() -> None:
    found = refusals(bond(port("p0"), port("p1"), options={"miimon": 0}))
    assert any("neither MII" in f for f in found)


def test_failing_a_standby_port_is_refused() -> None:
    found = refusals(bond(port("p0"), port("p1")), port="p1")
    assert found == ["p1 is not the active port (p0 is): failing a standby port tests no failover"]


def test_modes_without_an_active_port_need_a_port_named() -> None:
    found = refusals(bond(port("p0"), port("p1"), mode="balance-xor"))
    assert any("--port" in f for f in found)
    assert refusals(bond(port("p0"), port("p1"), mode="balance-xor"), port="p1") == []


def test_lacp_bond_must_be_negotiated() -> None:
    states = {"ad_aggregator_id": 1, "ad_actor_state": 63, "ad_partner_state": 63}
    ready = bond(
        port("p0", **states),
        port("p1", **states),
        mode="802.3ad",
        ad_info=AdInfo(1, 2, 15, 15, "02:00:00:00:00:01"),
    )
    assert refusals(ready, port="p0") == []
    silent = bond(
        port("p0", **states),
        port("p1", **states),
        mode="802.3ad",
        ad_info=AdInfo(1, 2, 15, 0, "00:00:00:00:00:00"),
    )
    assert any("LACP is not negotiated" in f for f in refusals(silent, port="p0"))


def test_default_target_is_the_gateway_of_the_default_route() -> None:
    routes = (
        RouteSpec(to="10.0.0.0/8", via="192.0.2.254"),
        RouteSpec(to="0.0.0.0/0", via="192.0.2.1"),
    )
    assert default_target(bond(port("p0"), routes=routes)) == "192.0.2.1"
    assert default_target(bond(port("p0"))) is None
    vlan = VlanSpec(
        name="bond0.100",
        id=100,
        link="bond0",
        addresses=("10.1.0.5/24",),
        routes=(RouteSpec(to="0.0.0.0/0", via="10.1.0.1"),),
    )
    with_vlan = bond(port("p0"), vlans=(vlan,))
    assert default_target(with_vlan) == "10.1.0.1"
    assert probe_device(with_vlan, "10.1.0.1") == "bond0.100"
    assert probe_device(with_vlan, "192.0.2.1") == "bond0"


@pytest.mark.parametrize(
    ("text", "seconds"), [("10ms", 0.01), ("0.01", 0.01), ("10", 0.01), ("0.5s", 0.5)]
)
def test_interval_spellings(text: str, seconds: float) -> None:
    assert parse_interval(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["0.1ms", "2s", "fast"])
def test_interval_out_of_range_or_unreadable_is_an_error(text: str) -> None:
    with pytest.raises(ValueError, match="interval"):
        parse_interval(text)


def result(gap_ms: float | None = 30.0) -> DrillResult:
    gap = Gap(sent=40, lost=3, gap_ms=gap_ms, runs=1)
    return DrillResult(
        bond="bond0",
        mode="active-backup",
        target="192.0.2.1",
        device="bond0",
        interval_ms=10.0,
        method="admin",
        at=dt.datetime(2026, 1, 2, 10, 0, tzinfo=dt.UTC),
        legs=(Leg("p0", "p1", gap, 25.0, 33.0, 18.0, Gap(30, 0, 0.0, 0)),),
        sent=100,
        lost=3,
        started_active="p0",
        ended_active="p0",
        ended_as_started=True,
    )


def test_status_line_from_the_recorded_summary() -> None:
    summary = DrillSummary.from_json(DrillSummary.of(result()).to_json())
    assert summary.describe() == "30 ms gap (3 lost), 2026-01-02 10:00:00 UTC"
    assert DrillSummary.of(result(None)).describe().startswith("FAILED")


def test_report_names_ports_gap_and_kernel_timing() -> None:
    text = report_text(result())
    assert "p0 failed -> p1" in text
    assert "30 ms gap: 3 of 40 probes lost" in text
    assert "kernel failover event after 25 ms" in text
    assert text.endswith("ok")
