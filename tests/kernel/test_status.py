"""`bondctl status --json` against the kernel's own view: /proc/net/bonding and sysfs.

Every mode, the three LACP verdicts an admin meets (a real partner, a plain
switch, ports cabled to two different partners), drift made by hand, and a
bond bondd does not manage.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from bondd.cli.main import main
from tests.kernel.harness import Bondd
from tests.lab.netlab import (
    HOST_ADDRESS,
    SWITCH_ADDRESS,
    Lab,
    ip,
    lacp_negotiated,
    proc_bonding,
    sysfs,
    wait_for,
)

MODES = (
    "balance-rr",
    "active-backup",
    "balance-xor",
    "broadcast",
    "802.3ad",
    "balance-tlb",
    "balance-alb",
)
_ACTIVE_PORT_MODES = ("active-backup", "balance-tlb", "balance-alb")


def config(mode: str, extra: str = "") -> str:
    return f"""
network:
  version: 2
  ethernets: {{p0: {{}}, p1: {{}}}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters: {{mode: {mode}, mii-monitor-interval: 100{extra}}}
      addresses: [{HOST_ADDRESS}/24]
"""


def status(bondd: Bondd, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    capsys.readouterr()
    code = main(
        [
            "status",
            "--json",
            "--config-dir",
            str(bondd.config_dir),
            "--state-dir",
            str(bondd.state_dir),
            *extra,
        ]
    )
    assert code == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def bond_status(bondd: Bondd, capsys: pytest.CaptureFixture[str], bond: str) -> dict[str, Any]:
    found: dict[str, Any] = status(bondd, capsys, bond)["bonds"][0]
    assert found["name"] == bond
    return found


def proc_view(bond: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """/proc/net/bonding/BOND as (bond fields, per-port fields); 802.3ad aggregator
    info is kept under `agg <field>`."""
    head: dict[str, str] = {}
    ports: dict[str, dict[str, str]] = {}
    current = head
    in_agg = False
    for line in proc_bonding(bond).splitlines():
        if line.startswith("Slave Interface:"):
            current = ports.setdefault(line.split(":", 1)[1].strip(), {})
            in_agg = False
            continue
        if line.startswith("Active Aggregator Info:"):
            in_agg = True
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        name = key.strip()
        if in_agg and line.startswith("\t"):
            name = f"agg {name}"
        current.setdefault(name, value.strip())
    return head, ports


def settle(mode: str, lab: Lab) -> None:
    wait_for(lambda: sysfs("bond0/operstate") == "up", timeout=10)
    for port in ("p0", "p1"):
        wait_for(lambda port=port: sysfs(f"{port}/bonding_slave/mii_status") == "up", timeout=5)
    if mode in _ACTIVE_PORT_MODES:
        wait_for(lambda: sysfs("bond0/bonding/active_slave") != "", timeout=5)
    if mode == "802.3ad":
        wait_for(lambda: lacp_negotiated("bond0", ("p0", "p1")), timeout=15)


@pytest.mark.parametrize("mode", MODES)
def test_status_json_matches_proc_and_sysfs(
    mode: str, lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    lab.cable("p0")
    lab.cable("p1")
    if mode == "802.3ad":
        lab.partner_bond(["p0", "p1"], "pbond0", SWITCH_ADDRESS, "802.3ad", "lacp_rate", "fast")
        bondd.apply(config(mode, ", lacp-rate: fast, transmit-hash-policy: layer3+4"))
    else:
        lab.bridge_switch(["p0", "p1"])
        bondd.apply(config(mode))
    settle(mode, lab)

    got = bond_status(bondd, capsys, "bond0")
    head, ports = proc_view("bond0")

    assert got["mode"] == sysfs("bond0/bonding/mode").split()[0]
    assert got["options"]["miimon"] == int(sysfs("bond0/bonding/miimon"))
    assert got["options"]["miimon"] == int(head["MII Polling Interval (ms)"])
    assert got["options"]["xmit_hash_policy"] == sysfs("bond0/bonding/xmit_hash_policy").split()[0]
    assert got["up"] is True and head["MII Status"] == "up"
    assert got["managed"] == "owned"
    assert got["drift"] == []
    assert [p["name"] for p in got["ports"]] == sysfs("bond0/bonding/slaves").split()
    assert [p["name"] for p in got["ports"]] == list(ports)
    if mode in _ACTIVE_PORT_MODES:
        assert got["active_port"] == head["Currently Active Slave"]
        assert got["active_port"] == sysfs("bond0/bonding/active_slave")
    else:
        assert got["active_port"] is None
        assert "Currently Active Slave" not in head
    for port in got["ports"]:
        name = port["name"]
        kernel = ports[name]
        assert port["mii"] == kernel["MII Status"] == sysfs(f"{name}/bonding_slave/mii_status")
        assert port["state"] == sysfs(f"{name}/bonding_slave/state")
        assert port["link_failures"] == int(kernel["Link Failure Count"])
        assert port["perm_macaddress"] == kernel["Permanent HW addr"]
        assert f"{port['speed_mbps']} Mbps" == kernel["Speed"]
        assert port["duplex"] == kernel["Duplex"]
    if mode == "802.3ad":
        lacp = got["lacp"]
        assert lacp["aggregator"] == int(head["agg Aggregator ID"])
        assert lacp["aggregator"] == int(sysfs("bond0/bonding/ad_aggregator"))
        assert lacp["num_ports"] == int(head["agg Number of ports"])
        assert lacp["actor_key"] == int(head["agg Actor Key"])
        assert lacp["partner_key"] == int(head["agg Partner Key"])
        assert lacp["partner_mac"] == head["agg Partner Mac Address"]
        assert lacp["partner_mac"] == sysfs("bond0/bonding/ad_partner_mac")
        assert lacp["verdict"] == "negotiated"
        for port in got["ports"]:
            name = port["name"]
            assert port["lacp"]["aggregator_id"] == int(ports[name]["Aggregator ID"])
            for side in ("actor", "partner"):
                state = int(sysfs(f"{name}/bonding_slave/ad_{side}_oper_port_state"))
                assert port["lacp"][f"{side}_state"] == state
    else:
        assert got["lacp"] is None
        assert all(p["lacp"] is None for p in got["ports"])


def lacp_bond(lab: Lab, bondd: Bondd) -> None:
    bondd.apply(config("802.3ad", ", lacp-rate: fast, transmit-hash-policy: layer3+4"))


def verdict_within(
    bondd: Bondd, capsys: pytest.CaptureFixture[str], wanted: str, timeout: float
) -> dict[str, Any]:
    """Poll status until the verdict is `wanted`; the last status either way."""
    deadline = time.monotonic() + timeout
    while True:
        got = bond_status(bondd, capsys, "bond0")
        if got["lacp"]["verdict"] == wanted or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_lacp_verdict_is_negotiated_with_a_partner_bond(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    lab.cable("p0")
    lab.cable("p1")
    lab.partner_bond(["p0", "p1"], "pbond0", SWITCH_ADDRESS, "802.3ad", "lacp_rate", "fast")
    lacp_bond(lab, bondd)
    got = verdict_within(bondd, capsys, "negotiated", timeout=15)
    assert got["lacp"]["verdict"] == "negotiated", got["lacp"]
    assert lacp_negotiated("bond0", ("p0", "p1"))
    assert "Partner Mac Address: 00:00:00:00:00:00" not in proc_bonding("bond0")
    for port in got["ports"]:
        assert port["lacp"]["actor_state_words"][3:6] == ["in-sync", "collecting", "distributing"]


def test_lacp_verdict_is_partner_silent_behind_a_plain_bridge(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    lab.cable("p0")
    lab.cable("p1")
    lab.bridge_switch(["p0", "p1"])
    lacp_bond(lab, bondd)
    time.sleep(4)  # longer than fast-rate negotiation takes with a real partner
    got = bond_status(bondd, capsys, "bond0")
    assert got["lacp"]["verdict"] == "partner-silent", got["lacp"]
    assert got["lacp"]["check"].startswith("configure an LACP port-channel")
    assert "Partner Mac Address: 00:00:00:00:00:00" in proc_bonding("bond0")
    assert sysfs("bond0/bonding/ad_partner_mac") == "00:00:00:00:00:00"


def test_lacp_verdict_is_split_when_the_ports_reach_two_partners(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    lab.cable("p0")
    lab.cable("p1")
    lab.partner_bond(["p0"], "pbond0", None, "802.3ad", "lacp_rate", "fast")
    lab.partner_bond(["p1"], "pbond1", None, "802.3ad", "lacp_rate", "fast")
    lacp_bond(lab, bondd)
    got = verdict_within(bondd, capsys, "split", timeout=15)
    assert got["lacp"]["verdict"] == "split", got["lacp"]
    aggregators = {sysfs(f"{p}/bonding_slave/ad_aggregator_id") for p in ("p0", "p1")}
    assert len(aggregators) == 2, "the kernel put both ports in one aggregator"
    assert sysfs("bond0/bonding/ad_num_ports") == "1"
    _, ports = proc_view("bond0")
    assert ports["p0"]["Aggregator ID"] != ports["p1"]["Aggregator ID"]


def test_status_reports_an_option_changed_by_hand_as_drift(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    lab.cable("p0")
    lab.cable("p1")
    bondd.apply(config("active-backup"))
    ip("link", "set", "bond0", "type", "bond", "miimon", "50")
    assert sysfs("bond0/bonding/miimon") == "50"
    got = bond_status(bondd, capsys, "bond0")
    assert {"field": "miimon", "desired": 100, "actual": 50} in got["drift"]


def test_status_shows_a_bond_made_by_hand_as_unmanaged(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    lab.cable("p0")
    ip("link", "add", "bond9", "type", "bond", "mode", "balance-xor")
    ip("link", "set", "p0", "master", "bond9")
    got = status(bondd, capsys)
    bond9 = next(b for b in got["bonds"] if b["name"] == "bond9")
    assert bond9["managed"] == "unmanaged"
    assert bond9["in_config"] is False
    assert bond9["drift"] is None
    assert bond9["mode"] == sysfs("bond9/bonding/mode").split()[0] == "balance-xor"
    assert [p["name"] for p in bond9["ports"]] == sysfs("bond9/bonding/slaves").split()


def test_status_text_fits_80_columns_without_colour_off_a_terminal(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    lab.cable("p0")
    lab.cable("p1")
    lab.bridge_switch(["p0", "p1"])
    lacp_bond(lab, bondd)
    # The actor and partner lines come with the kernel's active aggregator, which
    # it reports only once a port is up in one (not at once after the bond is made).
    wait_for(lambda: "agg Aggregator ID" in proc_view("bond0")[0], timeout=15)
    capsys.readouterr()
    args = ["--config-dir", str(bondd.config_dir), "--state-dir", str(bondd.state_dir)]
    assert main(["status", *args]) == 0
    text = capsys.readouterr().out
    assert "\033[" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert re.search(r"^bond0  802\.3ad  up", text, re.MULTILINE)
    assert "actor" in text and "partner" in text


def test_status_of_an_unknown_bond_exits_1(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--config-dir", str(bondd.config_dir), "--state-dir", str(bondd.state_dir)]
    assert main(["status", "nosuch", *args]) == 1
    assert "no bond named nosuch" in capsys.readouterr().err
