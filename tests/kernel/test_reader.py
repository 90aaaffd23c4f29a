"""The per-bond read sees a bond exactly as the whole-host read does, and as the kernel does.

Drift repair reads one bond, its ports and VLANs (links by ifindex,
addresses and routes dumped per interface) instead of the host. Bonds here
are made by hand with iproute2, a second bond and a stray link stand next
to them, and what the read returns is checked against iproute2's and
sysfs's own view of the same bond.
"""

from __future__ import annotations

import ipaddress
import json

from bondd.kernel.reader import KernelReader
from tests.lab.netlab import Lab, ip, sysfs


def build(lab: Lab) -> None:
    for port in ("p0", "p1", "p2", "p3", "p4"):
        lab.cable(port)
    ip("link", "add", "bond0", "type", "bond", "mode", "active-backup", "miimon", "100")
    ip("link", "add", "bond1", "type", "bond", "mode", "balance-xor", "miimon", "50")
    for port, bond in (("p0", "bond0"), ("p1", "bond0"), ("p2", "bond1"), ("p3", "bond1")):
        ip("link", "set", port, "down")
        ip("link", "set", port, "master", bond)
    ip("link", "set", "bond0", "type", "bond", "primary", "p1")
    for bond in ("bond0", "bond1"):
        ip("link", "set", bond, "up")
    ip("link", "add", "link", "bond0", "name", "bond0.100", "type", "vlan", "id", "100")
    ip("link", "set", "bond0.100", "up")
    ip("link", "add", "br9", "type", "bridge")
    ip("link", "set", "bond1", "master", "br9")  # an upper of bond1 that is not a VLAN
    ip("addr", "add", "10.1.0.2/24", "dev", "bond0")
    ip("addr", "add", "2001:db8:1::2/64", "dev", "bond0", "nodad")
    ip("addr", "add", "10.100.0.2/24", "dev", "bond0.100")
    ip("addr", "add", "10.2.0.2/24", "dev", "bond1")
    ip("route", "add", "10.50.0.0/16", "via", "10.1.0.1", "metric", "20")
    ip("route", "add", "default", "via", "10.1.0.1", "dev", "bond0", "table", "100")
    ip("route", "add", "10.60.0.0/16", "via", "10.100.0.1")
    ip("route", "add", "10.70.0.0/16", "via", "10.2.0.1")


def kernel_addresses(ifname: str) -> set[str]:
    out = json.loads(ip("-j", "addr", "show", "dev", ifname))
    return {
        f"{a['local']}/{a['prefixlen']}"
        for link in out
        for a in link["addr_info"]
        if a.get("scope") != "link"
    }


def kernel_routes(ifname: str) -> set[str]:
    """Static routes through `ifname`, all tables, as `ip -j route` prints them."""
    found = set()
    for family in ("-4", "-6"):
        for r in json.loads(ip("-j", family, "route", "show", "table", "all", "dev", ifname)):
            # iproute2 leaves out "proto boot" (the default) and "table main".
            if r.get("protocol", "boot") not in ("boot", "static") or r.get("table") == "local":
                continue
            dst = "0.0.0.0/0" if r["dst"] == "default" else r["dst"]
            found.add(str(ipaddress.ip_network(dst if "/" in dst else f"{dst}/32")))
    return found


def test_one_bond_reads_as_the_whole_host_read_and_the_kernel_show_it(lab: Lab) -> None:
    build(lab)
    reader = KernelReader()
    try:
        full = reader.read()
        one = reader.read_bond("bond0")
        other = reader.read_bond("bond1")
    finally:
        reader.close()
    bond = full.bond("bond0")
    assert bond is not None
    assert one.bonds == (bond,)
    assert {x.name for x in one.links} == {"p0", "p1", "bond0.100"}  # not bond1's, not br9
    for link in one.links:
        assert link == full.link(link.name)
    assert one.unsupported == full.unsupported
    assert other.bonds == (full.bond("bond1"),)
    assert {x.name for x in other.links} == {"p2", "p3"}  # its bridge is not its business
    # ... and what it says is the kernel's own view.
    assert [p.name for p in bond.ports] == sysfs("bond0/bonding/slaves").split()
    assert bond.options["mode"] == sysfs("bond0/bonding/mode").split()[0]
    assert bond.options["primary"] == sysfs("bond0/bonding/primary") == "p1"
    assert set(bond.addresses) == kernel_addresses("bond0") == {"10.1.0.2/24", "2001:db8:1::2/64"}
    assert {r.to for r in bond.routes} == kernel_routes("bond0") == {"10.50.0.0/16", "0.0.0.0/0"}
    (vlan,) = bond.vlans
    assert (vlan.name, vlan.id, vlan.addresses) == ("bond0.100", 100, ("10.100.0.2/24",))
    assert {r.to for r in vlan.routes} == kernel_routes("bond0.100") == {"10.60.0.0/16"}


def test_a_port_taken_out_behind_bondd_s_back_is_read_when_asked_for(lab: Lab) -> None:
    build(lab)
    ip("link", "set", "p1", "nomaster")
    reader = KernelReader()
    try:
        one = reader.read_bond("bond0", also=["p1", "p4"])
        gone = reader.read_bond("bond7", also=["p4"])
    finally:
        reader.close()
    bond = one.bond("bond0")
    assert bond is not None
    assert [p.name for p in bond.ports] == sysfs("bond0/bonding/slaves").split() == ["p0"]
    p1 = one.link("p1")
    assert p1 is not None and p1.master is None and p1.mii_up is None
    assert one.link("p4") is not None
    assert gone.bonds == () and [x.name for x in gone.links] == ["p4"]
