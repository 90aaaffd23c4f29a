"""Semantic checks over a whole `DesiredState`, and normalisation to what the kernel keeps.

The schema pass checked each value alone; here the rules that need the
bond's mode, its other options, its ports or the other bonds: options the
kernel refuses in the mode, MII and ARP monitoring both on, delays the
kernel rounds, `primary` outside the ports, ports in two bonds, bad ARP/NS
targets and LACP system ids, duplicate VLAN ids, the layer2-hash trap. All
rules come from the option table in `bondd.options`. Pure.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

from bondd import options as opt
from bondd.config.schema_base import Reporter, SourceIndex
from bondd.model import BondMode, BondOptions, BondSpec, DesiredState, OptionValue, SourcePos


def validate(state: DesiredState, index: SourceIndex, report: Reporter) -> DesiredState:
    """Report every semantic problem; return the state normalised (rounded delays)."""
    bonds = tuple(_bond(bond, index, report) for bond in state.bonds)
    _across_bonds(bonds, index, report)
    _probes(state, bonds, index, report)
    return replace(state, bonds=bonds)


def _key(option: opt.BondOption) -> str:
    return option.yaml_key or option.kernel_name


def _modes(modes: frozenset[BondMode]) -> str:
    return ", ".join(m.value for m in BondMode if m in modes)


def _bond(bond: BondSpec, index: SourceIndex, report: Reporter) -> BondSpec:
    """Check one bond; return it with the options the kernel would refuse dropped and
    the delays rounded the way the kernel rounds them."""
    check = _BondCheck(bond, index, report)
    options = dict(bond.options)
    check.modes(options)
    check.ports()
    check.monitors(options)
    check.delays(options)
    options = rounded_delays(options)
    check.primary(options)
    check.lacp_and_links(options)
    _vlans(bond, index, report)
    return replace(bond, options=BondOptions(options))


def rounded_delays(options: dict[str, OptionValue]) -> dict[str, OptionValue]:
    """The options with up/down delays rounded down to a multiple of miimon, as the kernel does.

    Only the kernel's own arithmetic: the warning that goes with it is
    `_BondCheck.delays`.
    """
    miimon = options.get("miimon", opt.default_for(opt.by_kernel_name("miimon"), options))
    assert isinstance(miimon, int)
    rounded = dict(options)
    if miimon == 0:
        return rounded
    for option in opt.BOND_OPTIONS:
        value = options.get(option.kernel_name)
        if option.rounded_to == "miimon" and isinstance(value, int) and value % miimon:
            rounded[option.kernel_name] = value - value % miimon
    return rounded


@dataclass(frozen=True)
class _BondCheck:
    """The rules over one bond, each reporting at the key it is about.

    The methods that take `options` may delete from it an option the kernel
    would refuse (the warning says so); nothing else changes it.
    """

    bond: BondSpec
    index: SourceIndex
    report: Reporter

    def at(self, kernel_name: str) -> SourcePos | None:
        name = self.bond.name
        return self.index.at("bond", name, "option", kernel_name) or self.index.at("bond", name)

    def modes(self, options: dict[str, OptionValue]) -> None:
        name, mode = self.bond.name, self.bond.mode
        for kernel_name in list(options):
            option = opt.by_kernel_name(kernel_name)
            if mode not in option.modes:
                # netplan writes it anyway; the kernel would refuse the whole change (EACCES).
                self.report.passed(
                    self.at(kernel_name),
                    f"{_key(option)} of {name} is not applied:"
                    f" the kernel refuses it in mode {mode}",
                    f"it works only in {_modes(option.modes)}; remove it or change mode",
                )
                del options[kernel_name]
            elif mode not in option.effective_modes:
                self.report.warning(
                    self.at(kernel_name),
                    f"{_key(option)} has no effect in mode {mode} of {name}",
                    f"it is used only in {_modes(option.effective_modes)}",
                )

    def ports(self) -> None:
        name, mode, index = self.bond.name, self.bond.mode, self.index
        for port in self.bond.ports:
            if port.prio is not None and mode not in opt.by_kernel_name("prio").modes:
                self.report.error(
                    index.at("bond", name, "port-option", port.id, "prio") or self.at("prio"),
                    f"port-priority is not supported in mode {mode} of {name}",
                    "it works in active-backup, balance-tlb and balance-alb",
                )
            if port.queue_id is not None and port.queue_id > 15:
                self.report.warning(
                    index.at("bond", name, "port-option", port.id, "queue_id"),
                    f"queue id {port.queue_id} of {port.id} needs the bonding module's tx_queues"
                    " above the default 16",
                    "use 0-15, or load bonding with a larger tx_queues",
                )

    def monitors(self, options: dict[str, OptionValue]) -> None:
        """MII or ARP monitoring, never both; ARP monitoring needs targets and vice versa."""
        name, mode = self.bond.name, self.bond.mode
        arp_interval = options.get("arp_interval", 0)
        if options.get("miimon") and arp_interval:
            # One netlink request with both: the kernel sets arp_interval last and stops MII.
            self.report.passed(
                self.at("miimon"),
                f"mii-monitor-interval of {name} is not applied: arp-interval is set too and the"
                " kernel runs one monitor, so bondd runs ARP monitoring",
                "remove mii-monitor-interval, or arp-interval for carrier-based monitoring",
            )
            del options["miimon"]
        targets = options.get("arp_ip_target", ())
        ns_targets = options.get("ns_ip6_target", ())
        if arp_interval and not targets and not ns_targets:
            self.report.warning(
                self.at("arp_interval"),
                f"ARP monitoring on {name} has no targets, so it detects nothing",
                "add arp-ip-targets",
            )
        if (
            (targets or ns_targets)
            and not arp_interval
            and mode in opt.by_kernel_name("arp_interval").modes
        ):
            self.report.warning(
                self.at("arp_ip_target" if targets else "ns_ip6_target"),
                f"ARP targets of {name} are unused without arp-interval",
                "set arp-interval",
            )
        for kernel_name in ("arp_ip_target", "ns_ip6_target"):
            _targets(
                name,
                opt.by_kernel_name(kernel_name),
                options.get(kernel_name, ()),
                self.at(kernel_name),
                self.report,
            )

    def delays(self, options: dict[str, OptionValue]) -> None:
        """Say where a delay is inert (no MII monitoring) or is rounded (rounded_delays)."""
        name = self.bond.name
        miimon = options.get("miimon", opt.default_for(opt.by_kernel_name("miimon"), options))
        assert isinstance(miimon, int)
        for option in opt.BOND_OPTIONS:
            value = options.get(option.kernel_name)
            if option.rounded_to != "miimon" or not isinstance(value, int) or value == 0:
                continue
            if miimon == 0:
                self.report.warning(
                    self.at(option.kernel_name),
                    f"{_key(option)} of {name} has no effect without MII monitoring",
                    "set mii-monitor-interval",
                )
            elif value % miimon:
                rounded = value - value % miimon
                self.report.warning(
                    self.at(option.kernel_name),
                    f"{_key(option)} {value} ms of {name} is not a multiple of"
                    f" mii-monitor-interval ({miimon} ms); the kernel rounds it down to"
                    f" {rounded} ms",
                    f"write {rounded} or {rounded + miimon}",
                )

    def primary(self, options: dict[str, OptionValue]) -> None:
        primary = options.get("primary")
        if isinstance(primary, str) and self.bond.port(primary) is None:
            ports = ", ".join(p.id for p in self.bond.ports)
            self.report.passed(
                self.at("primary"),
                f"primary of {self.bond.name} is not applied: `{primary}` is not one of its ports",
                f"use one of: {ports}" if ports else "add it to interfaces",
            )
            del options["primary"]

    def lacp_and_links(self, options: dict[str, OptionValue]) -> None:
        name, bond = self.bond.name, self.bond
        system = options.get("ad_actor_system")
        if isinstance(system, str) and (system == "00:00:00:00:00:00" or int(system[:2], 16) & 1):
            self.report.error(
                self.at("ad_actor_system"),
                f"ad-actor-system {system} of {name} must be a unicast, non-zero MAC",
                "clear the lowest bit of the first byte, or remove it to use the bond's MAC",
            )
        hashing = options.get("xmit_hash_policy", "layer2")
        if bond.mode is BondMode.IEEE_802_3AD and hashing == "layer2":
            self.report.note(
                self.at("xmit_hash_policy" if "xmit_hash_policy" in options else "mode"),
                f"{name} is 802.3ad with transmit-hash-policy layer2: all traffic to one gateway"
                " goes through one port",
                "set transmit-hash-policy: layer3+4 to spread flows over the ports",
            )
        min_links = options.get("min_links", 0)
        if isinstance(min_links, int) and min_links > len(bond.ports) and bond.ports:
            self.report.warning(
                self.at("min_links"),
                f"min-links {min_links} of {name} exceeds its {len(bond.ports)}"
                " ports, so the bond never gets carrier",
                f"use at most {len(bond.ports)}",
            )
        if options.get("use_carrier") == 0:
            self.report.warning(
                self.at("use_carrier"),
                "use-carrier false is refused by recent kernels",
                "remove use-carrier",
            )


def _targets(
    name: str,
    option: opt.BondOption,
    value: OptionValue,
    pos: SourcePos | None,
    report: Reporter,
) -> None:
    if not isinstance(value, tuple):
        return
    if option.max_items is not None and len(value) > option.max_items:
        report.error(
            pos,
            f"{name} has {len(value)} {_key(option)}; the kernel takes at most {option.max_items}",
            f"keep {option.max_items} or fewer",
        )
    seen: set[str] = set()
    for target in value:
        if target in seen:
            report.error(pos, f"{_key(option)} of {name} lists {target} twice", "list it once")
        seen.add(target)
        address = ipaddress.ip_address(target)
        broadcast = address == ipaddress.IPv4Address("255.255.255.255")
        if address.is_unspecified or address.is_multicast or broadcast:
            report.error(
                pos,
                f"{target} cannot be an ARP/NS target of {name}",
                "use the unicast address of a neighbour, e.g. the gateway",
            )


def _vlans(bond: BondSpec, index: SourceIndex, report: Reporter) -> None:
    seen: dict[int, str] = {}
    for vlan in bond.vlans:
        if vlan.id in seen:
            report.error(
                index.at("vlan", vlan.name, "id") or index.at("vlan", vlan.name),
                f"vlans {seen[vlan.id]} and {vlan.name} both use id {vlan.id} on {bond.name}",
                "give each VLAN on a link its own id",
            )
        else:
            seen[vlan.id] = vlan.name


def _across_bonds(bonds: tuple[BondSpec, ...], index: SourceIndex, report: Reporter) -> None:
    """Two port ids that select the same device, in one bond or two."""
    by_name: dict[str, tuple[str, str]] = {}
    by_mac: dict[str, tuple[str, str]] = {}
    for bond in bonds:
        for port in bond.ports:
            pos = index.at("bond", bond.name, "port", port.id)
            for table, key in ((by_name, port.match.exact_name), (by_mac, port.match.macaddress)):
                if key is None:
                    continue
                if key in table and table[key][1] != port.id:
                    other_bond, other_id = table[key]
                    report.error(
                        pos,
                        f"ports `{other_id}` ({other_bond}) and `{port.id}` ({bond.name})"
                        f" both select the device {key}",
                        "a device can be one port only",
                    )
                table.setdefault(key, (bond.name, port.id))
    addresses: dict[str, str] = {}
    for bond in bonds:
        for owner, owned in [(bond.name, bond.addresses)] + [
            (v.name, v.addresses) for v in bond.vlans
        ]:
            for cidr in owned:
                ip = cidr.split("/")[0]
                if ip in addresses and addresses[ip] != owner:
                    report.error(
                        index.at("bond", owner) or index.at("vlan", owner),
                        f"address {ip} is on both {addresses[ip]} and {owner}",
                        "an address belongs on one interface",
                    )
                addresses.setdefault(ip, owner)


def _probes(
    state: DesiredState, bonds: tuple[BondSpec, ...], index: SourceIndex, report: Reporter
) -> None:
    names = {b.name for b in bonds} | {v.name for b in bonds for v in b.vlans}
    for number, probe in enumerate(state.settings.probes):
        if probe.via is not None and probe.via not in names:
            report.warning(
                index.at("probe", str(number)),
                f"probe via `{probe.via}` names no bond or VLAN in this configuration",
                f"use one of: {', '.join(sorted(names))}" if names else None,
            )
