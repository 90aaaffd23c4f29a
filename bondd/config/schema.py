"""Turn the merged YAML tree into a `DesiredState`, collecting every error.

This is the structural pass: keys, types, ranges, references between
devices (a bond's ports must be defined ethernets). It never stops at the
first problem; each finding is a `Diagnostic` at the offending key or value.
Checks that need the whole bond (mode support, monitor conflicts, rounding)
live in `validate.py`, which finds positions through the `SourceIndex` built
here. The builder is a stack of sections, one class each (schema_base.py says
which file holds which); this file holds the top: the network mapping,
VLANs and bondd's own settings. Pure: no kernel, no files.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bondd import durations, scalars
from bondd import options as opt
from bondd.config import keys
from bondd.config.nodes import YEntry, YMap, YNode, YScalar
from bondd.config.schema_base import (
    describe,
    ifname_problem,
    is_unicast,
    raw_value,
)
from bondd.config.schema_bonds import BondSection
from bondd.model import (
    BondSpec,
    DesiredState,
    ProbeSpec,
    ProbeType,
    Settings,
    VlanSpec,
)

# bondd/daemon/requests.py checks interface names with the builder's rule.
__all__ = ["SchemaBuilder", "ifname_problem"]


class SchemaBuilder(BondSection):
    """One pass over the merged tree; `build()` returns the state and the index."""

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
            self.renderers["network"] = str(raw_value(network.entries["renderer"].value))
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
                self.renderers[kind] = str(raw_value(entry.value))
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
        vid = self.vlan_id(name, entry, node)
        link = self.vlan_link(name, entry, node)
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

    def vlan_id(self, name: str, entry: YEntry, node: YMap) -> int | None:
        if "id" not in node.entries:
            self.r.error(entry.key_pos, f"{name}: missing 'id' property", "add id: 1-4094")
            return None
        vid = self.integer(node.entries["id"].value, f"id of vlan {name}", 0, 2**32 - 1)
        if vid is not None and vid > 4094:
            self.r.error(
                node.entries["id"].value.pos,
                f"{name}: invalid id '{vid}' (allowed values are 0 to 4094)",
            )
            return None
        return vid

    def vlan_link(self, name: str, entry: YEntry, node: YMap) -> str | None:
        if "link" not in node.entries:
            self.r.error(entry.key_pos, f"{name}: missing 'link' property", "add link: <bond name>")
            return None
        return self.string(node.entries["link"].value, f"link of vlan {name}")

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
            if target is not None and not is_unicast(target):
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


def _with_vlans(bond: BondSpec, vlans: tuple[VlanSpec, ...]) -> BondSpec:
    return replace(bond, vlans=vlans)
