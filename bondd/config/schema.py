"""Turn the merged YAML tree into a `DesiredState`, collecting every error.

This is the structural pass: keys, types, ranges, references between
devices (a bond's ports must be defined ethernets). It never stops at the
first problem; each finding is a `Diagnostic` at the offending key or value.
Checks that need the whole bond (mode support, monitor conflicts, rounding)
live in `validate.py`, which finds positions through the `SourceIndex` built
here. Pure: no kernel, no files.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from bondd import durations
from bondd import options as opt
from bondd.config import keys
from bondd.config.nodes import YEntry, YMap, YNode, YScalar, YSeq
from bondd.model import (
    BondOptions,
    BondSpec,
    DesiredState,
    Diagnostic,
    OptionValue,
    PortMatch,
    PortSpec,
    ProbeSpec,
    ProbeType,
    RouteSpec,
    Settings,
    Severity,
    SourcePos,
    VlanSpec,
)

IFNAMSIZ = 16
# The kernel refuses '/', ':' and whitespace (dev_valid_name) and expands '%'
# as a template (`bond%d` becomes bond0, bond1...): a name must be exactly
# the interface bondd will look for, so '%' is refused too.
_BAD_IFNAME = re.compile(r"[/:%\s]")


@dataclass
class SourceIndex:
    """Positions of things in the files, by path, e.g. ("bond", "bond0", "option", "miimon")."""

    positions: dict[tuple[str, ...], SourcePos] = field(default_factory=dict)

    def at(self, *path: str) -> SourcePos | None:
        return self.positions.get(path)

    def put(self, pos: SourcePos, *path: str) -> None:
        self.positions.setdefault(path, pos)


@dataclass(frozen=True)
class _Common:
    """What bonds and vlans share."""

    addresses: tuple[str, ...]
    routes: tuple[RouteSpec, ...]
    mtu: int | None
    macaddress: str | None


@dataclass
class _Ethernet:
    id: str
    pos: SourcePos
    match: PortMatch
    node: YMap


class Reporter:
    """Collects diagnostics; notes for keys left to others are given once per key."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self._noted: set[str] = set()

    def error(self, pos: SourcePos | None, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(Severity.ERROR, message, pos, hint))

    def warning(self, pos: SourcePos | None, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(Severity.WARNING, message, pos, hint))

    def note(self, pos: SourcePos | None, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(Severity.NOTE, message, pos, hint))

    def note_once(self, key: str, pos: SourcePos, who: str) -> None:
        if key not in self._noted:
            self._noted.add(key)
            self.note(pos, f"`{key}` is not applied by bondd: {who}")

    def unknown(self, key: str, pos: SourcePos, where: str, valid: Iterable[str]) -> None:
        close = difflib.get_close_matches(key, sorted(valid), n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else None
        self.error(pos, f"unknown key `{key}` in {where}", hint)


def describe(node: YNode) -> str:
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    value = node.value
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    text = repr(value)  # escapes control and bidi characters
    return text if len(text) <= 60 else text[:57] + "..."


def ifname_problem(name: str) -> str | None:
    """Why `name` cannot be a Linux interface name, or None."""
    if not name:
        return "is empty"
    if len(name.encode()) >= IFNAMSIZ:
        return f"is longer than {IFNAMSIZ - 1} bytes"
    if name in (".", ".."):
        return "is '.' or '..'"
    if _BAD_IFNAME.search(name):
        return "contains '/', ':', '%' or whitespace"
    if not name.isprintable():
        # NUL, control characters and bidi overrides would reach netlink, sysfs
        # paths and log lines, or make one name look like another.
        return "contains a control, formatting or invisible character"
    return None


def _unicast(text: str) -> bool:
    address = ipaddress.ip_address(text)
    return not (
        address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or (address.version == 4 and text == "255.255.255.255")
    )


class SchemaBuilder:
    """One pass over the merged tree; `build()` returns the state and the index."""

    def __init__(self, report: Reporter) -> None:
        self.r = report
        self.index = SourceIndex()
        self.ethernets: dict[str, _Ethernet] = {}
        self.port_of: dict[str, str] = {}  # ethernet id -> bond using it

    # --- small typed readers -------------------------------------------------

    def mapping(self, node: YNode, what: str) -> YMap | None:
        if isinstance(node, YMap):
            return node
        if isinstance(node, YScalar) and node.value is None:
            return YMap({}, node.pos)
        self.r.error(node.pos, f"{what} must be a mapping, got {describe(node)}")
        return None

    def sequence(self, node: YNode, what: str) -> YSeq | None:
        if isinstance(node, YSeq):
            return node
        if isinstance(node, YScalar) and node.value is None:
            return YSeq([], node.pos)
        self.r.error(
            node.pos, f"{what} must be a list, got {describe(node)}", "write it as [a, b] or - a"
        )
        return None

    def string(self, node: YNode, what: str) -> str | None:
        if isinstance(node, YScalar) and isinstance(node.value, str) and node.value:
            return node.value
        if (
            isinstance(node, YScalar)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
        ):
            return str(node.value)
        self.r.error(node.pos, f"{what} must be a string, got {describe(node)}")
        return None

    def boolean(self, node: YNode, what: str) -> bool | None:
        if isinstance(node, YScalar) and isinstance(node.value, bool):
            return node.value
        self.r.error(node.pos, f"{what} must be true or false, got {describe(node)}")
        return None

    def integer(self, node: YNode, what: str, low: int, high: int) -> int | None:
        if (
            isinstance(node, YScalar)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
        ):
            if low <= node.value <= high:
                return node.value
            self.r.error(node.pos, f"{what} must be between {low} and {high}, got {node.value}")
            return None
        self.r.error(node.pos, f"{what} must be a whole number, got {describe(node)}")
        return None

    def check_keys(self, node: YMap, valid: Iterable[str], where: str) -> None:
        valid_set = frozenset(valid)
        for key, entry in node.entries.items():
            if key not in valid_set:
                self.r.unknown(key, entry.key_pos, where, valid_set)

    # --- the document ---------------------------------------------------------

    def build(self, tree: YNode | None, sources: tuple[str, ...]) -> DesiredState:
        if tree is None:
            return DesiredState(sources=sources)
        top = self.mapping(tree, "the document")
        if top is None:
            return DesiredState(sources=sources)
        self.check_keys(top, keys.TOP_KEYS, "the document")
        bonds: tuple[BondSpec, ...] = ()
        if "network" in top.entries:
            network = self.mapping(top.entries["network"].value, "network")
            if network is not None:
                bonds = self.network(network)
        settings = Settings()
        if "bondd" in top.entries:
            section = self.mapping(top.entries["bondd"].value, "bondd")
            if section is not None:
                settings = self.settings(section)
        return DesiredState(bonds=bonds, settings=settings, sources=sources)

    def network(self, network: YMap) -> tuple[BondSpec, ...]:
        for key, entry in network.entries.items():
            if key in keys.UNMANAGED_KINDS:
                self.r.error(
                    entry.key_pos,
                    f"bondd manages bonds, their ports and VLANs; it does not manage `{key}`",
                    f"move the `{key}` section to a netplan file in /etc/netplan",
                )
            elif key not in keys.NETWORK_KEYS:
                self.r.unknown(key, entry.key_pos, "network", keys.NETWORK_KEYS)
        if "version" in network.entries:
            node = network.entries["version"].value
            value = node.value if isinstance(node, YScalar) else None
            if not (isinstance(value, int) and not isinstance(value, bool) and value == 2):
                self.r.error(node.pos, f"version must be 2, got {describe(node)}")
        if "renderer" in network.entries:
            entry = network.entries["renderer"]
            self.r.note_once("renderer", entry.key_pos, keys.OTHERS_COMMON["renderer"])
        if keys.OVS_KEY in network.entries:
            self.r.note_once(
                keys.OVS_KEY,
                network.entries[keys.OVS_KEY].key_pos,
                "Open vSwitch is left to netplan and ovs-vsctl",
            )
        if "ethernets" in network.entries:
            section = self.mapping(network.entries["ethernets"].value, "ethernets")
            for eth_id, entry in section.entries.items() if section else ():
                self.ethernet(eth_id, entry)
        bond_nodes: dict[str, YEntry] = {}
        if "bonds" in network.entries:
            section = self.mapping(network.entries["bonds"].value, "bonds")
            bond_nodes = dict(section.entries) if section else {}
        vlans_by_bond: dict[str, list[VlanSpec]] = {}
        if "vlans" in network.entries:
            section = self.mapping(network.entries["vlans"].value, "vlans")
            for name, entry in section.entries.items() if section else ():
                vlan = self.vlan(name, entry, bond_nodes)
                if vlan is not None:
                    vlans_by_bond.setdefault(vlan.link, []).append(vlan)
        bonds = []
        for name in sorted(bond_nodes):
            bond = self.bond(name, bond_nodes[name], bond_nodes)
            if bond is not None:
                vlans = sorted(vlans_by_bond.get(name, []), key=lambda v: (v.id, v.name))
                bonds.append(_with_vlans(bond, tuple(vlans)))
        self.finish_ethernets()
        return tuple(bonds)

    # --- ethernets ------------------------------------------------------------

    def ethernet(self, eth_id: str, entry: YEntry) -> None:
        self.index.put(entry.key_pos, "ethernet", eth_id)
        node = self.mapping(entry.value, f"ethernet {eth_id}")
        if node is None:
            return
        self.check_keys(node, keys.ETHERNET_KEYS | {keys.OVS_KEY}, f"ethernet {eth_id}")
        match = PortMatch(name=eth_id)
        if "match" in node.entries:
            parsed = self.port_match(eth_id, node.entries["match"].value)
            if parsed is not None:
                match = parsed
        elif problem := ifname_problem(eth_id):
            self.r.error(
                entry.key_pos,
                f"ethernet id `{eth_id}` {problem}, so it cannot be a device name",
                "add `match:` with the device's name or macaddress",
            )
        self.ethernets[eth_id] = _Ethernet(eth_id, entry.key_pos, match, node)

    def port_match(self, eth_id: str, value: YNode) -> PortMatch | None:
        node = self.mapping(value, f"match of {eth_id}")
        if node is None:
            return None
        self.check_keys(node, keys.MATCH_KEYS, f"match of {eth_id}")
        name = mac = None
        drivers: tuple[str, ...] = ()
        if "name" in node.entries:
            name = self.string(node.entries["name"].value, "match name")
        if "macaddress" in node.entries:
            mac_node = node.entries["macaddress"].value
            try:
                mac = opt.parse_mac(
                    mac_node.value if isinstance(mac_node, YScalar) else None, "match macaddress"
                )
            except opt.OptionValueError as exc:
                self.r.error(mac_node.pos, exc.message, exc.hint)
        if "driver" in node.entries:
            driver_node = node.entries["driver"].value
            if isinstance(driver_node, YSeq):
                drivers = tuple(
                    d for d in (self.string(i, "match driver") for i in driver_node.items) if d
                )
            else:
                single = self.string(driver_node, "match driver")
                drivers = (single,) if single else ()
        if name is None and mac is None and not drivers:
            self.r.error(
                node.pos,
                f"match of {eth_id} selects every device",
                "give name, macaddress or driver",
            )
            return None
        return PortMatch(name=name, macaddress=mac, driver=drivers)

    def finish_ethernets(self) -> None:
        """Check the keys of each ethernet now that we know which are ports."""
        for eth in self.ethernets.values():
            bond = self.port_of.get(eth.id)
            if bond is None:
                self.r.note(
                    eth.pos, f"ethernet `{eth.id}` is not a port of any bond; bondd leaves it alone"
                )
                continue
            for key, entry in eth.node.entries.items():
                if key in ("addresses", "routes", "gateway4", "gateway6"):
                    self.r.error(
                        entry.key_pos,
                        f"`{eth.id}` is a port of {bond} and cannot carry `{key}`",
                        f"move `{key}` to the bond {bond}",
                    )
                elif key == "mtu":
                    self.r.warning(
                        entry.key_pos,
                        f"the MTU of port `{eth.id}` follows its bond {bond}",
                        f"set mtu on {bond} instead",
                    )
                elif key == "macaddress":
                    self.r.warning(
                        entry.key_pos,
                        f"the bond {bond} sets the MAC address of port `{eth.id}`",
                        f"set macaddress on {bond}, or fail-over-mac-policy",
                    )
                elif key == keys.OVS_KEY:
                    self.r.error(
                        entry.key_pos,
                        "Open vSwitch ports are not managed by bondd",
                        "remove `openvswitch` or manage this port with netplan",
                    )
                elif key in keys.OTHERS_COMMON:
                    self.r.note_once(key, entry.key_pos, keys.OTHERS_COMMON[key])
                elif key in keys.OTHERS_PHYSICAL:
                    self.r.note_once(key, entry.key_pos, keys.OTHERS_PHYSICAL[key])

    # --- bonds ----------------------------------------------------------------

    def bond(self, name: str, entry: YEntry, all_bonds: dict[str, YEntry]) -> BondSpec | None:
        self.index.put(entry.key_pos, "bond", name)
        if problem := ifname_problem(name):
            self.r.error(entry.key_pos, f"bond name `{name}` {problem}")
        if name in self.ethernets:
            self.r.error(
                entry.key_pos,
                f"`{name}` is defined both as an ethernet and as a bond",
                "give the bond its own name",
            )
        node = self.mapping(entry.value, f"bond {name}")
        if node is None:
            return None
        self.check_keys(node, keys.BOND_KEYS | {keys.OVS_KEY}, f"bond {name}")
        if keys.OVS_KEY in node.entries:
            self.r.error(
                node.entries[keys.OVS_KEY].key_pos,
                "Open vSwitch bonds are not managed by bondd",
                "remove `openvswitch` for a kernel bond, or leave this bond to netplan",
            )
        port_ids = self.interfaces(name, node, all_bonds)
        options: dict[str, OptionValue] = {}
        per_port: dict[str, dict[str, int]] = {}
        if "parameters" in node.entries:
            params = self.mapping(node.entries["parameters"].value, f"parameters of {name}")
            if params is not None:
                options, per_port = self.parameters(name, params, port_ids)
        ports = []
        for port_id in port_ids:
            eth = self.ethernets[port_id]
            extra = per_port.get(port_id, {})
            ports.append(PortSpec(port_id, eth.match, extra.get("queue_id"), extra.get("prio")))
        common = self.common(f"bond {name}", ("bond", name), node)
        return BondSpec(
            name=name,
            ports=tuple(ports),
            options=BondOptions(options),
            addresses=common.addresses,
            routes=common.routes,
            mtu=common.mtu,
            macaddress=common.macaddress,
        )

    def interfaces(self, name: str, node: YMap, all_bonds: dict[str, YEntry]) -> list[str]:
        if "interfaces" not in node.entries:
            return []
        seq = self.sequence(node.entries["interfaces"].value, f"interfaces of {name}")
        if seq is None:
            return []
        ids: list[str] = []
        for item in seq.items:
            port_id = self.string(item, f"an entry of interfaces of {name}")
            if port_id is None:
                continue
            self.index.put(item.pos, "bond", name, "port", port_id)
            if port_id == name:
                self.r.error(
                    item.pos,
                    f"bond {name} lists itself as its own port",
                    "remove it from interfaces",
                )
            elif port_id in all_bonds:
                self.r.error(
                    item.pos,
                    f"bond {name} lists the bond {port_id} as a port",
                    "bonds cannot be nested; list ethernets only",
                )
            elif port_id not in self.ethernets:
                self.r.error(
                    item.pos,
                    f"port `{port_id}` of {name} is not defined under ethernets",
                    f"add `{port_id}: {{}}` under network.ethernets",
                )
            elif port_id in ids:
                self.r.warning(
                    item.pos, f"port `{port_id}` is listed twice in {name}", "list it once"
                )
            elif port_id in self.port_of:
                first = self.index.at("bond", self.port_of[port_id], "port", port_id)
                where = f" (line {first.line} of {first.file})" if first else ""
                self.r.error(
                    item.pos,
                    f"port `{port_id}` is already a port of {self.port_of[port_id]}{where}",
                    "a port belongs to one bond; remove it from one of them",
                )
            else:
                self.port_of[port_id] = name
                ids.append(port_id)
        return ids

    def parameters(
        self, name: str, params: YMap, port_ids: list[str]
    ) -> tuple[dict[str, OptionValue], dict[str, dict[str, int]]]:
        options: dict[str, OptionValue] = {}
        per_port: dict[str, dict[str, int]] = {}
        spelled: dict[str, str] = {}
        valid = opt.yaml_keys() | {k for o in opt.PORT_OPTIONS for k in o.yaml_keys}
        for key, entry in params.entries.items():
            option = opt.by_yaml_key(key) or opt.by_yaml_key(key, opt.Scope.PORT)
            if option is None:
                self.r.unknown(key, entry.key_pos, f"parameters of {name}", valid)
                continue
            if option.kernel_name in spelled:
                self.r.error(
                    entry.key_pos,
                    f"`{key}` and `{spelled[option.kernel_name]}` set the same option",
                    "keep one of them",
                )
                continue
            spelled[option.kernel_name] = key
            self.index.put(entry.key_pos, "bond", name, "key", option.kernel_name)
            self.index.put(entry.value.pos, "bond", name, "option", option.kernel_name)
            if option.scope is opt.Scope.PORT:
                self.port_option(name, option, entry.value, port_ids, per_port)
                continue
            try:
                options[option.kernel_name] = opt.parse_yaml_value(option, _raw(entry.value))
            except opt.OptionValueError as exc:
                self.r.error(entry.value.pos, exc.message, exc.hint)
        return options, per_port

    def port_option(
        self,
        name: str,
        option: opt.BondOption,
        value: YNode,
        port_ids: list[str],
        per_port: dict[str, dict[str, int]],
    ) -> None:
        key = option.yaml_key
        node = self.mapping(value, f"{key} of {name}")
        if node is None:
            return
        for port_id, entry in node.entries.items():
            if port_id not in port_ids:
                self.r.error(
                    entry.key_pos,
                    f"{key} names `{port_id}`, which is not a port of {name}",
                    f"use one of: {', '.join(port_ids)}" if port_ids else None,
                )
                continue
            try:
                parsed = opt.parse_yaml_value(option, _raw(entry.value))
            except opt.OptionValueError as exc:
                self.r.error(entry.value.pos, exc.message, exc.hint)
                continue
            assert isinstance(parsed, int)
            per_port.setdefault(port_id, {})[option.kernel_name] = parsed
            self.index.put(
                entry.value.pos, "bond", name, "port-option", port_id, option.kernel_name
            )

    # --- what bonds and vlans share ---------------------------------------------

    def common(self, what: str, path: tuple[str, ...], node: YMap) -> _Common:
        for key, entry in node.entries.items():
            if key in keys.OTHERS_COMMON:
                self.r.note_once(key, entry.key_pos, keys.OTHERS_COMMON[key])
        addresses = self.addresses(what, node.entries.get("addresses"))
        routes = self.routes(what, path, node.entries.get("routes"))
        for key, version in (("gateway4", 4), ("gateway6", 6)):
            if key not in node.entries:
                continue
            entry = node.entries[key]
            gateway = self.address(entry.value, key, version)
            if gateway is None:
                continue
            default = "0.0.0.0/0" if version == 4 else "::/0"
            if any(r.to == default and r.table is None for r in routes):
                self.r.error(
                    entry.key_pos,
                    f"{what} has both {key} and a default route in routes",
                    f"keep one; {key} is netplan's older spelling of `to: default`",
                )
                continue
            self.index.put(entry.key_pos, *path, "route", default)
            routes.append(RouteSpec(to=default, via=gateway))
        mtu = None
        if "mtu" in node.entries:
            mtu = self.integer(node.entries["mtu"].value, f"mtu of {what}", 68, 65535)
        mac = None
        if "macaddress" in node.entries:
            mac = self.macaddress(what, node.entries["macaddress"].value)
        return _Common(addresses, tuple(routes), mtu, mac)

    def macaddress(self, what: str, node: YNode) -> str | None:
        raw = node.value if isinstance(node, YScalar) else None
        if raw in ("permanent", "random", "stable", "preserve"):
            self.r.note(
                node.pos,
                f"macaddress `{raw}` is not applied by bondd to {what}",
                "the kernel's choice stays; give an explicit MAC to set one",
            )
            return None
        try:
            mac = opt.parse_mac(raw, f"macaddress of {what}")
        except opt.OptionValueError as exc:
            self.r.error(node.pos, exc.message, exc.hint)
            return None
        if int(mac[:2], 16) & 1 or mac == "00:00:00:00:00:00":
            self.r.error(
                node.pos,
                f"macaddress of {what} must be a unicast, non-zero MAC",
                "clear the lowest bit of the first byte",
            )
            return None
        return mac

    def address(
        self, node: YNode, what: str, version: int | None = None, *, zone_ok: bool = False
    ) -> str | None:
        text = node.value if isinstance(node, YScalar) else None
        try:
            address = ipaddress.ip_address(text) if isinstance(text, str) else None
        except ValueError:
            address = None
        zone = getattr(address, "scope_id", None)
        if zone is not None and (not zone_ok or ifname_problem(zone)):
            self.r.error(
                node.pos,
                f"{what} {describe(node)} has a zone id that is not an interface name"
                if zone_ok
                else f"{what} must be an address without a %zone, got {describe(node)}",
                "write fe80::1%bond0 with an interface name" if zone_ok else "remove the %zone",
            )
            return None
        if address is None or (version is not None and address.version != version):
            family = f"an IPv{version}" if version else "an IP"
            self.r.error(node.pos, f"{what} must be {family} address, got {describe(node)}")
            return None
        return str(address)

    def addresses(self, what: str, entry: YEntry | None) -> tuple[str, ...]:
        if entry is None:
            return ()
        seq = self.sequence(entry.value, f"addresses of {what}")
        if seq is None:
            return ()
        out: list[str] = []
        for item in seq.items:
            node = item
            if isinstance(item, YMap) and len(item.entries) == 1:
                # netplan's long form: - "10.0.0.15/24": {lifetime: 0, label: maas}
                text, sub = next(iter(item.entries.items()))
                node = YScalar(text, sub.key_pos)
                options = self.mapping(sub.value, f"options of address {text}")
                if options is not None:
                    self.check_keys(options, keys.ADDRESS_OPTION_KEYS, f"address {text}")
                    for key, option_entry in options.entries.items():
                        if key in keys.ADDRESS_OPTION_KEYS:
                            self.r.note_once(
                                f"address {key}",
                                option_entry.key_pos,
                                "address lifetimes and labels are left to your renderer",
                            )
            cidr = self.cidr(node, what)
            if cidr is None:
                continue
            if cidr in out:
                self.r.warning(node.pos, f"address {cidr} is listed twice on {what}")
                continue
            out.append(cidr)
        return tuple(out)

    def cidr(self, node: YNode, what: str) -> str | None:
        text = node.value if isinstance(node, YScalar) else None
        if isinstance(text, str) and "%" in text:
            self.r.error(node.pos, f"address {describe(node)} of {what} may not have a %zone")
            return None
        if not isinstance(text, str) or "/" not in text:
            hint = (
                f"write it with a prefix length, e.g. {text}/24"
                if isinstance(text, str)
                else "write address/prefix, e.g. 192.168.1.10/24"
            )
            self.r.error(node.pos, f"address {describe(node)} of {what} is not in CIDR form", hint)
            return None
        try:
            return str(ipaddress.ip_interface(text))
        except ValueError:
            self.r.error(
                node.pos,
                f"address {text!r} of {what} is not a valid address/prefix",
                "write address/prefix, e.g. 192.168.1.10/24 or 2001:db8::5/64",
            )
            return None

    def routes(self, what: str, path: tuple[str, ...], entry: YEntry | None) -> list[RouteSpec]:
        if entry is None:
            return []
        seq = self.sequence(entry.value, f"routes of {what}")
        if seq is None:
            return []
        out: list[RouteSpec] = []
        for item in seq.items:
            node = self.mapping(item, f"a route of {what}")
            if node is None:
                continue
            route = self.route(what, node)
            if route is None:
                continue
            if route in out:
                self.r.warning(node.pos, f"route to {route.to} is listed twice on {what}")
                continue
            self.index.put(node.pos, *path, "route", route.to)
            out.append(route)
        return out

    def route(self, what: str, node: YMap) -> RouteSpec | None:
        self.check_keys(node, keys.ROUTE_KEYS_APPLIED | keys.ROUTE_KEYS_OTHERS, f"route of {what}")
        for key in keys.ROUTE_KEYS_OTHERS & node.entries.keys():
            self.r.note_once(
                f"route {key}",
                node.entries[key].key_pos,
                "bondd installs the route without it; TCP route metrics are left to your renderer",
            )
        e = node.entries
        via = self.address(e["via"].value, "via") if "via" in e else None
        if "to" not in e:
            self.r.error(node.pos, f"a route of {what} has no `to`", "add to: default or to: CIDR")
            return None
        to = self.route_to(e["to"].value, via)
        if to is None:
            return None
        if (
            via is not None
            and ipaddress.ip_address(via).version != ipaddress.ip_network(to).version
        ):
            self.r.error(e["via"].value.pos, f"via {via} is not in the address family of {to}")
            return None
        metric = self.integer(e["metric"].value, "metric", 0, 2**32 - 1) if "metric" in e else None
        table = self.integer(e["table"].value, "table", 1, 2**32 - 1) if "table" in e else None
        on_link = bool(self.boolean(e["on-link"].value, "on-link")) if "on-link" in e else False
        source = self.address(e["from"].value, "from") if "from" in e else None
        mtu = self.integer(e["mtu"].value, "route mtu", 68, 65535) if "mtu" in e else None
        scope = self.choice(e["scope"].value, "scope", keys.ROUTE_SCOPES) if "scope" in e else None
        rtype = self.choice(e["type"].value, "type", keys.ROUTE_TYPES) if "type" in e else None
        return RouteSpec(
            to=to,
            via=via,
            metric=metric,
            table=table,
            on_link=on_link,
            source=source,
            scope=scope,
            type=rtype or "unicast",
            mtu=mtu,
        )

    def route_to(self, node: YNode, via: str | None) -> str | None:
        text = node.value if isinstance(node, YScalar) else None
        if text == "default":
            return "::/0" if via and ":" in via else "0.0.0.0/0"
        if not isinstance(text, str):
            self.r.error(
                node.pos, f"route `to` must be an address or `default`, got {describe(node)}"
            )
            return None
        try:
            return str(ipaddress.ip_network(text, strict=True))
        except ValueError:
            pass
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            self.r.error(
                node.pos,
                f"route destination {text!r} is not an address or prefix",
                "write e.g. 10.0.0.0/8 or default",
            )
            return None
        self.r.error(
            node.pos, f"route destination {text} has host bits set", f"did you mean {loose}?"
        )
        return None

    def choice(self, node: YNode, what: str, allowed: frozenset[str]) -> str | None:
        value = node.value if isinstance(node, YScalar) else None
        if isinstance(value, str) and value in allowed:
            return value
        self.r.error(
            node.pos, f"{what} must be one of {', '.join(sorted(allowed))}, got {describe(node)}"
        )
        return None

    # --- vlans ------------------------------------------------------------------

    def vlan(self, name: str, entry: YEntry, bonds: dict[str, YEntry]) -> VlanSpec | None:
        self.index.put(entry.key_pos, "vlan", name)
        node = self.mapping(entry.value, f"vlan {name}")
        if node is None:
            return None
        self.check_keys(node, keys.VLAN_KEYS | {keys.OVS_KEY}, f"vlan {name}")
        if problem := ifname_problem(name):
            self.r.error(entry.key_pos, f"vlan name `{name}` {problem}")
        if name in bonds or name in self.ethernets:
            self.r.error(
                entry.key_pos,
                f"`{name}` is defined twice, as a vlan and as another device",
                "give the VLAN its own name",
            )
        vid = link = None
        if "id" in node.entries:
            vid = self.integer(node.entries["id"].value, f"id of vlan {name}", 0, 4094)
        else:
            self.r.error(entry.key_pos, f"vlan {name} has no `id`", "add id: 1-4094")
        if "link" in node.entries:
            link = self.string(node.entries["link"].value, f"link of vlan {name}")
        else:
            self.r.error(entry.key_pos, f"vlan {name} has no `link`", "add link: <bond name>")
        if link is not None and link not in bonds:
            self.r.note(
                entry.key_pos,
                f"vlan {name} is on `{link}`, which is not a bond here; bondd leaves it alone",
                "bondd manages VLANs on its bonds only",
            )
            return None
        common = self.common(f"vlan {name}", ("vlan", name), node)
        if keys.OVS_KEY in node.entries:
            self.r.error(
                node.entries[keys.OVS_KEY].key_pos, "Open vSwitch VLANs are not managed by bondd"
            )
        if vid is None or link is None:
            return None
        self.index.put(node.entries["id"].value.pos, "vlan", name, "id")
        return VlanSpec(
            name=name,
            id=vid,
            link=link,
            addresses=common.addresses,
            routes=common.routes,
            mtu=common.mtu,
            macaddress=common.macaddress,
        )

    # --- bondd: ---------------------------------------------------------------------

    def settings(self, section: YMap) -> Settings:
        self.check_keys(section, keys.BONDD_KEYS, "bondd")
        e = section.entries
        apply_on_change = True
        lacp_gate = True
        if "apply-on-change" in e:
            found = self.boolean(e["apply-on-change"].value, "apply-on-change")
            apply_on_change = found is not False
        if "lacp-gate" in e:
            lacp_gate = self.boolean(e["lacp-gate"].value, "lacp-gate") is not False
        probes: list[ProbeSpec] = []
        if "probes" in e:
            seq = self.sequence(e["probes"].value, "probes")
            for item in seq.items if seq else ():
                probe = self.probe(item)
                if probe is not None:
                    self.index.put(item.pos, "probe", str(len(probes)))
                    probes.append(probe)
        textfile = self.metrics(e["metrics"].value) if "metrics" in e else None
        return Settings(
            apply_on_change=apply_on_change,
            lacp_gate=lacp_gate,
            probes=tuple(probes),
            metrics_textfile=textfile,
        )

    def metrics(self, item: YNode) -> str | None:
        node = self.mapping(item, "metrics")
        if node is None:
            return None
        self.check_keys(node, keys.METRICS_KEYS, "metrics")
        if "textfile" not in node.entries:
            return None
        value = node.entries["textfile"].value
        path = self.string(value, "metrics textfile")
        if path is None:
            return None
        if not path.startswith("/") or not path.endswith(".prom") or path.endswith("/.prom"):
            self.r.error(
                value.pos,
                f"metrics textfile must be an absolute path ending in .prom, got {path!r}",
                "node_exporter's textfile collector reads DIR/*.prom; write e.g."
                " /var/lib/node_exporter/textfile/bondd.prom",
            )
            return None
        return path

    def probe(self, item: YNode) -> ProbeSpec | None:
        node = self.mapping(item, "a probe")
        if node is None:
            return None
        self.check_keys(node, keys.PROBE_KEYS, "a probe")
        e = node.entries
        kind = None
        if "type" not in e:
            self.r.error(node.pos, "a probe has no `type`", "add type: ping, arp or tcp")
        else:
            types = frozenset(t.value for t in ProbeType)
            value = self.choice(e["type"].value, "probe type", types)
            kind = ProbeType(value) if value else None
        target = None
        if "target" not in e:
            self.r.error(node.pos, "a probe has no `target`", "add target: <IP address>")
        else:
            target = self.address(e["target"].value, "probe target", zone_ok=True)
            if target is not None and not _unicast(target):
                self.r.error(
                    e["target"].value.pos,
                    f"probe target {target} is not a unicast address",
                    "probe a host: a gateway or a server's address",
                )
                target = None
        if kind is ProbeType.ARP and target and ":" in target:
            self.r.error(
                e["target"].value.pos,
                "an arp probe needs an IPv4 target",
                "use type: ping for IPv6 targets",
            )
        via = self.string(e["via"].value, "probe via") if "via" in e else None
        if via is not None and (problem := ifname_problem(via)):
            self.r.error(e["via"].value.pos, f"probe via {describe(e['via'].value)} {problem}")
            via = None
        if kind is ProbeType.ARP and "via" not in e:
            self.r.error(
                node.pos,
                "an arp probe needs `via` (the interface to ask on)",
                "add via: <bond or vlan>",
            )
        port = None
        if "port" in e:
            port = self.integer(e["port"].value, "probe port", 1, 65535)
            if kind is not None and kind is not ProbeType.TCP:
                self.r.error(
                    e["port"].key_pos,
                    f"a {kind} probe takes no port",
                    "remove port, or use type: tcp",
                )
        elif kind is ProbeType.TCP:
            self.r.error(node.pos, "a tcp probe needs `port`", "add port: 1-65535")
        timeout = None
        if "timeout" in e:
            timeout = self.timeout(e["timeout"].value)
        if kind is None or target is None:
            return None
        return ProbeSpec(type=kind, target=target, via=via, port=port, timeout=timeout)

    def timeout(self, node: YNode) -> float | None:
        raw = node.value if isinstance(node, YScalar) else None
        seconds: float | None = None
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            seconds = float(raw)
        elif isinstance(raw, str):
            try:
                # a bare number is seconds, like the integer form; units as for bond delays
                ms = (
                    opt.parse_duration(raw, opt.Unit.S) * 1000
                    if raw.strip().isdigit()
                    else (opt.parse_duration(raw, opt.Unit.MS))
                )
                seconds = ms / 1000
            except opt.OptionValueError:
                seconds = None
        if seconds is not None:
            try:
                return durations.seconds(seconds, durations.PROBE_TIMEOUT)
            except durations.SpanError:
                pass
        self.r.error(
            node.pos,
            f"probe timeout must be {durations.PROBE_TIMEOUT.describe()}, got {describe(node)}",
            'write e.g. 10 or "10s"',
        )
        return None


def _raw(node: YNode) -> object:
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [_raw(i) for i in node.items]
    return {k: _raw(e.value) for k, e in node.entries.items()}


def _with_vlans(bond: BondSpec, vlans: tuple[VlanSpec, ...]) -> BondSpec:
    return replace(bond, vlans=vlans)
