"""Bring the desired state to the form the kernel reports, bond by bond.

The planner compares a `BondTarget` with a `BondState` field by field, so a
target holds exactly what the kernel will show once converged: ports as
device names (found by name, glob or permanent MAC), every option an owned
bond holds (unset ones at their defaults), `primary` as a device name,
up/down delays rounded down to miimon multiples, routes with kernel defaults
folded away. A converged host then yields an empty plan for any valid config.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bondd.errors import PlanError
from bondd.model import (
    ActualState,
    BondMode,
    BondOptions,
    BondSpec,
    BondState,
    DesiredState,
    OptionValue,
    PortSpec,
    RouteSpec,
    VlanSpec,
)
from bondd.options import BOND_OPTIONS, PORT_OPTIONS, RUNTIME_OPTIONS, default_for

DELAY_OPTIONS = ("updelay", "downdelay", "peer_notif_delay")
# Link kinds that are never a bond's port, whatever a glob says.
_NOT_PORTS = frozenset({"bond", "bridge", "vlan", "team", "macvlan", "ipvlan"})


@dataclass(frozen=True)
class BondTarget:
    """One bond as the kernel must show it when converged."""

    name: str
    ports: tuple[str, ...]
    options: BondOptions
    port_options: Mapping[str, BondOptions] = field(default_factory=dict)
    addresses: frozenset[str] = frozenset()
    routes: frozenset[RouteSpec] = frozenset()
    mtu: int | None = None
    macaddress: str | None = None
    vlans: tuple[VlanSpec, ...] = ()
    owned: bool = True
    ordered: bool = False  # the ports' enslave order is part of the target (snapshots)
    # Configured ports the host does not have (a dead NIC, one not enumerated
    # yet): the bond is kept with the others, and each is enslaved when it appears.
    absent: tuple[str, ...] = ()

    @property
    def mode(self) -> BondMode | None:
        value = self.options.get("mode")
        return BondMode(str(value)) if value is not None else None


@dataclass(frozen=True)
class Targets:
    bonds: tuple[BondTarget, ...]
    warnings: tuple[str, ...] = ()

    def bond(self, name: str) -> BondTarget | None:
        return next((b for b in self.bonds if b.name == name), None)


def build_targets(desired: DesiredState, actual: ActualState, owned: frozenset[str]) -> Targets:
    """Targets for every desired bond; PlanError lists every problem found."""
    problems: list[str] = []
    warnings: list[str] = []
    targets = []
    for spec in desired.bonds:
        existing = actual.bond(spec.name)
        full = existing is None or spec.name in owned
        targets.append(
            _target(spec, existing, actual, full=full, problems=problems, warnings=warnings)
        )
    _check_port_conflicts(targets, actual, problems)
    if problems:
        raise PlanError(problems)
    return Targets(bonds=tuple(targets), warnings=tuple(warnings))


def _target(
    spec: BondSpec,
    existing: BondState | None,
    actual: ActualState,
    *,
    full: bool,
    problems: list[str],
    warnings: list[str],
) -> BondTarget:
    absent: list[str] = []
    ports_by_id = {
        port.id: resolve_port(spec.name, port, actual, problems, absent) for port in spec.ports
    }
    ports = tuple(dict.fromkeys(name for names in ports_by_id.values() for name in names))
    mode = _mode(spec, existing)
    options = _options(spec, mode, full, actual.unsupported, problems)
    primary = options.get("primary")
    if isinstance(primary, str) and primary in ports_by_id:
        found = ports_by_id[primary]
        options["primary"] = found[0] if found else ""
    _normalise_delays(spec.name, options, existing, warnings)
    port_options = {
        name: BondOptions(
            _port_options(
                spec, port, mode, full=full, unsupported=actual.unsupported, problems=problems
            )
        )
        for port in spec.ports
        for name in ports_by_id[port.id]
    }
    return BondTarget(
        name=spec.name,
        ports=ports,
        options=BondOptions(options),
        port_options=MappingProxyType(port_options),
        addresses=frozenset(normalise_address(a) for a in spec.addresses),
        routes=frozenset(normalise_route(r) for r in spec.routes),
        mtu=spec.mtu,
        macaddress=spec.macaddress.lower() if spec.macaddress else None,
        vlans=tuple(
            VlanSpec(
                name=v.name,
                id=v.id,
                link=v.link,
                addresses=tuple(sorted(normalise_address(a) for a in v.addresses)),
                routes=tuple(sorted({normalise_route(r) for r in v.routes}, key=_route_key)),
                mtu=v.mtu,
                macaddress=v.macaddress.lower() if v.macaddress else None,
            )
            for v in sorted(spec.vlans, key=lambda v: v.name)
        ),
        owned=full,
        ordered=spec.ordered_ports,
        absent=tuple(absent),
    )


def _mode(spec: BondSpec, existing: BondState | None) -> BondMode:
    if "mode" in spec.options:
        return BondMode(str(spec.options["mode"]))
    return existing.mode if existing is not None else BondMode.BALANCE_RR


def _options(
    spec: BondSpec, mode: BondMode, full: bool, unsupported: frozenset[str], problems: list[str]
) -> dict[str, OptionValue]:
    held: dict[str, OptionValue] = {}
    for option in BOND_OPTIONS:
        name = option.kernel_name
        if name in RUNTIME_OPTIONS or mode not in option.modes:
            continue
        if name in unsupported:
            if name in spec.options:
                problems.append(
                    f"{spec.name}: the running kernel has no {name} option"
                    f" ({option.yaml_key}); remove it from the configuration"
                )
            continue
        if name in spec.options:
            held[name] = spec.options[name]
        elif full:
            held[name] = default_for(option, spec.options)
    if full:
        held["mode"] = mode.value
    return held


def _port_options(
    spec: BondSpec,
    port: PortSpec,
    mode: BondMode,
    *,
    full: bool,
    unsupported: frozenset[str],
    problems: list[str],
) -> dict[str, OptionValue]:
    held: dict[str, OptionValue] = {}
    for option in PORT_OPTIONS:
        name = option.kernel_name
        value = getattr(port, name, None)
        if mode not in option.modes or (name in unsupported and value is None):
            continue
        if name in unsupported:
            problems.append(f"{spec.name}: the running kernel has no per-port {name} option")
            continue
        if value is not None:
            held[name] = value
        elif full:
            held[name] = option.default
    return held


def _normalise_delays(
    bond: str, options: dict[str, OptionValue], existing: BondState | None, warnings: list[str]
) -> None:
    """The kernel keeps delays as whole miimon periods and shows 0 without MII monitoring."""
    miimon = options.get("miimon")
    if miimon is None and existing is not None:
        miimon = existing.options.get("miimon", 0)
    assert isinstance(miimon, int) or miimon is None
    for name in DELAY_OPTIONS:
        value = options.get(name)
        if not isinstance(value, int) or value == 0:
            continue
        if not miimon:
            warnings.append(
                f"{bond}: {name} {value} has no effect without MII monitoring;"
                " the kernel keeps it at 0"
            )
            options[name] = 0
        elif value % miimon:
            rounded = value - value % miimon
            warnings.append(
                f"{bond}: {name} {value} is not a multiple of miimon {miimon};"
                f" the kernel rounds it down to {rounded}"
            )
            options[name] = rounded


def resolve_port(
    bond: str,
    port: PortSpec,
    actual: ActualState,
    problems: list[str],
    absent: list[str] | None = None,
) -> tuple[str, ...]:
    """Device names a port entry selects: by exact name, name glob and/or permanent MAC.

    A port that selects nothing is absent, not an error: degraded is normal.
    """
    absent = [] if absent is None else absent
    match = port.match
    if match.driver:
        problems.append(
            f"{bond}: port {port.id} matches by driver, which bondd does not"
            " support yet; match by name or macaddress"
        )
        return ()
    if match.exact_name and match.macaddress is None:
        if actual.link(match.exact_name) is None:
            absent.append(port.id)
            return ()
        return (match.exact_name,)
    found = tuple(
        link.name
        for link in actual.links
        if link.kind not in _NOT_PORTS
        and link.name != "lo"
        and (match.name is None or fnmatch.fnmatchcase(link.name, match.name))
        and (match.macaddress is None or link.identity_mac == match.macaddress)
    )
    if not found:
        absent.append(port.id)
    return found


def _check_port_conflicts(
    targets: list[BondTarget], actual: ActualState, problems: list[str]
) -> None:
    wanted = {t.name for t in targets}
    seen: dict[str, str] = {}
    for target in targets:
        for port in target.ports:
            if port in seen and seen[port] != target.name:
                problems.append(
                    f"link {port} is selected as a port of both {seen[port]} and {target.name}"
                )
            seen[port] = target.name
            link = actual.link(port)
            if link is None or link.master in (None, target.name):
                continue
            if actual.bond(link.master) is None:
                problems.append(
                    f"{target.name}: port {port} is enslaved to {link.master},"
                    " which is not a bond; release it first"
                )
            elif link.master not in wanted:
                problems.append(
                    f"{target.name}: port {port} belongs to bond {link.master},"
                    f" which bondd does not manage; release it"
                    f" (ip link set {port} nomaster) or name {link.master}"
                    " in the configuration"
                )


def normalise_address(address: str) -> str:
    return str(ipaddress.ip_interface(address))


def normalise_route(route: RouteSpec) -> RouteSpec:
    """Fold kernel defaults away exactly as the reader does: main table, metric, scope."""
    network = ipaddress.ip_network(route.to, strict=False)
    default_metric = 1024 if network.version == 6 else 0
    default_scope = "global" if route.via else "link"
    return RouteSpec(
        to=str(network),
        via=str(ipaddress.ip_address(route.via)) if route.via else None,
        metric=None if route.metric in (None, default_metric) else route.metric,
        table=None if route.table in (None, 254) else route.table,
        on_link=route.on_link,
        source=str(ipaddress.ip_address(route.source)) if route.source else None,
        scope=None if route.scope in (None, default_scope) else route.scope,
        type=route.type,
        mtu=route.mtu,
    )


def _route_key(route: RouteSpec) -> tuple[str, str, int, int]:
    return (route.to, route.via or "", route.metric or 0, route.table or 0)
