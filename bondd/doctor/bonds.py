"""The doctor's checks of one bond: monitoring, port count, hashing, speeds, addresses.

Each check is a function of the bond and the host's facts that returns its
findings; `bond_findings` runs them all. A stray bond (what the driver
leaves without max_bonds=0) gets one finding and no other checks. Pure.
"""

from __future__ import annotations

import re

from bondd.doctor.facts import Finding, HostFacts, Severity
from bondd.model import BondMode, BondState

_STRAY_NAME = re.compile(r"bond\d+$")


def is_stray(bond: BondState, facts: HostFacts) -> bool:
    """What loading the driver without max_bonds=0 leaves: bondN, round-robin, no ports,
    in nobody's configuration."""
    return (
        _STRAY_NAME.match(bond.name) is not None
        and bond.mode is BondMode.BALANCE_RR
        and not bond.ports
        and bond.name not in facts.configured_bonds
        and bond.name not in facts.managed
    )


def stray(bond: BondState, facts: HostFacts) -> Finding:
    return Finding(
        Severity.PROBLEM,
        "stray-bond",
        bond.name,
        f"{bond.name} is a round-robin bond with no ports in no configuration: what loading"
        " the bonding driver without max_bonds=0 creates. networkd and others reuse it, and"
        f" bondd cannot create a {bond.name} of its own while it exists",
        f"delete it (ip link del {bond.name}) and load bonding with max_bonds=0"
        " (/etc/modprobe.d/bondd.conf)",
    )


def bond_findings(bond: BondState, facts: HostFacts) -> list[Finding]:
    """Every check of one (not stray) bond, in the order a reader meets them."""
    return [
        *_monitoring(bond),
        *_port_count(bond),
        *_layer2_hash(bond),
        *_mixed_speed(bond, facts),
        *_port_addresses(bond, facts),
    ]


def _monitoring(bond: BondState) -> list[Finding]:
    options = bond.options
    if options.get("miimon", 0) != 0 or options.get("arp_interval", 0) != 0:
        return []
    return [
        Finding(
            Severity.PROBLEM,
            "no-monitoring",
            bond.name,
            f"{bond.name} has neither MII monitoring (miimon 0) nor ARP monitoring: a dead"
            " link is never noticed and traffic keeps going to it",
            "set mii-monitor-interval: 100 (or ARP monitoring with arp-interval and"
            " arp-ip-targets)",
        )
    ]


def _port_count(bond: BondState) -> list[Finding]:
    if len(bond.ports) == 1:
        return [
            Finding(
                Severity.WARNING,
                "single-port",
                bond.name,
                f"{bond.name} has one port ({bond.ports[0].name}): no redundancy",
                "add a second port (another NIC, cabled to another switch where possible)",
            )
        ]
    if not bond.ports:
        return [
            Finding(
                Severity.WARNING,
                "no-ports",
                bond.name,
                f"{bond.name} has no ports: it carries no traffic",
                "add its ports, or delete the bond",
            )
        ]
    return []


def _layer2_hash(bond: BondState) -> list[Finding]:
    if not (
        bond.mode is BondMode.IEEE_802_3AD
        and len(bond.ports) > 1
        and bond.options.get("xmit_hash_policy", "layer2") == "layer2"
    ):
        return []
    return [
        Finding(
            Severity.WARNING,
            "layer2-hash",
            bond.name,
            f"{bond.name} hashes by MAC (xmit_hash_policy layer2): all traffic to one"
            " gateway or router leaves through one port, so the bond is no faster than it",
            "set transmit-hash-policy: layer3+4 (or layer2+3 where the switch needs"
            " in-order delivery per host pair)",
        )
    ]


def _mixed_speed(bond: BondState, facts: HostFacts) -> list[Finding]:
    speeds = {p.name: facts.speeds.get(p.name) for p in bond.ports}
    known = {name: s for name, s in speeds.items() if s}
    if len(set(known.values())) <= 1:
        return []
    listed = ", ".join(f"{name} {speed}Mb/s" for name, speed in sorted(known.items()))
    why = (
        "ports of different speeds get different LACP keys and land in different"
        " aggregators, so only some carry traffic"
        if bond.mode is BondMode.IEEE_802_3AD
        else "a failover to the slower port cuts the bandwidth"
    )
    return [
        Finding(
            Severity.WARNING,
            "mixed-speed",
            bond.name,
            f"the ports of {bond.name} run at different speeds ({listed}): {why}",
            "use ports of one speed, or check autonegotiation and the cables",
        )
    ]


def _port_addresses(bond: BondState, facts: HostFacts) -> list[Finding]:
    found: list[Finding] = []
    for port in bond.ports:
        link = facts.actual.link(port.name)
        addresses = (link.addresses if link is not None else port.addresses) or ()
        if not addresses:
            continue
        shared = [a for a in addresses if a in bond.addresses]
        what = (
            f"the same address as {bond.name} ({', '.join(shared)})"
            if shared
            else f"an address of its own ({', '.join(addresses)})"
        )
        found.append(
            Finding(
                Severity.PROBLEM,
                "port-address",
                port.name,
                f"port {port.name} of {bond.name} carries {what}: addresses belong on the"
                " bond; on a port they answer ARP with the wrong interface and confuse routing",
                f"ip address flush dev {port.name}, and stop whatever configures it (DHCP,"
                " NetworkManager, networkd)",
            )
        )
    return found
