"""Every mode to every other mode on a bond with two ports and an address."""

from __future__ import annotations

import itertools
import json
import subprocess

from bondd.model import BondMode
from tests.kernel.harness import Bondd
from tests.lab.netlab import HOST_ADDRESS, Lab, proc_bonding, sysfs

MODES = [m.value for m in BondMode]


def euler_circuit(nodes: list[str]) -> list[str]:
    """A walk through every ordered pair of distinct nodes exactly once (Hierholzer)."""
    edges = {n: [m for m in nodes if m != n] for n in nodes}
    stack, walk = [nodes[0]], []
    while stack:
        node = stack[-1]
        if edges[node]:
            stack.append(edges[node].pop())
        else:
            walk.append(stack.pop())
    return walk[::-1]


def config(mode: str) -> str:
    return f"""
network:
  version: 2
  ethernets: {{p0: {{}}, p1: {{}}}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters: {{mode: {mode}}}
      addresses: [{HOST_ADDRESS}/24]
"""


def addresses(ifname: str) -> list[str]:
    out = subprocess.run(
        ["ip", "-j", "addr", "show", "dev", ifname], capture_output=True, text=True, check=True
    ).stdout
    return [
        f"{a['local']}/{a['prefixlen']}"
        for a in json.loads(out)[0]["addr_info"]
        if a["family"] == "inet"
    ]


def test_every_mode_changes_to_every_other_mode(lab: Lab, bondd: Bondd) -> None:
    lab.cable("p0")
    lab.cable("p1")
    walk = euler_circuit(MODES)
    assert len(walk) == 43  # 42 transitions
    bondd.apply(config(walk[0]))
    seen = set()
    for before, after in itertools.pairwise(walk):
        plan = bondd.plan(config(after))
        assert plan.disruption()["bond0"].label == "ports released", (before, after)
        bondd.apply()  # raises unless verified against the kernel
        seen.add((before, after))
        assert sysfs("bond0/bonding/mode").split()[0] == after
        assert sysfs("bond0/bonding/slaves").split() == ["p0", "p1"]
        assert proc_bonding("bond0").count("Slave Interface:") == 2
        assert addresses("bond0") == [f"{HOST_ADDRESS}/24"], (before, after)
        assert bondd.plan().empty, (before, after)
    assert len(seen) == 42
