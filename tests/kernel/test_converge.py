"""The reconciler on the real bonding driver: YAML in, the kernel's own view out."""

from __future__ import annotations

import json
from pathlib import Path

from tests.kernel.harness import Bondd
from tests.lab.netlab import (
    HOST_ADDRESS,
    SWITCH_ADDRESS,
    Lab,
    ip,
    proc_bonding,
    sysfs,
    wait_for,
)

ACTIVE_BACKUP = f"""
network:
  version: 2
  ethernets:
    p0: {{}}
    p1: {{}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters:
        mode: active-backup
        mii-monitor-interval: 100
        primary: p0
      addresses: [{HOST_ADDRESS}/24]
"""


def test_active_backup_bond_is_created_from_yaml(lab: Lab, bondd: Bondd) -> None:
    lab.cable("p0")
    lab.cable("p1")
    lab.bridge_switch(["p0", "p1"])
    outcome = bondd.apply(ACTIVE_BACKUP)
    assert outcome.execution is not None
    assert "Bonding Mode: fault-tolerance (active-backup)" in proc_bonding("bond0")
    assert sysfs("bond0/bonding/slaves").split() == ["p0", "p1"]
    assert sysfs("bond0/bonding/miimon") == "100"
    assert sysfs("bond0/bonding/primary") == "p0"
    assert int(sysfs("bond0/flags"), 16) & 1, "bond0 is not administratively up"
    wait_for(lambda: sysfs("bond0/operstate") == "up", timeout=5)
    wait_for(lambda: lab.ping(SWITCH_ADDRESS, count=2, interval=0.05).received > 0, timeout=10)
    assert bondd.store.ownership().owned == frozenset({"bond0"})


def test_an_address_moved_within_its_subnet_keeps_the_default_route(lab: Lab, bondd: Bondd) -> None:
    # Without promote_secondaries (the kernel's default), the move is delete
    # then add; for that moment bond0 has no IPv4 address and the kernel
    # flushes its routes, so the default route must be added again after.
    lab.cable("p0")
    lab.cable("p1")
    lab.bridge_switch(["p0", "p1"])
    promote = Path("/proc/sys/net/ipv4/conf/all/promote_secondaries").read_text().strip()
    assert promote == "0"
    routed = ACTIVE_BACKUP + "      routes: [{to: default, via: " + SWITCH_ADDRESS + "}]\n"
    bondd.apply(routed)
    moved = routed.replace(f"{HOST_ADDRESS}/24", "198.51.100.212/24")
    bondd.apply(moved)
    addresses = [
        f"{a['local']}/{a['prefixlen']}"
        for link in json.loads(ip("-j", "-4", "addr", "show", "dev", "bond0"))
        for a in link["addr_info"]
    ]
    assert addresses == ["198.51.100.212/24"]
    routes = json.loads(ip("-j", "-4", "route", "show", "dev", "bond0"))
    assert {"dst": "default", "gateway": SWITCH_ADDRESS} in [
        {k: r.get(k) for k in ("dst", "gateway")} for r in routes
    ], routes
    bondd.apply(moved)
    assert bondd.writes_last == 0, "a second apply changes nothing"
