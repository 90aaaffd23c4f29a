"""Field-by-field differences between a target and the kernel's state.

A `Difference` is a value (bond, field, desired, actual), so the planner,
`bondctl status` (drift) and the verify step after an apply all speak of the
same thing: "bond0 miimon: want 100, kernel has 50".
"""

from __future__ import annotations

from dataclasses import dataclass

from bondd.model import ActualState, BondState, OptionValue, PortState, VlanSpec
from bondd.plan.target import BondTarget, Targets


@dataclass(frozen=True)
class Difference:
    bond: str
    field: str  # "exists", an option's kernel name, "ports", "port p0 queue_id", "addresses", ...
    desired: object
    actual: object

    def describe(self) -> str:
        return (
            f"{self.bond} {self.field}: want {_show(self.desired)}, kernel has {_show(self.actual)}"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "bond": self.bond,
            "field": self.field,
            "desired": _jsonable(self.desired),
            "actual": _jsonable(self.actual),
        }


def _show(value: object) -> str:
    if isinstance(value, (tuple, list, frozenset, set)):
        items = sorted(str(v) for v in value)
        return "[" + ", ".join(items) + "]"
    if value is None or value == "":
        return "(none)"
    return str(value)


def _jsonable(value: object) -> object:
    if isinstance(value, (tuple, list, frozenset, set)):
        return sorted(str(v) for v in value)
    return value


def same_option(desired: OptionValue, actual: OptionValue | None) -> bool:
    if isinstance(desired, tuple) and isinstance(actual, tuple):
        return sorted(desired) == sorted(actual)
    return desired == actual


def option_differences(target: BondTarget, actual: BondState) -> list[Difference]:
    return [
        Difference(target.name, name, value, actual.options.get(name))
        for name, value in target.options.items()
        if not same_option(value, actual.options.get(name))
    ]


def diff_bond(target: BondTarget, actual: BondState | None, state: ActualState) -> list[Difference]:
    """Everything about one bond that differs from its target."""
    name = target.name
    if actual is None:
        return [Difference(name, "exists", True, False)]
    found = option_differences(target, actual)
    have = tuple(p.name for p in actual.ports)
    if set(have) != set(target.ports):
        found.append(Difference(name, "ports", target.ports, have))
    elif target.ordered and list(have) != list(target.ports):
        found.append(Difference(name, "port order", " ".join(target.ports), " ".join(have)))
    for port_name, options in target.port_options.items():
        port = actual.port(port_name)
        if port is None:
            continue
        if not port.up:
            found.append(Difference(name, f"port {port_name} up", True, False))
        for option, value in options.items():
            current = getattr(port, option)
            if current != value:
                found.append(Difference(name, f"port {port_name} {option}", value, current))
    if not actual.up:
        found.append(Difference(name, "up", True, False))
    if set(actual.addresses) != target.addresses:
        found.append(Difference(name, "addresses", target.addresses, actual.addresses))
    if set(actual.routes) != target.routes:
        found.append(Difference(name, "routes", target.routes, actual.routes))
    if target.mtu is not None and actual.mtu != target.mtu:
        found.append(Difference(name, "mtu", target.mtu, actual.mtu))
    if target.macaddress is not None and actual.macaddress != target.macaddress:
        found.append(Difference(name, "macaddress", target.macaddress, actual.macaddress))
    vlans = {v.name: v for v in actual.vlans}
    for vlan in target.vlans:
        found.extend(_vlan_differences(name, vlan, vlans.get(vlan.name), state))
    return found


def _vlan_differences(
    bond: str, vlan: VlanSpec, have: VlanSpec | None, state: ActualState
) -> list[Difference]:
    where = f"vlan {vlan.name}"
    if have is None:
        return [Difference(bond, f"{where} exists", True, False)]
    found = []
    if have.id != vlan.id:
        found.append(Difference(bond, f"{where} id", vlan.id, have.id))
    if set(have.addresses) != set(vlan.addresses):
        found.append(Difference(bond, f"{where} addresses", vlan.addresses, have.addresses))
    if set(have.routes) != set(vlan.routes):
        found.append(Difference(bond, f"{where} routes", vlan.routes, have.routes))
    if vlan.mtu is not None and have.mtu != vlan.mtu:
        found.append(Difference(bond, f"{where} mtu", vlan.mtu, have.mtu))
    if vlan.macaddress is not None and have.macaddress != vlan.macaddress:
        found.append(Difference(bond, f"{where} macaddress", vlan.macaddress, have.macaddress))
    link: PortState | None = state.link(vlan.name)
    if link is not None and not link.up:
        found.append(Difference(bond, f"{where} up", True, False))
    return found


def diff(targets: Targets, actual: ActualState) -> list[Difference]:
    """Every difference between the targets and the kernel, bond by bond."""
    found: list[Difference] = []
    for target in targets.bonds:
        found.extend(diff_bond(target, actual.bond(target.name), actual))
    return found
