"""`bondctl show` round-trips: its YAML validates and an apply of it would change nothing.

For every mode (bonds bondd made, with options away from their defaults) and
for bonds made by hand with `ip link`, the import path for an existing host.
The kernel's own view (sysfs) confirms the bond really carries what the
shown YAML says.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bondd.cli.main import main
from tests.kernel.harness import Bondd
from tests.lab.netlab import HOST_ADDRESS, SWITCH_ADDRESS, Lab, ip, sysfs

# Per mode, options away from their defaults, as YAML flow-mapping items.
MODE_OPTIONS = {
    "balance-rr": "mii-monitor-interval: 50, up-delay: 100, packets-per-member: 3, min-links: 1",
    "active-backup": "mii-monitor-interval: 100, primary: p1, primary-reselect-policy: better,"
    " fail-over-mac-policy: active, gratuitous-arp: 3, down-delay: 200,"
    " port-queue-id: {p0: 2}",
    "balance-xor": "mii-monitor-interval: 0, arp-interval: 200,"
    f" arp-ip-targets: [{SWITCH_ADDRESS}], arp-missed-max: 3,"
    " transmit-hash-policy: layer2+3",
    "broadcast": "mii-monitor-interval: 100, all-members-active: true",
    "802.3ad": "mii-monitor-interval: 100, lacp-rate: fast, transmit-hash-policy: layer3+4,"
    " ad-select: bandwidth, ad-actor-sys-prio: 100, ad-user-port-key: 5",
    "balance-tlb": "mii-monitor-interval: 100, tlb-dynamic-lb: false, learn-packet-interval: 2,"
    " primary: p0",
    "balance-alb": "mii-monitor-interval: 100, learn-packet-interval: 3",
}


def config(mode: str) -> str:
    return f"""
network:
  version: 2
  ethernets: {{p0: {{}}, p1: {{}}}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters: {{mode: {mode}, {MODE_OPTIONS[mode]}}}
      addresses: [{HOST_ADDRESS}/24]
      routes: [{{to: 10.20.0.0/16, via: {SWITCH_ADDRESS}, metric: 50}}]
      mtu: 9000
  vlans:
    bond0.100: {{id: 100, link: bond0, addresses: [10.100.0.2/24]}}
"""


def show(bondd: Bondd, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    capsys.readouterr()
    code = main(
        ["show", "--config-dir", str(bondd.config_dir), "--state-dir", str(bondd.state_dir), *extra]
    )
    assert code == 0
    return capsys.readouterr().out


def validate(directory: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    code = main(["validate", "--json", "--config-dir", str(directory)])
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    assert code == 0, result["diagnostics"]
    return result


def round_trip(bondd: Bondd, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    """Show, validate the shown YAML, and check a plan on it is empty."""
    shown = show(bondd, capsys)
    imported = tmp_path / "imported"
    imported.mkdir()
    (imported / "50-imported.yaml").write_text(shown)
    result = validate(imported, capsys)
    assert result["bonds"] == ["bond0"]
    bondd.write(shown)  # replaces the configuration the bond was made from, if any
    plan = bondd.plan()
    assert plan.empty, [op.describe() for op in plan.ops]
    assert plan.differences == ()
    return shown


@pytest.mark.parametrize("mode", list(MODE_OPTIONS))
def test_show_of_a_bond_made_by_bondd_round_trips(
    mode: str, lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lab.cable("p0")
    lab.cable("p1")
    bondd.apply(config(mode))
    shown = round_trip(bondd, capsys, tmp_path)
    bond = yaml.safe_load(shown)["network"]["bonds"]["bond0"]
    assert bond["parameters"]["mode"] == mode == sysfs("bond0/bonding/mode").split()[0]
    assert bond["interfaces"] == sysfs("bond0/bonding/slaves").split()
    assert bond["mtu"] == int(sysfs("bond0/mtu")) == 9000
    # Left out, miimon is at its default: 100, or 0 under ARP monitoring.
    default = 0 if bond["parameters"].get("arp-interval") else 100
    miimon = int(sysfs("bond0/bonding/miimon"))
    assert bond["parameters"].get("mii-monitor-interval", default) == miimon


def test_show_of_an_active_backup_bond_made_by_hand_round_trips(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lab.cable("p0")
    lab.cable("p1")
    ip(
        "link",
        "add",
        "bond0",
        "type",
        "bond",
        "mode",
        "active-backup",
        "miimon",
        "100",
        "updelay",
        "200",
        "primary_reselect",
        "failure",
    )
    for port in ("p0", "p1"):
        ip("link", "set", port, "master", "bond0")
    ip("link", "set", "bond0", "type", "bond", "primary", "p1")
    ip("link", "set", "bond0", "mtu", "9000", "up")
    ip("addr", "add", f"{HOST_ADDRESS}/24", "dev", "bond0")
    ip("route", "add", "default", "via", SWITCH_ADDRESS, "dev", "bond0")
    ip("link", "add", "link", "bond0", "name", "bond0.7", "type", "vlan", "id", "7")
    ip("addr", "add", "10.7.0.2/24", "dev", "bond0.7")
    ip("link", "set", "bond0.7", "up")

    shown = round_trip(bondd, capsys, tmp_path)
    network = yaml.safe_load(shown)["network"]
    bond = network["bonds"]["bond0"]
    assert bond["parameters"] == {
        "mode": "active-backup",
        "up-delay": int(sysfs("bond0/bonding/updelay")),
        "primary": sysfs("bond0/bonding/primary"),
        "primary-reselect-policy": sysfs("bond0/bonding/primary_reselect").split()[0],
    }
    assert bond["routes"] == [{"to": "default", "via": SWITCH_ADDRESS}]
    assert network["vlans"] == {"bond0.7": {"id": 7, "link": "bond0", "addresses": ["10.7.0.2/24"]}}
    # The import adopts the bond without one kernel write.
    outcome = bondd.apply()
    assert outcome.plan.empty and bondd.writes_last == 0
    assert bondd.store.ownership().adopted == frozenset({"bond0"})


def test_show_of_an_lacp_bond_made_by_hand_round_trips(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lab.cable("p0")
    lab.cable("p1")
    ip(
        "link",
        "add",
        "bond0",
        "type",
        "bond",
        "mode",
        "802.3ad",
        "lacp_rate",
        "fast",
        "xmit_hash_policy",
        "layer3+4",
        "miimon",
        "100",
    )
    for port in ("p0", "p1"):
        ip("link", "set", port, "master", "bond0")
    ip("link", "set", "bond0", "up")

    shown = round_trip(bondd, capsys, tmp_path)
    parameters = yaml.safe_load(shown)["network"]["bonds"]["bond0"]["parameters"]
    assert parameters == {
        "mode": "802.3ad",
        "transmit-hash-policy": sysfs("bond0/bonding/xmit_hash_policy").split()[0],
        "lacp-rate": sysfs("bond0/bonding/lacp_rate").split()[0],
    }


def test_show_json_is_the_same_document(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    lab.cable("p0")
    lab.cable("p1")
    bondd.apply(config("active-backup"))
    as_yaml = yaml.safe_load(show(bondd, capsys))
    as_json = json.loads(show(bondd, capsys, "--json"))
    assert as_yaml == as_json


def test_show_of_an_unknown_bond_exits_1(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", "nosuch", "--state-dir", str(bondd.state_dir)]) == 1
    assert "no bond named nosuch" in capsys.readouterr().err
