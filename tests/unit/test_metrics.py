"""The metrics: the issue's names, the LACP truth node_exporter misses, and promtool's verdict.

Rendered from constructed status views (the lab checks the same on the
real driver, through node_exporter); `promtool check metrics` from Debian's
prometheus package lints the text exactly as Prometheus would parse it.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest

from bondd import config
from bondd.drill.measure import DrillSummary
from bondd.engine.counters import Counters, Counts
from bondd.engine.store import Store
from bondd.engine.transaction import Status, begin
from bondd.metrics import view
from bondd.metrics.exposition import COUNTER, GAUGE, Family, escape_label, format_value, render
from bondd.metrics.view import MetricsInput
from bondd.model import ActualState, AdInfo, BondOptions, BondState, PortState
from bondd.plan.ownership import Ownership
from tests.unit.fakekernel import FakeKernel
from tests.unit.test_engine_fakes import BASE, FakeClock, host, proposal

pytestmark = pytest.mark.unit

# Every name the metrics issue fixes, so dashboards and rules can rely on them.
ISSUE_NAMES = {
    "bondd_bond_up",
    "bondd_bond_info",
    "bondd_bond_ports",
    "bondd_bond_ports_up",
    "bondd_bond_ports_missing",
    "bondd_bond_active_port",
    "bondd_lacp_negotiated",
    "bondd_lacp_partner_silent",
    "bondd_port_lacp_in_aggregator",
    "bondd_port_lacp_state",
    "bondd_port_link_failures_total",
    "bondd_failovers_total",
    "bondd_drift_repairs_total",
    "bondd_transactions_total",
    "bondd_last_transaction_timestamp_seconds",
    "bondd_config_valid",
    "bondd_pending_transaction",
    "bondd_failover_test_gap_seconds",
    "bondd_failover_test_timestamp_seconds",
}
PARTNER = "52:54:00:aa:bb:cc"
ZERO = "00:00:00:00:00:00"
YAML = """network:
  version: 2
  ethernets: {p0: {}, p1: {}, p2: {}, p3: {}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters: {mode: active-backup}
    bond1:
      interfaces: [p2, p3]
      parameters: {mode: 802.3ad}
    bond9:
      interfaces: [p0]
"""


def port(name: str, agg: int = 1, actor: int = 63, partner: int = 63, up: bool = True) -> PortState:
    return PortState(
        name=name,
        ifindex=10 + int(name[-1]),
        master="",
        mii_up=up,
        carrier=up,
        link_failures=0 if up else 1,
        ad_aggregator_id=agg,
        ad_actor_state=actor,
        ad_partner_state=partner,
    )


def lacp_bond(name: str, *ports: PortState, partner_mac: str = PARTNER) -> BondState:
    return BondState(
        name=name,
        ifindex=5,
        ports=ports,
        options=BondOptions({"mode": "802.3ad"}),
        up=True,
        carrier=True,
        ad_info=AdInfo(1, len(ports), 9, 9, partner_mac),
    )


def ab_bond(*ports: PortState) -> BondState:
    return BondState(
        name="bond0",
        ifindex=4,
        ports=ports,
        options=BondOptions({"mode": "active-backup"}),
        up=True,
        carrier=True,
        active_port=ports[0].name if ports else None,
    )


def data(*bonds: BondState, **extra: object) -> MetricsInput:
    links = tuple(p for b in bonds for p in b.ports)
    fields: dict[str, object] = dict(
        actual=ActualState(bonds=bonds, links=links),
        ownership=Ownership(owned=frozenset({"bond0"}), adopted=frozenset({"bond1"})),
        configured=config.check_text(YAML).state,
        config_valid=True,
        counts=Counts(),
        drills={},
        pending=False,
    )
    fields.update(extra)
    return MetricsInput(**fields)  # type: ignore[arg-type]


def samples(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def promtool_check(text: str) -> None:
    proc = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_name_of_the_issue_has_help_and_type() -> None:
    text = view.text(data())
    assert set(view.NAMES) >= ISSUE_NAMES
    for name in ISSUE_NAMES:
        assert f"# HELP {name} " in text and f"# TYPE {name} " in text


def test_a_bond_against_a_bridge_looks_healthy_by_mii_and_is_not_negotiated() -> None:
    # What the lab shows against a plain bridge: partner MAC zero, the ports in
    # aggregators 1 and 2, every port with link (node_exporter: active == slaves).
    silent = lacp_bond(
        "bond1",
        port("p2", agg=1, actor=0x45, partner=0x02),
        port("p3", agg=2, actor=0x45, partner=0x02),
        partner_mac=ZERO,
    )
    got = samples(view.text(data(silent)))
    assert got['bondd_bond_ports_up{bond="bond1"}'] == got['bondd_bond_ports{bond="bond1"}'] == 2
    assert got['bondd_lacp_negotiated{bond="bond1"}'] == 0
    assert got['bondd_lacp_partner_silent{bond="bond1"}'] == 1
    assert got['bondd_port_lacp_in_aggregator{bond="bond1",port="p3"}'] == 0
    assert got['bondd_port_lacp_state{bond="bond1",port="p2",side="actor"}'] == 0x45
    assert got['bondd_bond_info{bond="bond1",mode="802.3ad",owner="adopted"}'] == 1


def test_a_negotiated_bond_is_negotiated_and_its_partner_not_silent() -> None:
    got = samples(view.text(data(lacp_bond("bond1", port("p2"), port("p3")))))
    assert got['bondd_lacp_negotiated{bond="bond1"}'] == 1
    assert got['bondd_lacp_partner_silent{bond="bond1"}'] == 0
    assert got['bondd_port_lacp_in_aggregator{bond="bond1",port="p2"}'] == 1


def test_a_pulled_cable_does_not_hide_a_silent_switch() -> None:
    silent = lacp_bond(
        "bond1", port("p2", actor=0x45, partner=2), port("p3", up=False), partner_mac=ZERO
    )
    got = samples(view.text(data(silent)))
    assert got['bondd_lacp_partner_silent{bond="bond1"}'] == 1
    assert got['bondd_bond_ports_up{bond="bond1"}'] == 1
    assert got['bondd_port_link_failures_total{bond="bond1",port="p3"}'] == 1


def test_ports_missing_counts_configured_ports_absent_from_the_kernel() -> None:
    got = samples(view.text(data(ab_bond(port("p0")))))
    assert got['bondd_bond_ports{bond="bond0"}'] == 2
    assert got['bondd_bond_ports_up{bond="bond0"}'] == 1
    assert got['bondd_bond_ports_missing{bond="bond0"}'] == 1
    assert got['bondd_bond_active_port{bond="bond0",port="p0"}'] == 1
    # bond1 is configured but not in the kernel: down, both ports missing
    assert got['bondd_bond_up{bond="bond1"}'] == 0
    assert got['bondd_bond_ports_missing{bond="bond1"}'] == 2
    assert got['bondd_bond_info{bond="bond9",mode="balance-rr",owner="unmanaged"}'] == 1


def test_a_bond_outside_the_configuration_counts_its_kernel_ports() -> None:
    other = lacp_bond("bond7", port("p4"), port("p5"))
    got = samples(view.text(data(other, configured=None, config_valid=False)))
    assert got['bondd_bond_ports{bond="bond7"}'] == 2
    assert got['bondd_bond_ports_missing{bond="bond7"}'] == 0
    assert got["bondd_config_valid"] == 0


def test_counters_drills_and_pending() -> None:
    counts = Counts(
        transactions={"committed": 3, "rolled_back": 1},
        last_transaction=1700000000.5,
        failovers={"bond0": 4},
        drift_repairs={"bond0": 2},
    )
    drills = {
        "bond0": DrillSummary("bond0", "2026-01-02T03:04:05+00:00", True, 30.0, 3, 2),
        "bond1": DrillSummary("bond1", "2026-01-02T03:04:05+00:00", False, None, 9, 1),
    }
    got = samples(
        view.text(data(ab_bond(port("p0"), port("p1")), counts=counts, drills=drills, pending=True))
    )
    assert got['bondd_transactions_total{result="committed"}'] == 3
    assert got['bondd_transactions_total{result="failed"}'] == 0
    assert got["bondd_last_transaction_timestamp_seconds"] == 1700000000.5
    assert got['bondd_failovers_total{bond="bond0"}'] == 4
    assert got['bondd_drift_repairs_total{bond="bond0"}'] == 2
    assert got['bondd_failover_test_gap_seconds{bond="bond0"}'] == 0.03
    assert math.isinf(got['bondd_failover_test_gap_seconds{bond="bond1"}'])
    assert got['bondd_failover_test_timestamp_seconds{bond="bond0"}'] == 1767323045
    assert got["bondd_pending_transaction"] == 1


def test_label_values_and_help_are_escaped() -> None:
    family = Family("x_total", COUNTER, 'a "help"\nwith a \\ newline')
    family.add(1, name='q"uo\\te\nnl')
    text = render([family, Family("y", GAUGE, "empty")])
    assert '# HELP x_total a "help"\\nwith a \\\\ newline' in text
    assert 'x_total{name="q\\"uo\\\\te\\nnl"} 1' in text
    assert escape_label("plain") == "plain"
    assert [format_value(v) for v in (1.0, 0.25, math.inf, -math.inf, math.nan)] == [
        "1",
        "0.25",
        "+Inf",
        "-Inf",
        "NaN",
    ]
    promtool_check(text)


def test_bad_names_are_refused() -> None:
    with pytest.raises(ValueError, match="_total"):
        Family("bondd_failovers", COUNTER, "x")
    with pytest.raises(ValueError, match="label"):
        Family("y", GAUGE, "x").add(1, **{"bad-label": "v"})


def test_promtool_accepts_the_full_text() -> None:
    silent = lacp_bond("bond1", port("p2", agg=2, actor=0x45, partner=2), partner_mac=ZERO)
    drills = {"bond0": DrillSummary("bond0", "2026-01-02T03:04:05+00:00", False, None, 1, 1)}
    text = view.text(
        data(ab_bond(port("p0"), port("p1")), silent, drills=drills, counts=Counts(failovers={}))
    )
    promtool_check(text)


def test_counters_survive_a_restart_and_add_up(tmp_path: Path) -> None:
    Counters(tmp_path).add(Counts(failovers={"bond0": 2}, transactions={"committed": 1}))
    Counters(tmp_path).add(Counts(failovers={"bond0": 1}, drift_repairs={"bond0": 1}))
    again = Counters(tmp_path).read()  # a new process reads the same file
    assert again.failovers == {"bond0": 3}
    assert again.drift_repairs == {"bond0": 1}
    assert again.transactions == {"committed": 1}


def test_the_engine_counts_commits_and_rollbacks(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    assert begin(host(tmp_path, kernel, clock), proposal(BASE)).status is Status.COMMITTED
    kernel.fail_at = kernel.calls  # the kernel refuses the first op of the next change
    changed = proposal(BASE.replace("active-backup", "balance-xor"))
    assert begin(host(tmp_path, kernel, clock), changed).status is Status.ROLLED_BACK
    counts = Counters(Store(tmp_path / "state").dir).read()
    assert counts.transactions == {"committed": 1, "rolled_back": 1}
    assert counts.last_transaction == clock.now
