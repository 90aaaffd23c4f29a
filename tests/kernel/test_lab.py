"""Self-tests of the lab: the bonding driver behaves as the kernel tier assumes.

Each asserts on the kernel's own view (/proc/net/bonding, sysfs), not on bondd.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.lab.netlab import (
    HOST_ADDRESS,
    PREFIX,
    SWITCH_ADDRESS,
    Lab,
    ip,
    lacp_negotiated,
    parse_ping,
    proc_bonding,
    sysfs,
    wait_for,
)

# LACP port state bits (IEEE 802.1AX): what "negotiated" means per port.
SYNC, DEFAULTED = 8, 64


def make_bond(lab: Lab, mode: str, *options: str, ports: tuple[str, ...] = ("p0", "p1")) -> None:
    for port in ports:
        lab.cable(port)
    ip("link", "add", "bond0", "type", "bond", "mode", mode, "miimon", "100", *options)
    for port in ports:
        ip("link", "set", port, "master", "bond0")
    ip("addr", "add", f"{HOST_ADDRESS}/{PREFIX}", "dev", "bond0")
    ip("link", "set", "bond0", "up")


def port_states(port: str) -> tuple[int, int, int]:
    return (
        int(sysfs(f"{port}/bonding_slave/ad_actor_oper_port_state")),
        int(sysfs(f"{port}/bonding_slave/ad_partner_oper_port_state")),
        int(sysfs(f"{port}/bonding_slave/ad_aggregator_id")),
    )


def test_bond_over_two_cables_is_seen_by_the_kernel(lab: Lab) -> None:
    make_bond(lab, "active-backup")
    lab.bridge_switch(["p0", "p1"])
    text = proc_bonding("bond0")
    assert "Bonding Mode: fault-tolerance (active-backup)" in text
    assert text.count("Slave Interface:") == 2
    assert sysfs("bond0/bonding/slaves").split() == ["p0", "p1"]
    assert Path("/sys/class/net/p0/master").resolve().name == "bond0"
    wait_for(lambda: lab.ping(SWITCH_ADDRESS, count=3, interval=0.05).received > 0, timeout=10)


def test_active_backup_fails_over_when_the_active_cable_is_pulled(lab: Lab) -> None:
    make_bond(lab, "active-backup")
    lab.bridge_switch(["p0", "p1"])
    wait_for(lambda: sysfs("bond0/bonding/active_slave") != "", timeout=5)
    wait_for(lambda: lab.ping(SWITCH_ADDRESS, count=3, interval=0.05).received == 3, timeout=10)
    active = sysfs("bond0/bonding/active_slave")
    other = "p1" if active == "p0" else "p0"

    pinger = lab.start_ping(SWITCH_ADDRESS, count=300, interval=0.01)
    time.sleep(1.0)
    lab.pull_cable(active)
    out = pinger.communicate()[0]

    result = parse_ping(out)
    print(f"\nLAB-FIGURE failover miimon=100ms: sent={result.sent} lost={result.lost}")
    assert sysfs("bond0/bonding/active_slave") == other
    assert sysfs(f"{active}/bonding_slave/mii_status") == "down"
    assert f"Currently Active Slave: {other}" in proc_bonding("bond0")
    assert 0 < result.received < result.sent or result.lost == 0
    assert result.lost <= 30, "failover took longer than 300 ms at miimon 100"


def test_lacp_negotiates_with_a_partner_bond(lab: Lab) -> None:
    ports = ("p0", "p1")
    for port in ports:
        lab.cable(port)
    lab.partner_bond(list(ports), "pbond0", SWITCH_ADDRESS, "802.3ad", "lacp_rate", "fast")
    ip(
        "link",
        "add",
        "bond0",
        "type",
        "bond",
        "mode",
        "802.3ad",
        "miimon",
        "100",
        "lacp_rate",
        "fast",
        "xmit_hash_policy",
        "layer3+4",
    )
    for port in ports:
        ip("link", "set", port, "master", "bond0")
    started = time.monotonic()
    ip("link", "set", "bond0", "up")
    took = wait_for(lambda: lacp_negotiated("bond0", ports), timeout=30, interval=0.01)
    print(f"\nLAB-FIGURE lacp negotiated in {took:.2f}s (lacp_rate fast)")
    for port in ports:
        actor, partner, _ = port_states(port)
        assert actor == 63 and partner == 63, (port, actor, partner)
    text = proc_bonding("bond0")
    assert "Partner Mac Address: 00:00:00:00:00:00" not in text
    assert time.monotonic() - started < 30


def test_lacp_does_not_negotiate_against_a_plain_bridge(lab: Lab) -> None:
    ports = ("p0", "p1")
    make_bond(lab, "802.3ad", "lacp_rate", "fast")
    lab.bridge_switch(list(ports))
    time.sleep(4)  # longer than fast-rate negotiation takes with a real partner
    assert not lacp_negotiated("bond0", ports)
    for port in ports:
        actor, partner, _ = port_states(port)
        assert actor & DEFAULTED or partner & SYNC == 0, (port, actor, partner)
    assert "Partner Mac Address: 00:00:00:00:00:00" in proc_bonding("bond0")
