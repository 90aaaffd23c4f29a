"""Turn differences into operations, in an order the kernel accepts.

The kernel's rules (bond_options.c), from the option table: mode and
fail_over_mac need a bond without ports, and a mode change resets other
options, so it means bond down, ports released, every option set again,
ports back, bond up; an option the kernel takes only in the mode being left
but keeps through the change (lacp_rate) is put back to its default first.
lacp_rate, ad_select and the other NEEDS_DOWN options
need the bond down briefly. Everything else changes live. A port's static
addresses move to the bond in the same plan, so traffic across them
survives; a port released from an owned bond gets them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bondd.model import (
    ActualState,
    BondMode,
    BondOptions,
    BondState,
    DesiredState,
    OptionValue,
)
from bondd.options import by_kernel_name
from bondd.plan import ops as o
from bondd.plan.addresses import (
    address_ops,
    kept_when_down,
    routes_kept,
    sorted_routes,
)
from bondd.plan.diff import Difference, diff, option_differences, same_option
from bondd.plan.ownership import Ownership, PortBefore
from bondd.plan.target import DELAY_OPTIONS, BondTarget, Targets, build_targets

# Options that refer to ports, so they are set once the ports are in.
_AFTER_PORTS = frozenset({"primary"})
# Options the kernel takes only in their own modes but keeps, and shows in
# sysfs and `ip -d link`, through a mode change (bond_options.c; lacp_rate
# measured on 6.1 by tests/kernel/test_transaction.py).
_KEPT_ACROSS_MODES = ("lacp_rate", "packets_per_slave", "tlb_dynamic_lb")
_MII_AT_CREATE = frozenset({BondMode.IEEE_802_3AD, BondMode.BALANCE_TLB, BondMode.BALANCE_ALB})
# A new bond goes up before its first port, except in these modes. Up first,
# the carrier that port brings is an urgent link event and the kernel marks
# the bond operationally up at once, where a bond set up after its ports
# stays "down" in `ip link` (operstate, what link-watching services wait for)
# until the kernel's next batched link-state run, up to a second later (6.1,
# active-backup: 0.2 s against 1.06 s). But 802.3ad ports enslaved to a
# running bond took 9.2 s to negotiate against 3.2 s (6.1, lacp_rate fast),
# and tlb/alb program each port's MAC at open: these keep the usual order.
_UP_AFTER_PORTS = frozenset({BondMode.IEEE_802_3AD, BondMode.BALANCE_TLB, BondMode.BALANCE_ALB})


@dataclass(frozen=True)
class Plan:
    ops: tuple[o.Op, ...]
    ownership: Ownership  # what ownership becomes once the plan has run
    targets: Targets
    differences: tuple[Difference, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.ops

    def disruption(self) -> dict[str, o.Disruption]:
        """The worst disruption each bond suffers."""
        worst: dict[str, o.Disruption] = {}
        for op in self.ops:
            worst[op.bond] = max(worst.get(op.bond, o.Disruption.NONE), op.disruption)
        return worst


def plan(desired: DesiredState, actual: ActualState, ownership: Ownership) -> Plan:
    targets = build_targets(desired, actual, ownership.owned)
    builder = _Builder(actual, ownership, targets)
    builder.remove_dropped_bonds()
    builder.release_leaving_ports()
    for target in targets.bonds:
        builder.converge(target)
    return Plan(
        ops=tuple(builder.ops),
        ownership=builder.next_ownership(),
        targets=targets,
        differences=tuple(diff(targets, actual)),
        warnings=targets.warnings,
    )


def creation_default(name: str, mode: BondMode) -> OptionValue:
    """What a bond created over netlink with only its mode shows (measured on 6.1)."""
    if name == "miimon":
        return 100 if mode in _MII_AT_CREATE else 0
    return by_kernel_name(name).default


class _Builder:
    def __init__(self, actual: ActualState, ownership: Ownership, targets: Targets) -> None:
        self.actual = actual
        self.ownership = ownership
        self.targets = targets
        self.ops: list[o.Op] = []
        self.ports_before = dict(ownership.ports_before)

    # -- bonds and ports leaving -------------------------------------------

    def remove_dropped_bonds(self) -> None:
        for name in sorted(self.ownership.owned):
            bond = self.actual.bond(name)
            if self.targets.bond(name) is not None or bond is None:
                continue
            for vlan in bond.vlans:
                self.ops.append(o.DeleteVlan(name, vlan.name))
            for port in bond.ports:
                self.ops.append(o.RemovePort(name, port.name))
            self.ops.append(o.DeleteBond(name))
            for port in bond.ports:
                self._restore_port(name, port.name)

    def release_leaving_ports(self) -> None:
        for target in self.targets.bonds:
            bond = self.actual.bond(target.name)
            if bond is None:
                continue
            for port in bond.ports:
                if port.name not in target.ports:
                    self.ops.append(o.RemovePort(target.name, port.name))
                    self._restore_port(target.name, port.name)

    def _restore_port(self, bond: str, port: str) -> None:
        before = self.ports_before.pop(port, None)
        if before is None:
            return
        for address in before.addresses:
            self.ops.append(o.AddAddress(bond, port, address))
        if not before.up:
            self.ops.append(o.SetLinkUp(bond, port, up=False))

    # -- one bond ----------------------------------------------------------

    def converge(self, target: BondTarget) -> None:
        bond = self.actual.bond(target.name)
        if bond is None:
            self._create(target)
        else:
            self._update(target, bond)
        self._addresses_and_routes(target, bond)
        self._vlans(target, bond)

    def _create(self, t: BondTarget) -> None:
        mode = t.mode or BondMode.BALANCE_RR
        create = {
            name: value
            for name, value in t.options.items()
            if name not in _AFTER_PORTS
            and not same_option(value, creation_default(name, mode))
            and not (name in DELAY_OPTIONS and not t.options.get("miimon"))
        }
        create["mode"] = mode.value
        self.ops.append(o.CreateBond(t.name, BondOptions(create)))
        self._link_settings(t, None)
        up_first = mode not in _UP_AFTER_PORTS
        if up_first:
            self.ops.append(o.SetLinkUp(t.name, t.name, up=True))
        for port in t.ports:
            self._enslave(t, port)
        self._after_ports(t, None)
        if not up_first:
            self.ops.append(o.SetLinkUp(t.name, t.name, up=True))

    def _update(self, t: BondTarget, bond: BondState) -> None:
        changed: dict[str, OptionValue] = {
            d.field: t.options[d.field] for d in option_differences(t, bond)
        }
        if "miimon" in changed:
            # The kernel keeps delays as miimon periods: re-send them at the new rate.
            for name in DELAY_OPTIONS:
                value = t.options.get(name)
                if value and name in t.options:
                    changed[name] = value
        restrictions = [by_kernel_name(name).restriction for name in changed]
        current_ports = [p.name for p in bond.ports if p.name in t.ports]
        self._link_settings(t, bond)
        if any(r.needs_no_ports for r in restrictions):
            # Mode (or fail_over_mac): release, set everything again, re-enslave.
            self.ops.append(o.SetLinkUp(t.name, t.name, up=False))
            for port in current_ports:
                self.ops.append(o.RemovePort(t.name, port))
            self._set_options(t, self._left_behind(t, bond))
            self._set_options(
                t,
                {
                    k: v
                    for k, v in t.options.items()
                    if k not in _AFTER_PORTS
                    and not (k in DELAY_OPTIONS and not t.options.get("miimon"))
                },
            )
            for port in t.ports:
                self._enslave(t, port, moved_back=port in current_ports)
            self._after_ports(t, None)
            self.ops.append(o.SetLinkUp(t.name, t.name, up=True))
            return
        before = {k: v for k, v in changed.items() if k not in _AFTER_PORTS}
        if any(r.needs_down for r in restrictions):
            self.ops.append(o.SetLinkUp(t.name, t.name, up=False))
            self._set_options(t, before)
            self.ops.append(o.SetLinkUp(t.name, t.name, up=True))
        else:
            self._set_options(t, before)
        for port in self._out_of_order(t, current_ports):
            self.ops.append(o.RemovePort(t.name, port))
            current_ports.remove(port)
        for port in t.ports:
            if port not in current_ports:
                self._enslave(t, port, moved_back=bond.port(port) is not None)
        self._after_ports(t, bond)
        if not bond.up:
            self.ops.append(o.SetLinkUp(t.name, t.name, up=True))

    @staticmethod
    def _left_behind(t: BondTarget, bond: BondState) -> dict[str, OptionValue]:
        """Options of the mode being left that the new mode cannot set, back to their
        defaults while the kernel still takes them: otherwise the old mode's value
        stays (a rolled-back 802.3ad change would leave lacp_rate at fast)."""
        mode = t.mode or BondMode.BALANCE_RR
        reset: dict[str, OptionValue] = {}
        for name in _KEPT_ACROSS_MODES:
            option = by_kernel_name(name)
            value = bond.options.get(name)
            if (
                bond.mode in option.modes
                and mode not in option.modes
                and name not in t.options
                and value is not None
                and not same_option(option.default, value)
            ):
                reset[name] = option.default
        return reset

    @staticmethod
    def _out_of_order(t: BondTarget, current: list[str]) -> list[str]:
        """Ports to release so that all rejoin in the target's order (snapshots only:
        a rollback restores the enslave order, which decides the bond's first port).

        Ports are appended when enslaved, so only the longest prefix of the current
        order that matches the target can stay.
        """
        if not t.ordered:
            return []
        keep = 0
        while keep < min(len(current), len(t.ports)) and current[keep] == t.ports[keep]:
            keep += 1
        return current[keep:]

    def _set_options(self, t: BondTarget, options: dict[str, OptionValue]) -> None:
        if options:
            self.ops.append(o.SetOptions(t.name, BondOptions(options)))

    def _link_settings(self, t: BondTarget, bond: BondState | None) -> None:
        if t.mtu is not None and (bond is None or bond.mtu != t.mtu):
            self.ops.append(o.SetMtu(t.name, t.name, t.mtu))
        if t.macaddress is not None and (bond is None or bond.macaddress != t.macaddress):
            self.ops.append(o.SetMac(t.name, t.name, t.macaddress))

    def _enslave(self, t: BondTarget, port: str, moved_back: bool = False) -> None:
        link = self.actual.link(port)
        if (
            not moved_back
            and link is not None
            and link.master != t.name
            and port not in self.ports_before
        ):
            self.ports_before[port] = PortBefore(port, up=link.up, addresses=link.addresses)
        self.ops.append(o.AddPort(t.name, port))

    def _after_ports(self, t: BondTarget, bond: BondState | None) -> None:
        later = {
            k: v
            for k, v in t.options.items()
            if k in _AFTER_PORTS
            and (bond is None or not same_option(v, bond.options.get(k)))
            and not (bond is None and v == "")
        }
        self._set_options(t, later)
        for port, options in t.port_options.items():
            have = bond.port(port) if bond is not None else None
            for name, value in options.items():
                current = getattr(have, name) if have is not None else by_kernel_name(name).default
                if current != value:
                    assert isinstance(value, int)
                    self.ops.append(o.SetPortOption(t.name, port, name, value))
            if have is not None and not have.up:
                self.ops.append(o.SetLinkUp(t.name, port, up=True))

    # -- layer 3 and vlans -------------------------------------------------

    def _addresses_and_routes(self, t: BondTarget, bond: BondState | None) -> None:
        have = set(bond.addresses) if bond is not None else set()
        if self._takes_down(t.name):
            have = kept_when_down(have)
        self.ops += address_ops(t.name, t.name, set(t.addresses), have)
        # Addresses left on a newly enslaved port would be dead: drop them
        # once the bond carries its own (restored when the port is released).
        for port in t.ports:
            link = self.actual.link(port)
            if link is not None and link.master != t.name:
                for address in link.addresses:
                    self.ops.append(o.DelAddress(t.name, port, address))
        before = set(bond.routes) if bond is not None else set()
        routes = routes_kept(before, set(t.addresses), have)
        if self._takes_down(t.name):
            # The kernel flushes a link's routes when it goes down: add them again after.
            routes = set()
        for route in sorted_routes(routes - t.routes):
            self.ops.append(o.DelRoute(t.name, t.name, route))
        for route in sorted_routes(t.routes - routes):
            self.ops.append(o.AddRoute(t.name, t.name, route, again=route in before))

    def _takes_down(self, bond: str) -> bool:
        return any(
            isinstance(op, o.SetLinkUp) and op.ifname == bond and not op.up for op in self.ops
        )

    def _vlans(self, t: BondTarget, bond: BondState | None) -> None:
        have = {v.name: v for v in bond.vlans} if bond is not None else {}
        wanted = {v.name for v in t.vlans}
        for name in sorted(have):
            if name not in wanted and name in self.ownership.owned:
                self.ops.append(o.DeleteVlan(t.name, name))
        # Whether the bond goes down is decided before its VLANs (ports and
        # options come first): asked once, not once per VLAN over every op.
        takes_down = self._takes_down(t.name)
        for vlan in t.vlans:
            current = have.get(vlan.name)
            if current is not None and current.id != vlan.id:
                self.ops.append(o.DeleteVlan(t.name, vlan.name))
                current = None
            if current is None:
                self.ops.append(o.CreateVlan(t.name, vlan.name, vlan.id))
            if vlan.mtu is not None and (current is None or current.mtu != vlan.mtu):
                self.ops.append(o.SetMtu(t.name, vlan.name, vlan.mtu))
            if vlan.macaddress is not None and (
                current is None or current.macaddress != vlan.macaddress
            ):
                self.ops.append(o.SetMac(t.name, vlan.name, vlan.macaddress))
            link = self.actual.link(vlan.name)
            if current is None or link is None or not link.up:
                self.ops.append(o.SetLinkUp(t.name, vlan.name, up=True))
            addresses = set(current.addresses) if current is not None else set()
            before = set(current.routes) if current is not None else set()
            routes = before
            if takes_down:
                # The VLANs follow their bond down and up again (non-loose binding):
                # their routes and IPv6 addresses are flushed on the way.
                addresses, routes = kept_when_down(addresses), set()
            self.ops += address_ops(t.name, vlan.name, set(vlan.addresses), addresses)
            routes = routes_kept(routes, set(vlan.addresses), addresses)
            for route in sorted_routes(routes - set(vlan.routes)):
                self.ops.append(o.DelRoute(t.name, vlan.name, route))
            for route in sorted_routes(set(vlan.routes) - routes):
                self.ops.append(o.AddRoute(t.name, vlan.name, route, again=route in before))

    # -- ownership after the plan ------------------------------------------

    def next_ownership(self) -> Ownership:
        owned: set[str] = set()
        adopted: set[str] = set()
        for target in self.targets.bonds:
            bond = self.actual.bond(target.name)
            if bond is None or target.name in self.ownership.owned:
                owned.add(target.name)
            else:
                adopted.add(target.name)
            existing = {v.name for v in bond.vlans} if bond is not None else set()
            for vlan in target.vlans:
                if vlan.name not in existing or vlan.name in self.ownership.owned:
                    owned.add(vlan.name)
        ports = {t_port for t in self.targets.bonds for t_port in t.ports}
        before = {name: p for name, p in self.ports_before.items() if name in ports}
        return Ownership(owned=frozenset(owned), adopted=frozenset(adopted), ports_before=before)
