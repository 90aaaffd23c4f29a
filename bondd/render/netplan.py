"""The live bonds written back as bondd YAML (netplan syntax): `bondctl show`.

This is the import path for a host set up by hand, by networkd or by
NetworkManager: the document it writes passes `bondctl validate`, and
`bondctl apply` on it converges with an empty plan. So it writes exactly
what the planner would otherwise change: the mode, every option the kernel
holds away from the default the planner would hold it at (`default_for`, in
the option table), per-port options, static addresses and routes, the MTU
and the VLANs, with ports by device name. What the kernel holds that no
YAML key can say (a bond or VLAN that is down) is reported as a comment,
because an apply would change it. Pure: reads an `ActualState`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from bondd.model import ActualState, BondState, RouteSpec, VlanSpec
from bondd.options import BOND_OPTIONS, PORT_OPTIONS, default_for, to_yaml

DEFAULT_MTU = 1500
# Run-time state, not configuration: the kernel moves it on every failover.
_RUNTIME = frozenset({"active_slave"})


def document(actual: ActualState, only: Iterable[str] | None = None) -> dict[str, Any]:
    """The netplan-style document for the kernel's bonds (all, or those named)."""
    wanted = None if only is None else frozenset(only)
    bonds = [b for b in actual.bonds if wanted is None or b.name in wanted]
    ethernets: dict[str, Any] = {p.name: {} for b in bonds for p in b.ports}
    network: dict[str, Any] = {"version": 2}
    if ethernets:
        network["ethernets"] = ethernets
    if bonds:
        network["bonds"] = {b.name: bond_entry(b, actual.unsupported) for b in bonds}
    vlans = {v.name: vlan_entry(v, b) for b in bonds for v in b.vlans}
    if vlans:
        network["vlans"] = vlans
    return {"network": network}


def notes(actual: ActualState, only: Iterable[str] | None = None) -> list[str]:
    """What an apply of the document would still change, one line each."""
    wanted = None if only is None else frozenset(only)
    found = []
    for bond in actual.bonds:
        if wanted is not None and bond.name not in wanted:
            continue
        if not bond.up:
            found.append(f"{bond.name} is down; an apply brings it up")
        for port in bond.ports:
            if not port.up:
                found.append(f"port {port.name} of {bond.name} is down; an apply brings it up")
        for vlan in bond.vlans:
            link = actual.link(vlan.name)
            if link is not None and not link.up:
                found.append(f"vlan {vlan.name} is down; an apply brings it up")
    return found


def render(actual: ActualState, only: Iterable[str] | None = None, header: str = "") -> str:
    """The document as YAML text, preceded by `header` and the notes as comments."""
    selected = None if only is None else list(only)
    comments = [*header.splitlines(), *(f"note: {n}" for n in notes(actual, selected))]
    text = yaml.dump(
        document(actual, selected),
        Dumper=_Dumper,
        default_flow_style=False,
        sort_keys=False,
        width=100,
    )
    return "".join(f"# {line}\n" if line else "#\n" for line in comments) + text


class _Dumper(yaml.SafeDumper):
    """Short lists of plain values on one line (`interfaces: [p0, p1]`), as people write them."""


def _represent_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    flow = all(not isinstance(i, dict | list) for i in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def bond_entry(bond: BondState, unsupported: frozenset[str] = frozenset()) -> dict[str, Any]:
    entry: dict[str, Any] = {"interfaces": [p.name for p in bond.ports]}
    parameters: dict[str, Any] = {"mode": bond.mode.value}
    for option in BOND_OPTIONS:
        name = option.kernel_name
        if (
            name in ("mode", *_RUNTIME)
            or name in unsupported
            or name not in bond.options
            or bond.mode not in option.modes
            or option.yaml_key is None
        ):
            continue
        value = bond.options[name]
        if value == default_for(option, bond.options) or (name == "primary" and value == ""):
            continue
        parameters[option.yaml_key] = to_yaml(option, value)
    for option in PORT_OPTIONS:
        if option.kernel_name in unsupported or bond.mode not in option.modes:
            continue
        values = {
            p.name: getattr(p, option.kernel_name)
            for p in bond.ports
            if getattr(p, option.kernel_name) != option.default
        }
        if values and option.yaml_key is not None:
            parameters[option.yaml_key] = values
    entry["parameters"] = parameters
    entry.update(_layer3(bond.addresses, bond.routes))
    if bond.mtu is not None and bond.mtu != DEFAULT_MTU:
        entry["mtu"] = bond.mtu
    return entry


def vlan_entry(vlan: VlanSpec, bond: BondState) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": vlan.id, "link": bond.name}
    entry.update(_layer3(vlan.addresses, vlan.routes))
    if vlan.mtu is not None and vlan.mtu != (bond.mtu or DEFAULT_MTU):
        entry["mtu"] = vlan.mtu
    return entry


def _layer3(addresses: tuple[str, ...], routes: tuple[RouteSpec, ...]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if addresses:
        found["addresses"] = list(addresses)
    if routes:
        found["routes"] = [route_entry(r) for r in routes]
    return found


def route_entry(route: RouteSpec) -> dict[str, Any]:
    # netplan reads `to: default` as IPv6 only when `via` is IPv6.
    default = route.to == "0.0.0.0/0" or (route.to == "::/0" and route.via is not None)
    entry: dict[str, Any] = {"to": "default" if default else route.to}
    if route.via is not None:
        entry["via"] = route.via
    if route.metric is not None:
        entry["metric"] = route.metric
    if route.table is not None:
        entry["table"] = route.table
    if route.on_link:
        entry["on-link"] = True
    if route.source is not None:
        entry["from"] = route.source
    if route.scope is not None:
        entry["scope"] = route.scope
    if route.type != "unicast":
        entry["type"] = route.type
    if route.mtu is not None:
        entry["mtu"] = route.mtu
    return entry
