"""The pure halves of `bondctl status` and `bondctl show`, on constructed kernel states."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bondd import config
from bondd.model import (
    ActualState,
    AdInfo,
    BondOptions,
    BondState,
    PortState,
    RouteSpec,
    VlanSpec,
)
from bondd.options import BOND_OPTIONS
from bondd.plan.diff import Difference
from bondd.plan.ownership import Ownership
from bondd.render.netplan import document, render
from bondd.status.render import Drift, StatusReport, to_json, to_text

pytestmark = pytest.mark.unit

DEFAULTS = {o.kernel_name: o.default for o in BOND_OPTIONS if o.kernel_name != "active_slave"}


def port(name: str, **kw: object) -> PortState:
    fields: dict[str, object] = {"mii_up": True, "up": True, "carrier": True, **kw}
    return PortState(
        name=name,
        ifindex=10 + int(name[-1]),
        master="bond0",
        **fields,  # type: ignore[arg-type]
    )


def ab_bond(**options: object) -> BondState:
    return BondState(
        name="bond0",
        ifindex=5,
        ports=(port("p0"), port("p1", backup=True)),
        options=BondOptions(
            {**DEFAULTS, "mode": "active-backup", **options}  # type: ignore[dict-item]
        ),
        addresses=("192.0.2.2/24",),
        routes=(RouteSpec(to="0.0.0.0/0", via="192.0.2.1"),),
        mtu=1500,
        up=True,
        carrier=True,
        active_port="p0",
    )


def lacp_bond() -> BondState:
    ports = tuple(
        port(n, ad_aggregator_id=1, ad_actor_state=71, ad_partner_state=2) for n in ("p2", "p3")
    )
    return BondState(
        name="bond1",
        ifindex=6,
        ports=ports,
        options=BondOptions({**DEFAULTS, "mode": "802.3ad", "lacp_rate": "fast"}),
        up=True,
        carrier=True,
        ad_info=AdInfo(1, 1, 15, 1, "00:00:00:00:00:00"),
    )


def report(*bonds: BondState, drift: Drift | None = None, only: str | None = None) -> StatusReport:
    return StatusReport(
        actual=ActualState(bonds=bonds),
        ownership=Ownership(owned=frozenset({"bond0"})),
        drift=drift or Drift(configured=frozenset({"bond0"})),
        speeds={"p0": (10000, "full")},
        only=only,
    )


def test_status_json_carries_ownership_ports_and_the_lacp_verdict() -> None:
    got: Any = to_json(report(ab_bond(), lacp_bond()))
    assert got["version"] == 1
    bond0, bond1 = got["bonds"]
    assert bond0["managed"] == "owned" and bond1["managed"] == "unmanaged"
    assert bond0["ports"][0] == {
        "name": "p0",
        "mii": "up",
        "state": "active",
        "link_failures": 0,
        "carrier": True,
        "speed_mbps": 10000,
        "duplex": "full",
        "perm_macaddress": None,
        "lacp": None,
    }
    assert bond0["ports"][1]["state"] == "backup"
    assert bond0["drift"] == [] and bond1["drift"] is None
    assert bond1["lacp"]["verdict"] == "partner-silent"
    assert bond1["ports"][0]["lacp"]["actor_state_words"][-1] == "defaulted"


def test_status_text_names_the_drift_per_option_within_80_columns() -> None:
    drift = Drift(
        configured=frozenset({"bond0"}),
        differences=(Difference("bond0", "miimon", 100, 50),),
    )
    text = to_text(report(ab_bond(miimon=50), lacp_bond(), drift=drift))
    assert "  drift     miimon: want 100, kernel has 50" in text.splitlines()
    assert "partner-silent" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "\033[" not in text


def test_status_text_is_coloured_only_when_asked() -> None:
    assert "\033[32m" in to_text(report(ab_bond()), colour=True)


def test_an_unreadable_configuration_is_reported_not_fatal() -> None:
    got: Any = to_json(report(ab_bond(), drift=Drift(error="2 errors in the configuration")))
    assert got["config"] == {"ok": False, "error": "2 errors in the configuration", "bonds": []}
    assert got["bonds"][0]["drift"] is None
    text = to_text(report(ab_bond(), drift=Drift(error="2 errors in the configuration")))
    assert text.startswith("  config    unreadable: 2 errors in the configuration")


def test_a_configured_bond_missing_from_the_kernel_is_listed() -> None:
    drift = Drift(configured=frozenset({"bond0", "bond7"}))
    assert to_json(report(ab_bond(), drift=drift))["missing"] == ["bond7"]
    assert to_json(report(ab_bond(), drift=drift, only="bond0"))["missing"] == []
    assert "bond7  missing" in to_text(report(ab_bond(), drift=drift))


def test_show_writes_only_options_away_from_their_defaults() -> None:
    doc = document(ActualState(bonds=(ab_bond(primary="p1", updelay=200, miimon=100),)))
    bond = doc["network"]["bonds"]["bond0"]
    assert bond["parameters"] == {"mode": "active-backup", "up-delay": 200, "primary": "p1"}
    assert bond["interfaces"] == ["p0", "p1"]
    assert bond["routes"] == [{"to": "default", "via": "192.0.2.1"}]
    assert "mtu" not in bond
    assert doc["network"]["ethernets"] == {"p0": {}, "p1": {}}


def test_show_writes_miimon_0_only_when_arp_monitoring_does_not_imply_it() -> None:
    by_hand = document(ActualState(bonds=(ab_bond(miimon=0),)))
    arp = document(
        ActualState(bonds=(ab_bond(miimon=0, arp_interval=200, arp_ip_target=("192.0.2.1",)),))
    )
    assert by_hand["network"]["bonds"]["bond0"]["parameters"]["mii-monitor-interval"] == 0
    parameters = arp["network"]["bonds"]["bond0"]["parameters"]
    assert "mii-monitor-interval" not in parameters
    assert parameters["arp-ip-targets"] == ["192.0.2.1"]


def test_show_skips_options_the_kernel_lacks_and_per_port_defaults() -> None:
    bond = ab_bond(peer_notif_delay=300)
    bond = BondState(**{**bond.__dict__, "ports": (port("p0", queue_id=3), port("p1"))})
    actual = ActualState(bonds=(bond,), unsupported=frozenset({"peer_notif_delay"}))
    parameters = document(actual)["network"]["bonds"]["bond0"]["parameters"]
    assert "peer-notify-delay" not in parameters
    assert parameters["port-queue-id"] == {"p0": 3}


def test_shown_yaml_validates_and_says_what_an_apply_would_still_change() -> None:
    vlan = VlanSpec(name="bond0.5", id=5, link="bond0", addresses=("10.5.0.2/24",), mtu=1500)
    down = BondState(**{**ab_bond().__dict__, "up": False, "vlans": (vlan,), "mtu": 9000})
    text = render(ActualState(bonds=(down,)), header="imported")
    assert text.startswith("# imported\n# note: bond0 is down; an apply brings it up\n")
    assert "interfaces: [p0, p1]" in text
    result = config.check_text(text)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert result.state.bonds[0].mtu == 9000
    assert yaml.safe_load(text)["network"]["vlans"]["bond0.5"] == {
        "id": 5,
        "link": "bond0",
        "addresses": ["10.5.0.2/24"],
        "mtu": 1500,
    }
