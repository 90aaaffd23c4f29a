"""What the reconciler promises besides setting options: no-op applies, live
changes without a flap, an address that moves into a bond, and ownership."""

from __future__ import annotations

import subprocess
import time

import pytest

from bondd.errors import PlanError
from tests.kernel.harness import Bondd
from tests.lab.events import LinkEvents
from tests.lab.netlab import (
    HOST_ADDRESS,
    PREFIX,
    SWITCH_ADDRESS,
    Lab,
    ip,
    parse_ping,
    settle,
    state_changes,
    sysfs,
    wait_for,
)

PORTS = "ethernets: {p0: {}, p1: {}}"


def bond_config(
    params: str, ethernets: str = PORTS, interfaces: str = "[p0, p1]", extra: str = ""
) -> str:
    return f"""
network:
  version: 2
  {ethernets}
  bonds:
    bond0:
      interfaces: {interfaces}
      parameters: {{{params}}}
      addresses: [{HOST_ADDRESS}/{PREFIX}]
{extra}"""


NOOP_CASES = {
    "mac-match": bond_config(
        "mode: active-backup, primary: first",
        ethernets="ethernets: {first: {match: {macaddress: '02:00:00:00:0a:01'}},"
        " second: {match: {macaddress: '02:00:00:00:0a:02'}}}",
        interfaces="[first, second]",
    ),
    "delays-not-multiple": bond_config(
        "mode: active-backup, mii-monitor-interval: 100, up-delay: 250, down-delay: 150"
    ),
    "arp-monitoring": bond_config(
        "mode: active-backup, arp-interval: 200, arp-ip-targets: [198.51.100.1], arp-validate: all"
    ),
    **{
        f"mode-{m}": bond_config(f"mode: {m}")
        for m in (
            "balance-rr",
            "active-backup",
            "balance-xor",
            "broadcast",
            "802.3ad",
            "balance-tlb",
            "balance-alb",
        )
    },
    "everything": bond_config(
        "mode: 802.3ad, lacp-rate: fast, transmit-hash-policy: layer3+4, min-links: 1",
        extra="      mtu: 9000\n      routes: [{to: 203.0.113.0/24, via: 198.51.100.1}]\n"
        "  vlans:\n    bond0.100: {id: 100, link: bond0, addresses: [192.0.2.5/24]}\n",
    ),
}


@pytest.mark.parametrize("case", sorted(NOOP_CASES))
def test_second_apply_writes_nothing_and_flaps_nothing(
    lab: Lab, bondd: Bondd, events: LinkEvents, case: str
) -> None:
    lab.cable("p0", mac="02:00:00:00:0a:01")
    lab.cable("p1", mac="02:00:00:00:0a:02")
    lab.bridge_switch(["p0", "p1"])  # answers the ARP monitor's target
    bondd.apply(NOOP_CASES[case])
    states = settle(events)
    again = bondd.apply()
    assert again.plan.empty, [op.describe() for op in again.plan.ops]
    assert bondd.writes_last == 0
    # The kernel may still report late, unchanged states (a VLAN's, say): what
    # must not happen is a link changing admin or carrier state.
    assert state_changes(states, events.drain(0.5)) == []


LIVE_CHANGES = [
    ("mii-monitor-interval: 100", "mii-monitor-interval: 50"),
    ("transmit-hash-policy: layer2", "transmit-hash-policy: layer3+4"),
    ("primary: p0", "primary: p1"),
    ("min-links: 0", "min-links: 1"),
    ("gratuitous-arp: 1", "gratuitous-arp: 3"),
]


@pytest.mark.parametrize(("before", "after"), LIVE_CHANGES)
def test_live_option_changes_keep_the_bond_and_ports_up(
    lab: Lab, bondd: Bondd, events: LinkEvents, before: str, after: str
) -> None:
    lab.cable("p0")
    lab.cable("p1")
    lab.bridge_switch(["p0", "p1"])
    mode = "balance-xor" if "transmit-hash" in before else "active-backup"
    bondd.apply(bond_config(f"mode: {mode}, {before}"))
    settle(events)
    plan = bondd.plan(bond_config(f"mode: {mode}, {after}"))
    assert plan.disruption() == {"bond0": plan.disruption()["bond0"]}
    assert plan.disruption()["bond0"].label == "live change"
    bondd.apply()
    seen = events.drain(0.5)
    went_down = [e for e in seen if not (e.up and e.lower_up)]
    assert went_down == [], went_down


