"""The reconciler on the real bonding driver: YAML in, the kernel's own view out."""

from __future__ import annotations

from tests.kernel.harness import Bondd
from tests.lab.netlab import HOST_ADDRESS, SWITCH_ADDRESS, Lab, proc_bonding, sysfs, wait_for

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
