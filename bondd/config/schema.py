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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from bondd import durations, scalars
from bondd import options as opt
from bondd.config import backends, grammar, keys
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
        self.passed_through: list[int] = []  # indexes of `passed` warnings
        self._noted: set[str] = set()

    def error(self, pos: SourcePos | None, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(Severity.ERROR, message, pos, hint))

    def warning(self, pos: SourcePos | None, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(Severity.WARNING, message, pos, hint))

    def passed(self, pos: SourcePos | None, message: str, hint: str | None = None) -> None:
        """A value netplan accepts that bondd does not apply as written: a warning, or
        an error under --strict / `bondd: {strict: true}` (see `strictly`)."""
        self.passed_through.append(len(self.diagnostics))
        self.warning(pos, message, hint)

    def strictly(self) -> None:
        for index in self.passed_through:
            found = self.diagnostics[index]
            self.diagnostics[index] = replace(found, severity=Severity.ERROR)
        self.passed_through.clear()

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
    if node.value == "":
        return "nothing"
    text = repr(node.value)  # escapes control and bidi characters
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
        self.port_of: dict[str, str] = {}  # ethernet or vlan id -> bond using it
        self.kind_of: dict[str, str] = {}  # definition id -> its section
        self.defined: set[str] = set()  # every definition id, of any kind
        self.vlan_names: set[str] = set()
        self.first_file: dict[str, int] = {}  # definition id -> index of its first file
        self.files: dict[str, int] = {}  # file name -> its place in the merge order
        self.renderers: dict[str, str] = {}  # "network" or a section -> its renderer
        self.grammar = grammar.GrammarChecker(self.r.error)

    # --- small typed readers -------------------------------------------------

    def mapping(self, node: YNode, what: str) -> YMap | None:
        if isinstance(node, YMap):
            return node
        self.r.error(
            node.pos,
            f"{what} must be a mapping, got {describe(node)} (expected mapping)",
            "write {} for an empty one, or check the indentation",
        )
        return None

    def sequence(self, node: YNode, what: str) -> YSeq | None:
        if isinstance(node, YSeq):
            return node
        self.r.error(
            node.pos, f"{what} must be a list, got {describe(node)}", "write it as [a, b] or - a"
        )
        return None

    def string(self, node: YNode, what: str) -> str | None:
        if isinstance(node, YScalar):
            return node.value
        self.r.error(node.pos, f"{what} must be a single value, got {describe(node)}")
        return None

    def boolean(self, node: YNode, what: str) -> bool | None:
        value = scalars.boolean(node.value) if isinstance(node, YScalar) else None
        if value is None:
            self.r.error(
                node.pos,
                f"{what} must be true or false, got {describe(node)}",
                "write true or false (yes/no, on/off, y/n also work)",
            )
        return value

    def integer(self, node: YNode, what: str, low: int, high: int) -> int | None:
        """A netplan unsigned number; one netplan takes but outside low..high is not applied."""
        value = scalars.uint(node.value) if isinstance(node, YScalar) else None
        if value is None:
            self.r.error(
                node.pos,
                f"{what} must be a whole number, got {describe(node)}",
                "write base-10 digits, e.g. 1500",
            )
            return None
        if not low <= value <= high:
            self.r.passed(
                node.pos,
                f"{what} {value} is not applied: the kernel takes {low} to {high}",
                f"write a value from {low} to {high}",
            )
            return None
        return value

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
        self.files = {name: number for number, name in enumerate(sources)}
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
            # netplan reads the number like C's strtol: leading digits count, the rest not.
            digits = re.match(r"\s*[+-]?\d+", node.value) if isinstance(node, YScalar) else None
            if digits is None or int(digits.group()) != 2:
                self.r.error(
                    node.pos, f"version must be 2, got {describe(node)}", "only version 2 exists"
                )
        if "renderer" in network.entries:
            self.renderer(network.entries["renderer"], keys.OTHERS_COMMON["renderer"])
            self.renderers["network"] = str(_raw(network.entries["renderer"].value))
        if keys.OVS_KEY in network.entries:
            entry = network.entries[keys.OVS_KEY]
            self.mapping(entry.value, keys.OVS_KEY)
            self.r.note_once(keys.OVS_KEY, entry.key_pos, "Open vSwitch is left to netplan")
        sections: dict[str, dict[str, YEntry]] = {}
        for kind in ("ethernets", "bonds", "vlans", *sorted(keys.UNMANAGED_KINDS)):
            if kind in network.entries:
                sections[kind] = self.definitions(kind, network.entries[kind].value)
        self.defined = {name for entries in sections.values() for name in entries}
        self.vlan_names = set(sections.get("vlans", {}))
        for eth_id, entry in sections.get("ethernets", {}).items():
            self.ethernet(eth_id, entry)
        bond_nodes = sections.get("bonds", {})
        vlans_by_bond: dict[str, list[VlanSpec]] = {}
        for name, entry in sections.get("vlans", {}).items():
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

    def definitions(self, kind: str, node: YNode) -> dict[str, YEntry]:
        """A device section's definitions by id; netplan's `renderer:` key among them is not one."""
        section = self.mapping(node, kind)
        if section is None:
            return {}
        found: dict[str, YEntry] = {}
        for name, entry in section.entries.items():
            if name == "renderer":
                self.renderer(entry, keys.OTHERS_COMMON["renderer"])
                self.renderers[kind] = str(_raw(entry.value))
                continue
            if problem := scalars.id_problem(name):
                self.r.error(entry.key_pos, f"{kind}: {problem}", "use letters, digits and .-_")
                continue
            if scalars.has_glob(name):
                self.r.error(
                    entry.key_pos,
                    f"definition id '{name}' must not use globbing",
                    "match devices by pattern with `match: {name: ...}`",
                )
                continue
            if name in self.kind_of and self.kind_of[name] != kind:
                self.r.error(
                    entry.key_pos,
                    f"`{name}` is defined as {self.kind_of[name]} and again as {kind}"
                    " (a definition cannot change device type)",
                    "give each device its own name",
                )
                continue
            self.kind_of[name] = kind
            self.first_file[name] = self.files.get(entry.key_pos.file, 0)
            found[name] = entry
        return found

    def known(self, name: str, pos: SourcePos) -> bool:
        """netplan resolves a reference within its file and the files before it."""
        if name not in self.defined:
            return False
        return self.first_file.get(name, 0) <= self.files.get(pos.file, 0)

    def backend(self, name: str, kind: str, node: YMap) -> None:
        renderer = backends.renderer_of(
            node, self.renderers.get(kind), self.renderers.get("network")
        )
        backends.check(name, node, renderer, self.r.error)

    def renderer(self, entry: YEntry, who: str, extra: frozenset[str] = frozenset()) -> None:
        text = self.string(entry.value, "renderer")
        if text is not None and text not in grammar.RENDERERS | extra:
            self.r.error(
                entry.value.pos,
                f"unknown renderer '{text}'",
                "use networkd or NetworkManager",
            )
        self.r.note_once("renderer", entry.key_pos, who)

    # --- ethernets ------------------------------------------------------------

    def ethernet(self, eth_id: str, entry: YEntry) -> None:
        self.index.put(entry.key_pos, "ethernet", eth_id)
        node = self.mapping(entry.value, f"ethernet {eth_id}")
        if node is None:
            return
        self.check_keys(node, keys.ETHERNET_KEYS | {keys.OVS_KEY}, f"ethernet {eth_id}")
        self.others(node, grammar.PHYSICAL)
        match = PortMatch(name=eth_id)
        if "match" in node.entries:
            parsed = self.port_match(eth_id, node.entries["match"].value)
            if parsed is not None:
                match = parsed
        elif "set-name" in node.entries:
            self.r.error(
                node.entries["set-name"].key_pos,
                f"{eth_id}: 'set-name:' requires 'match:' properties",
                "add match: with the device's macaddress or name",
            )
        elif problem := ifname_problem(eth_id):
            self.r.passed(
                entry.key_pos,
                f"ethernet id `{eth_id}` {problem}, so no device has this name;"
                " bondd cannot use it as a port",
                "add `match:` with the device's name or macaddress",
            )
        self.backend(eth_id, "ethernets", node)
        if "link" in node.entries:
            link = self.string(node.entries["link"].value, f"link of {eth_id}")
            if link is not None and not self.known(link, node.entries["link"].value.pos):
                self.r.error(
                    node.entries["link"].value.pos,
                    f"{eth_id}: interface '{link}' is not defined",
                    "link names the SR-IOV physical function, defined under ethernets",
                )
        self.ethernets[eth_id] = _Ethernet(eth_id, entry.key_pos, match, node)

    def others(
        self,
        node: YMap,
        extra: Mapping[str, grammar.Rule],
        renderers: frozenset[str] = frozenset(),
    ) -> None:
        """Check the values of keys bondd leaves to others, as netplan does."""
        for key, entry in node.entries.items():
            rule = grammar.COMMON.get(key) or extra.get(key)
            if key == "renderer":
                self.renderer(entry, keys.OTHERS_COMMON["renderer"], renderers)
            elif rule is not None:
                self.grammar.check(key, entry.value, rule)
        if "ipv6-address-generation" in node.entries and "ipv6-address-token" in node.entries:
            self.r.error(
                node.entries["ipv6-address-token"].key_pos,
                "ipv6-address-generation and ipv6-address-token are mutually exclusive",
                "keep one of them",
            )

    def port_match(self, eth_id: str, value: YNode) -> PortMatch | None:
        node = self.mapping(value, f"match of {eth_id}")
        if node is None:
            return None
        self.check_keys(node, keys.MATCH_KEYS, f"match of {eth_id}")
        name = mac = None
        drivers: tuple[str, ...] = ()
        if "name" in node.entries:
            name = self.string(node.entries["name"].value, "match name")
            if name is not None and (problem := scalars.id_problem(name)):
                self.r.error(node.entries["name"].value.pos, f"match name: {problem}")
                name = None
        if "macaddress" in node.entries:
            mac_node = node.entries["macaddress"].value
            raw = self.string(mac_node, "match macaddress")
            if raw is not None and not scalars.is_mac(raw):
                self.r.error(
                    mac_node.pos,
                    f"invalid MAC address '{raw}' in match",
                    "write it as XX:XX:XX:XX:XX:XX",
                )
            elif raw is not None and len(raw) == 17:
                mac = raw.lower()
            elif raw is not None:
                self.r.passed(
                    mac_node.pos,
                    f"{eth_id} matches an InfiniBand hardware address; bondd cannot use it as a"
                    " port",
                    "bond ports are Ethernet devices",
                )
        if "driver" in node.entries:
            drivers = self.drivers(node.entries["driver"].value)
        if name is None and mac is None and not drivers:
            if node.entries:
                return None
            self.r.passed(
                node.pos,
                f"match of {eth_id} selects every device; bondd does not use it as a port",
                "give name, macaddress or driver",
            )
            return None
        return PortMatch(name=name, macaddress=mac, driver=drivers)

    def drivers(self, node: YNode) -> tuple[str, ...]:
        items = node.items if isinstance(node, YSeq) else [node]
        if isinstance(node, YMap):
            self.r.error(node.pos, "invalid type for 'driver': must be a scalar or a list")
            return ()
        found: list[str] = []
        for item in items:
            text = self.string(item, "match driver")
            if text is None:
                continue
            if any(c.isspace() for c in text):
                self.r.error(item.pos, "a 'driver' glob cannot contain whitespace")
                continue
            if text:
                found.append(text)
        return tuple(found)

    def finish_ethernets(self) -> None:
        """Check the keys of each ethernet now that we know which are ports."""
        pfs = {
            eth.node.entries["link"].value.value
            for eth in self.ethernets.values()
            if "link" in eth.node.entries and isinstance(eth.node.entries["link"].value, YScalar)
        }
        for eth in self.ethernets.values():
            for key in ("embedded-switch-mode", "delay-virtual-functions-rebind"):
                value = eth.node.entries.get(key)
                if (
                    value is not None
                    and (key == "embedded-switch-mode" or _is_true(value.value))
                    and eth.id not in pfs
                    and "virtual-function-count" not in eth.node.entries
                ):
                    self.r.error(
                        eth.node.entries[key].key_pos,
                        f"{eth.id}: this is not a SR-IOV PF, so `{key}` does not apply",
                        "give it virtual-function-count, or link a VF to it",
                    )
            bond = self.port_of.get(eth.id)
            for key, entry in eth.node.entries.items():
                if key == keys.OVS_KEY:
                    self.r.error(
                        entry.key_pos,
                        "Open vSwitch ports are not managed by bondd",
                        "remove `openvswitch` or manage this device with netplan",
                    )
                elif key in keys.OTHERS_COMMON:
                    self.r.note_once(key, entry.key_pos, keys.OTHERS_COMMON[key])
                elif key in keys.OTHERS_PHYSICAL:
                    self.r.note_once(key, entry.key_pos, keys.OTHERS_PHYSICAL[key])
            if bond is None:
                self.common(f"ethernet {eth.id}", ("ethernet", eth.id), eth.node, applied=False)
                self.r.note(
                    eth.pos, f"ethernet `{eth.id}` is not a port of any bond; bondd leaves it alone"
                )
                continue
            self.port_keys(eth.id, eth.node, bond)

    def port_keys(self, port: str, node: YMap, bond: str) -> None:
        """What a bond port carries that bondd does not apply: said once per key, with why."""
        self.common(f"port {port}", ("port", port), node, applied=False)
        for key, entry in node.entries.items():
            if key in ("addresses", "routes", "gateway4", "gateway6"):
                self.r.passed(
                    entry.key_pos,
                    f"`{key}` of `{port}` is not applied: {port} is a port of {bond}, and the"
                    " kernel keeps a port's traffic on the bond",
                    f"move `{key}` to the bond {bond}",
                )
            elif key == "mtu":
                self.r.warning(
                    entry.key_pos,
                    f"the MTU of port `{port}` follows its bond {bond}",
                    f"set mtu on {bond} instead",
                )
            elif key == "macaddress":
                self.r.warning(
                    entry.key_pos,
                    f"the bond {bond} sets the MAC address of port `{port}`",
                    f"set macaddress on {bond}, or fail-over-mac-policy",
                )

    # --- bonds ----------------------------------------------------------------

    def bond(self, name: str, entry: YEntry, all_bonds: dict[str, YEntry]) -> BondSpec | None:
        self.index.put(entry.key_pos, "bond", name)
        node = self.mapping(entry.value, f"bond {name}")
        if node is None:
            return None
        self.check_keys(node, keys.BOND_KEYS | {keys.OVS_KEY}, f"bond {name}")
        self.others(node, {})
        self.backend(name, "bonds", node)
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
            eth = self.ethernets.get(port_id)
            # A VLAN port is the VLAN device by name; whoever creates it, bondd enslaves it.
            match = eth.match if eth else PortMatch(name=port_id)
            extra = per_port.get(port_id, {})
            ports.append(PortSpec(port_id, match, extra.get("queue_id"), extra.get("prio")))
        common = self.common(f"bond {name}", ("bond", name), node)
        if problem := ifname_problem(name):
            self.r.passed(entry.key_pos, f"bond {name} is not created: its name {problem}")
            return None
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
            if not self.known(port_id, item.pos):
                self.r.error(
                    item.pos,
                    f"{name}: interface '{port_id}' is not defined",
                    f"add `{port_id}: {{}}` under network.ethernets",
                )
            elif port_id == name or port_id in all_bonds:
                what = "itself" if port_id == name else f"the bond {port_id}"
                self.r.passed(
                    item.pos,
                    f"{name} lists {what} as a port; bondd does not nest bonds, so it is not"
                    " enslaved",
                    "list ethernets or VLANs only",
                )
            elif port_id not in self.ethernets and port_id not in self.vlan_names:
                self.r.error(
                    item.pos,
                    f"port `{port_id}` of {name} is a {self.kind_of.get(port_id, 'device')}"
                    " entry, which bondd does not manage",
                    "bond ports are ethernets or VLANs",
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
                    f"{name}: interface '{port_id}' is already assigned to bond"
                    f" {self.port_of[port_id]}{where}",
                    "a port belongs to one bond; remove it from one of them",
                )
            else:
                self.port_of[port_id] = name
                ids.append(port_id)
                if port_id in self.vlan_names:
                    self.r.note(
                        item.pos,
                        f"VLAN `{port_id}` is a port of {name}: bondd does not create it,"
                        " it enslaves it once it exists",
                    )
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
                self.r.warning(
                    entry.key_pos,
                    f"`{key}` and `{spelled[option.kernel_name]}` set the same option;"
                    f" `{key}`, the later one, is used",
                    "keep one of them",
                )
            spelled[option.kernel_name] = key
            self.index.put(entry.key_pos, "bond", name, "key", option.kernel_name)
            self.index.put(entry.value.pos, "bond", name, "option", option.kernel_name)
            if option.scope is opt.Scope.PORT:
                self.port_option(name, option, entry.value, port_ids, per_port)
                continue
            if (
                option.kernel_name == "primary"
                and isinstance(entry.value, YScalar)
                and not self.known(entry.value.value, entry.value.pos)
            ):
                self.r.error(
                    entry.value.pos,
                    f"{name}: interface '{entry.value.value}' is not defined",
                    "primary names one of the bond's ports",
                )
                continue
            netplan_scalar = option.netplan and option.kind is not opt.Kind.IPV4_LIST
            if netplan_scalar and self.string(entry.value, f"{key} of {name}") is None:
                continue
            try:
                options[option.kernel_name] = opt.parse_yaml_value(option, _raw(entry.value))
            except opt.NotAppliedError as exc:
                options.pop(option.kernel_name, None)
                default = opt.default_for(option, options)
                self.r.passed(
                    entry.value.pos,
                    f"{key} of {name} is not applied: {exc.message}; {name} keeps the kernel"
                    f" default {default!r}",
                    exc.hint,
                )
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

    def common(
        self, what: str, path: tuple[str, ...], node: YMap, *, applied: bool = True
    ) -> _Common:
        """What bonds and vlans share; `applied=False`: only netplan's checks (ethernets)."""
        for key, entry in node.entries.items():
            if key in keys.OTHERS_COMMON:
                self.r.note_once(key, entry.key_pos, keys.OTHERS_COMMON[key])
        if not applied:
            for key in ("mtu", "macaddress"):
                if key in node.entries:
                    rule = grammar.UINT if key == "mtu" else grammar.Rule(grammar.Shape.TEXT)
                    self.grammar.check(key, node.entries[key].value, rule)
            given = node.entries.get("macaddress")
            if (
                given is not None
                and isinstance(given.value, YScalar)
                and not scalars.is_mac(given.value.value)
            ):
                self.r.error(
                    given.value.pos,
                    f"invalid MAC address '{given.value.value}' for {what}",
                    "write it as XX:XX:XX:XX:XX:XX",
                )
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
                if applied:
                    self.r.passed(
                        entry.key_pos,
                        f"{key} of {what} is not applied: routes already has a default route",
                        f"keep one; {key} is netplan's older spelling of `to: default`",
                    )
                continue
            self.index.put(entry.key_pos, *path, "route", default)
            routes.append(RouteSpec(to=default, via=gateway))
        mtu = None
        if "mtu" in node.entries and applied:
            mtu = self.integer(node.entries["mtu"].value, f"mtu of {what}", 68, 65535)
        mac = None
        if "macaddress" in node.entries and applied:
            mac = self.macaddress(what, node.entries["macaddress"].value)
        return _Common(addresses, tuple(routes), mtu, mac)

    def macaddress(self, what: str, node: YNode) -> str | None:
        raw = self.string(node, f"macaddress of {what}")
        if raw is None:
            return None
        if not scalars.is_mac(raw):
            self.r.error(
                node.pos,
                f"invalid MAC address '{raw}' for {what}",
                "write it as XX:XX:XX:XX:XX:XX",
            )
            return None
        mac = raw.lower()
        if len(mac) != 17:
            self.r.passed(
                node.pos,
                f"macaddress of {what} is not applied: an InfiniBand address does not fit"
                " an Ethernet bond",
                "write a 6-byte MAC",
            )
            return None
        if int(mac[:2], 16) & 1 or mac == "00:00:00:00:00:00":
            self.r.passed(
                node.pos,
                f"macaddress of {what} is not applied: the kernel takes only a unicast,"
                " non-zero MAC",
                "clear the lowest bit of the first byte",
            )
            return None
        return mac

    def address(
        self, node: YNode, what: str, version: int | None = None, *, zone_ok: bool = False
    ) -> str | None:
        text = node.value if isinstance(node, YScalar) else None
        zoned = text is not None and "%" in text
        if zoned:
            assert text is not None
            base, _, zone = text.partition("%")
            if not zone_ok or ifname_problem(zone) or not scalars.is_ip6(base):
                self.r.error(
                    node.pos,
                    f"{what} {describe(node)} has a zone id that is not an interface name"
                    if zone_ok
                    else f"{what} must be an address without a %zone, got {describe(node)}",
                    "write fe80::1%bond0 with an interface name" if zone_ok else "remove the %zone",
                )
                return None
        ok = text is not None and (
            (zoned and version != 4)
            or (
                scalars.is_ip4(text)
                if version == 4
                else scalars.is_ip6(text)
                if version == 6
                else scalars.is_ip(text)
            )
        )
        if not ok or text is None:
            family = f"an IPv{version}" if version else "an IP"
            self.r.error(
                node.pos,
                f"{what} must be {family} address, got {describe(node)}",
                "write a single address without /prefix",
            )
            return None
        return str(ipaddress.ip_address(text))

    def addresses(self, what: str, entry: YEntry | None) -> tuple[str, ...]:
        if entry is None:
            return ()
        seq = self.sequence(entry.value, f"addresses of {what}")
        if seq is None:
            return ()
        out: list[str] = []
        for item in seq.items:
            nodes: list[YNode] = [item]
            if isinstance(item, YMap):
                # netplan's long form: - "10.0.0.15/24": {lifetime: 0, label: maas}
                nodes = [YScalar(text, sub.key_pos) for text, sub in item.entries.items()]
                for text, sub in item.entries.items():
                    self.address_options(text, sub.value)
            elif isinstance(item, YSeq):
                self.r.error(item.pos, f"an address of {what} must be a scalar or a mapping")
                continue
            for node in nodes:
                cidr = self.cidr(node, what)
                if cidr is None:
                    continue
                if cidr in out:
                    self.r.warning(node.pos, f"address {cidr} is listed twice on {what}")
                    continue
                out.append(cidr)
        return tuple(out)

    def address_options(self, text: str, node: YNode) -> None:
        options = self.mapping(node, f"options of address {text}")
        if options is None:
            return
        self.check_keys(options, keys.ADDRESS_OPTION_KEYS, f"address {text}")
        for key, option_entry in options.entries.items():
            if key not in keys.ADDRESS_OPTION_KEYS:
                continue
            value = self.string(option_entry.value, f"{key} of address {text}")
            if key == "lifetime" and value is not None and value not in ("forever", "0"):
                self.r.error(
                    option_entry.value.pos,
                    f"invalid lifetime value '{value}'",
                    "use forever or 0",
                )
            self.r.note_once(
                f"address {key}",
                option_entry.key_pos,
                "address lifetimes and labels are left to your renderer",
            )

    def cidr(self, node: YNode, what: str) -> str | None:
        text = node.value if isinstance(node, YScalar) else None
        if text is not None and "%" in text:
            self.r.error(node.pos, f"address {describe(node)} of {what} may not have a %zone")
            return None
        if text is None or "/" not in text:
            hint = (
                f"write it with a prefix length, e.g. {text}/24"
                if text is not None
                else "write address/prefix, e.g. 192.168.1.10/24"
            )
            self.r.error(node.pos, f"address {describe(node)} of {what} is not in CIDR form", hint)
            return None
        address, prefix_text = text.rsplit("/", 1)
        # netplan reads the prefix with strtoull and ignores what follows the digits.
        digits = re.match(r"\s*\+?(\d*)", prefix_text)
        prefix = int(digits.group(1)) if digits and digits.group(1) else 0
        version = 4 if scalars.is_ip4(address) else 6 if scalars.is_ip6(address) else 0
        if not version:
            self.r.error(
                node.pos,
                f"malformed address '{text}' of {what}",
                "write address/prefix, e.g. 192.168.1.10/24 or 2001:db8::5/64",
            )
            return None
        if not 0 < prefix <= (32 if version == 4 else 128):
            self.r.error(node.pos, f"invalid prefix length in address '{text}' of {what}")
            return None
        cidr = str(ipaddress.ip_interface(f"{address}/{prefix}"))
        if prefix_text != str(prefix):
            self.r.passed(
                node.pos,
                f"address '{text}' of {what} is applied as {cidr}",
                f"write {cidr}",
            )
        return cidr

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
            self.grammar.check(key, node.entries[key].value, grammar.UINT)
            self.r.note_once(
                f"route {key}",
                node.entries[key].key_pos,
                "bondd installs the route without it; TCP route metrics are left to your renderer",
            )
        e = node.entries
        via = self.route_address(e["via"].value, "via") if "via" in e else None
        if "to" not in e:
            self.r.error(node.pos, f"a route of {what} has no `to`", "add to: default or to: CIDR")
            return None
        source = self.route_address(e["from"].value, "from") if "from" in e else None
        to = self.route_to(e["to"].value, via)
        if to is None:
            return None
        family = ipaddress.ip_network(to).version
        for key, found in (("via", via), ("from", source)):
            if found is not None and ipaddress.ip_address(found).version != family:
                self.r.error(
                    e[key].value.pos,
                    f"IP family mismatch in route to {to}: {key} {found}",
                    "give to, via and from in one address family",
                )
                return None
        metric = self.integer(e["metric"].value, "metric", 0, 2**32 - 1) if "metric" in e else None
        table = self.integer(e["table"].value, "table", 1, 2**32 - 1) if "table" in e else None
        on_link = bool(self.boolean(e["on-link"].value, "on-link")) if "on-link" in e else False
        mtu = self.integer(e["mtu"].value, "route mtu", 68, 65535) if "mtu" in e else None
        # netplan takes the scope and type words in any case.
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

    def route_address(self, node: YNode, key: str) -> str | None:
        """netplan takes `via` and `from` with a /prefix too, and uses the address."""
        text = node.value if isinstance(node, YScalar) else None
        if text is None or "/" not in text or grammar.address_family(text) is None:
            return self.address(node, key)
        address = str(ipaddress.ip_address(text.rsplit("/", 1)[0]))
        self.r.passed(node.pos, f"route {key} {text} is applied as {address}", f"write {address}")
        return address

    def route_to(self, node: YNode, via: str | None) -> str | None:
        text = node.value if isinstance(node, YScalar) else None
        if text == "default" and via is None:
            self.r.error(
                node.pos,
                "a route to default needs `via`: without it the address family is unknown",
                "add via: <gateway>, or write to: 0.0.0.0/0 or ::/0",
            )
            return None
        if text == "default":
            return "::/0" if via and ":" in via else "0.0.0.0/0"
        if not isinstance(text, str):
            self.r.error(
                node.pos, f"route `to` must be an address or `default`, got {describe(node)}"
            )
            return None
        if grammar.address_family(text) is None:
            self.r.error(
                node.pos,
                f"route destination {text!r} is not an address or prefix",
                "write e.g. 10.0.0.0/8 or default",
            )
            return None
        try:
            return str(ipaddress.ip_network(text, strict=True))
        except ValueError:
            pass
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            self.r.error(node.pos, f"invalid prefix length in route destination {text!r}")
            return None
        self.r.passed(
            node.pos,
            f"route destination {text} has host bits set; bondd installs it as {loose}",
            f"write {loose}",
        )
        return str(loose)

    def choice(self, node: YNode, what: str, allowed: frozenset[str]) -> str | None:
        value = node.value.lower() if isinstance(node, YScalar) else None
        if value is not None and value in allowed:
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
        # netplan's `renderer: sriov` marks a VLAN filtered in SR-IOV hardware.
        self.others(node, {}, frozenset({"sriov"}))
        self.backend(name, "vlans", node)
        unusable = ifname_problem(name)
        if name in bonds or name in self.ethernets:
            self.r.error(
                entry.key_pos,
                f"`{name}` is defined twice, as a vlan and as another device",
                "give the VLAN its own name",
            )
        vid = link = None
        if "id" in node.entries:
            vid = self.integer(node.entries["id"].value, f"id of vlan {name}", 0, 2**32 - 1)
            if vid is not None and vid > 4094:
                self.r.error(
                    node.entries["id"].value.pos,
                    f"{name}: invalid id '{vid}' (allowed values are 0 to 4094)",
                )
                vid = None
        else:
            self.r.error(entry.key_pos, f"{name}: missing 'id' property", "add id: 1-4094")
        if "link" in node.entries:
            link = self.string(node.entries["link"].value, f"link of vlan {name}")
        else:
            self.r.error(entry.key_pos, f"{name}: missing 'link' property", "add link: <bond name>")
        if link is not None and not self.known(link, node.entries["link"].value.pos):
            self.r.error(
                node.entries["link"].value.pos,
                f"{name}: interface '{link}' is not defined",
                "define it under ethernets or bonds, or fix the name",
            )
            return None
        if link is not None and link not in bonds:
            self.common(f"vlan {name}", ("vlan", name), node, applied=False)
            self.r.note(
                entry.key_pos,
                f"vlan {name} is on `{link}`, which is not a bond here; bondd leaves it alone",
                "bondd manages VLANs on its bonds only",
            )
            return None
        if unusable:
            self.r.passed(
                entry.key_pos, f"vlan {name} is not created: its name {unusable}", "rename it"
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
        strict = "strict" in e and self.boolean(e["strict"].value, "strict") is True
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
            strict=strict,
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


def _is_true(node: YNode) -> bool:
    return isinstance(node, YScalar) and scalars.boolean(node.value) is True


def _raw(node: YNode) -> object:
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [_raw(i) for i in node.items]
    return {k: _raw(e.value) for k, e in node.entries.items()}


def _with_vlans(bond: BondSpec, vlans: tuple[VlanSpec, ...]) -> BondSpec:
    return replace(bond, vlans=vlans)
