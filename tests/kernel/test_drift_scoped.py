"""Drift on one of several bonds is repaired over a read of that bond only.

Four bonds run under the real daemon, one with a VLAN carrying an address.
Drift is made behind the daemon's back on that bond (an option, a port
released, the VLAN's address removed); the kernel's own view shows it
repaired, the other bonds' links, options and addresses exactly as they
were (`ip -j -d`, sysfs), the only links the kernel reports changing during
the repairs are the drifted bond's, and the daemon's counters show the
passes were scoped (no whole-host pass).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bondd.protocol import request
from tests.kernel.daemon_harness import Daemon
from tests.lab.events import LinkEvents
from tests.lab.netlab import Lab, ip, sysfs, wait_for

BONDS = 4
VICTIM = 1
VLAN = f"bond{VICTIM}.10"
VLAN_ADDRESS = "10.77.10.2/24"


def config() -> str:
    lines = ["network:", "  version: 2", "  ethernets:"]
    lines += [f"    p{i}{s}: {{}}" for i in range(BONDS) for s in "ab"]
    lines.append("  bonds:")
    for i in range(BONDS):
        lines += [
            f"    bond{i}:",
            f"      interfaces: [p{i}a, p{i}b]",
            "      parameters: {mode: active-backup, mii-monitor-interval: 100}",
            f"      addresses: [10.77.{i}.2/24]",
        ]
    lines += [
        "  vlans:",
        f"    {VLAN}: {{id: 10, link: bond{VICTIM}, addresses: [{VLAN_ADDRESS}]}}",
        "bondd: {probes: []}",
    ]
    return "\n".join(lines) + "\n"


def converged() -> bool:
    try:
        return all(
            sysfs(f"bond{i}/bonding/slaves").split() == [f"p{i}a", f"p{i}b"]
            and sysfs(f"bond{i}/bonding/miimon") == "100"
            for i in range(BONDS)
        ) and VLAN_ADDRESS in ip("-br", "addr", "show", "dev", VLAN)
    except (OSError, RuntimeError):
        return False


def others() -> list[str]:
    names = []
    for i in range(BONDS):
        if i != VICTIM:
            names += [f"bond{i}", f"p{i}a", f"p{i}b"]
    return names


def kernel_view(names: list[str]) -> dict[str, Any]:
    """What the kernel shows of these links: details, addresses, bonding sysfs."""
    view: dict[str, Any] = {}
    for name in names:
        [link] = json.loads(ip("-j", "-d", "link", "show", "dev", name))
        [addr] = json.loads(ip("-j", "addr", "show", "dev", name))
        bonding = Path("/sys/class/net", name, "bonding")
        view[name] = {
            "link": link,
            # DAD clears `tentative` on its own time (a loaded machine: after the
            # second the test gives it): the kernel's follow-up, not a change.
            "addresses": [
                {k: v for k, v in a.items() if k != "tentative"} for a in addr.get("addr_info", [])
            ],
            "sysfs": {f.name: f.read_text() for f in sorted(bonding.iterdir())}
            if bonding.is_dir()
            else {},
        }
    return view


def stats(daemon: Daemon) -> dict[str, int]:
    answer = request(daemon.run_dir, {"cmd": "status"}, timeout=10)
    return {k: int(v) for k, v in answer["stats"].items()}


def test_drift_on_one_bond_is_repaired_and_the_others_are_not_touched(
    lab: Lab, daemon: Daemon
) -> None:
    for i in range(BONDS):
        for side in "ab":
            lab.cable(f"p{i}{side}")
    daemon.start()
    (daemon.config_dir / "10-bonds.yaml").write_text(config())
    wait_for(converged, timeout=60, interval=0.5)
    daemon.wait_event("applied")
    time.sleep(1.0)  # the kernel's own follow-up to the apply (DAD, carrier) settles
    untouched = others()
    before = kernel_view(untouched)
    counted = stats(daemon)
    watcher = LinkEvents()
    drifts: list[tuple[str, Callable[[], object]]] = [
        ("option", lambda: Path(f"/sys/class/net/bond{VICTIM}/bonding/miimon").write_text("40")),
        ("port released", lambda: ip("link", "set", f"p{VICTIM}b", "nomaster")),
        ("VLAN address removed", lambda: ip("addr", "del", VLAN_ADDRESS, "dev", VLAN)),
        ("VLAN down", lambda: ip("link", "set", VLAN, "down")),
    ]
    try:
        for name, make in drifts:
            seen = len(daemon.events("drift_repaired"))
            make()
            daemon.wait_event("drift_repaired", seen + 1)
            wait_for(converged, timeout=30, interval=0.2)
            assert int(sysfs(f"{VLAN}/flags"), 16) & 1 == 1, name
        changed = {e.ifname for e in watcher.drain(0.5)}
    finally:
        watcher.close()
    repaired = daemon.events("drift_repaired")[-len(drifts) :]
    assert {r["BONDD_BOND"] for r in repaired} == {f"bond{VICTIM}"}
    assert not changed & set(untouched), changed  # the kernel saw nothing else change
    assert kernel_view(untouched) == before
    after = stats(daemon)
    assert after.get("repair-scoped", 0) - counted.get("repair-scoped", 0) >= len(drifts)
    assert after.get("repair-unscoped", 0) == counted.get("repair-unscoped", 0)
    assert os.path.exists(f"/sys/class/net/{VLAN}")