def test_address_on_a_port_moves_into_the_bond_and_ping_survives(lab: Lab, bondd: Bondd) -> None:
    lab.cable("p0")
    lab.cable("p1")
    lab.bridge_switch(["p0", "p1"])
    ip("addr", "add", f"{HOST_ADDRESS}/{PREFIX}", "dev", "p0")
    ip("link", "set", "p0", "up")
    wait_for(lambda: lab.ping(SWITCH_ADDRESS, count=2, interval=0.05).received == 2, timeout=10)
    pinger = lab.start_ping(SWITCH_ADDRESS, count=400, interval=0.01)
    time.sleep(0.5)  # the ping is running before the apply starts
    bondd.apply(bond_config("mode: active-backup, primary: p0"))
    out = pinger.communicate()[0]
    result = parse_ping(out)
    print(f"\nLAB-FIGURE address move port->bond: sent={result.sent} lost={result.lost}")
    assert result.received > 0 and result.lost < result.sent // 4
    assert ip("-br", "addr", "show", "dev", "p0").split()[2:] == []
    assert lab.ping(SWITCH_ADDRESS, count=3, interval=0.05).received == 3
    owned = bondd.store.ownership()
    assert owned.ports_before["p0"].addresses == (f"{HOST_ADDRESS}/{PREFIX}",)


def test_owned_bond_removed_from_yaml_is_deleted_and_ports_restored(lab: Lab, bondd: Bondd) -> None:
    lab.cable("p0")
    lab.cable("p1")
    ip("addr", "add", "192.0.2.9/24", "dev", "p1")
    bondd.apply(bond_config("mode: active-backup"))
    assert sysfs("bond0/bonding/slaves").split() == ["p0", "p1"]
    assert "192.0.2.9" not in ip("-br", "addr", "show", "dev", "p1")
    bondd.write("network: {version: 2}\n")
    bondd.apply()
    assert not link_exists("bond0")
    assert "192.0.2.9/24" in ip("-br", "addr", "show", "dev", "p1")
    assert "p0" in ip("-br", "link", "show", "dev", "p0")
    assert bondd.store.ownership().owned == frozenset()


def test_adopted_bond_is_left_in_place_and_unnamed_bonds_are_never_touched(
    lab: Lab, bondd: Bondd
) -> None:
    for port in ("p0", "p1", "q0"):
        lab.cable(port)
    ip("link", "add", "bond0", "type", "bond", "mode", "active-backup", "miimon", "100")
    ip("link", "add", "bond9", "type", "bond", "mode", "balance-xor", "miimon", "250")
    ip("link", "set", "q0", "master", "bond9")
    bond9_before = ip("-d", "link", "show", "bond9")
    bondd.apply(bond_config("mode: active-backup, mii-monitor-interval: 200"))
    assert sysfs("bond0/bonding/miimon") == "200"
    ownership = bondd.store.ownership()
    assert ownership.adopted == frozenset({"bond0"}) and ownership.owned == frozenset()
    bondd.write("network: {version: 2}\n")
    bondd.apply()
    assert sysfs("bond0/bonding/slaves").split() == ["p0", "p1"]  # adopted: left in place
    assert ip("-d", "link", "show", "bond9") == bond9_before
    assert sysfs("bond9/bonding/miimon") == "250"


def test_port_of_an_unmanaged_bond_is_refused_and_nothing_changes(lab: Lab, bondd: Bondd) -> None:
    lab.cable("p0")
    lab.cable("p1")
    ip("link", "add", "bond9", "type", "bond", "mode", "balance-xor")
    ip("link", "set", "p1", "master", "bond9")
    with pytest.raises(PlanError, match="belongs to bond bond9, which bondd does not manage"):
        bondd.apply(bond_config("mode: active-backup"))
    assert not link_exists("bond0")
    assert sysfs("bond9/bonding/slaves") == "p1"


def link_exists(name: str) -> bool:
    return (
        subprocess.run(["ip", "link", "show", name], capture_output=True, check=False).returncode
        == 0
    )
