"""netplan's own YAML (/etc/netplan, /run/netplan, /lib/netplan) -> `Imported`, by bondd's loader.

bondd's YAML is netplan's, so this importer reuses bondd's config loader
(files merged as netplan merges them, every node with its position) and
schema: it keeps the bonds, the ethernets they name and the VLANs on them,
drops every key bondd leaves to others (listed as not carried over, with
FILE:LINE), and checks the rest with bondd's own schema, whose errors are
the import's errors. Pure apart from reading the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bondd.config import check_tree
from bondd.config.loader import discover, read_file
from bondd.config.nodes import YEntry, YMap, YNode, YScalar, YSeq, merge
from bondd.importers.model import (
    At,
    Claim,
    Imported,
    ImportedBond,
    ImportedPort,
    ImportedVlan,
    Sourced,
    SourceError,
)
from bondd.model import BondSpec, Severity, SourcePos, VlanSpec
from bondd.options import by_kernel_name

# netplan's order: /run shadows /etc shadows /lib (bondd's loader: later directories shadow).
DEFAULTS = (Path("/lib/netplan"), Path("/etc/netplan"), Path("/run/netplan"))
_LAYER3 = frozenset({"addresses", "routes", "gateway4", "gateway6", "mtu", "macaddress"})
KEEP = {
    "bonds": _LAYER3 | {"interfaces", "parameters"},
    "ethernets": frozenset({"match"}),
    "vlans": _LAYER3 | {"id", "link"},
}


def _at(pos: SourcePos) -> At:
    return At(pos.file, pos.line)


def load(paths: Sequence[Path] = ()) -> Imported:
    imported = Imported("netplan")
    files: list[Path] = []
    dirs = [p for p in paths if p.is_dir()] if paths else [d for d in DEFAULTS if d.is_dir()]
    files += discover(dirs, explicit=bool(paths)) if dirs else []
    for path in paths:
        if path.is_file():
            files.append(path)
        elif not path.is_dir():
            raise SourceError(At(str(path), 0), "no such file or directory")
    imported.files = files
    tree = _merged(files)
    if not isinstance(tree, YMap) or "network" not in tree.entries:
        return imported
    network = tree.entries["network"].value
    if not isinstance(network, YMap):
        raise SourceError(_at(network.pos), "`network:` must be a mapping")
    kept = _filter(network, imported)
    result = check_tree(YMap({"network": YEntry(tree.entries["network"].key_pos, kept)}, tree.pos))
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    if errors:
        first = errors[0]
        raise SourceError(_at(first.pos) if first.pos else None, first.message, first.hint)
    sections: dict[str, YMap] = {}
    for key, entry in kept.entries.items():
        if isinstance(entry.value, YMap):
            sections[key] = entry.value
    for spec in result.state.bonds:
        bond_entry = sections["bonds"].entries[spec.name]
        bond = ImportedBond(spec.name, _at(bond_entry.key_pos))
        imported.claims.append(Claim(Path(bond_entry.key_pos.file), spec.name))
        params = _child(bond_entry.value, "parameters")
        for option, value in spec.options.items():
            bond.options[option] = Sourced(value, _key_at(params, option) or bond.at)
        eths = sections.get("ethernets")
        for port in spec.ports:
            eth = eths.entries.get(port.id) if isinstance(eths, YMap) else None
            at = _at(eth.key_pos) if eth else bond.at
            options = {}
            if port.queue_id is not None:
                options["queue_id"] = Sourced(port.queue_id, at)
            if port.prio is not None:
                options["prio"] = Sourced(port.prio, at)
            bond.ports.append(
                ImportedPort(port.id, at, port.match.name, port.match.macaddress, options)
            )
        _layer3(bond_entry.value, spec, bond, bond.at)
        vlans = sections.get("vlans")
        for vlan in spec.vlans:
            vnode = vlans.entries[vlan.name] if isinstance(vlans, YMap) else None
            at = _at(vnode.key_pos) if vnode else bond.at
            imported_vlan = ImportedVlan(vlan.name, vlan.id, at)
            _layer3(vnode.value if vnode else None, vlan, imported_vlan, at)
            bond.vlans.append(imported_vlan)
        imported.bonds.append(bond)
    return imported


def _merged(files: Sequence[Path]) -> YNode | None:
    """The files merged in order, as netplan merges them; the first error stops the import."""
    tree: YNode | None = None
    for path in files:
        node, found = read_file(path)
        errors = [d for d in found if d.severity is Severity.ERROR]
        if errors:
            raise SourceError(
                _at(errors[0].pos) if errors[0].pos else At(str(path), 0),
                errors[0].message,
                errors[0].hint,
            )
        if isinstance(node, YMap):
            tree = node if tree is None else merge(tree, node)
    return tree


def _child(node: YNode | None, key: str) -> YNode | None:
    if isinstance(node, YMap) and key in node.entries:
        return node.entries[key].value
    return None


def _key_at(params: YNode | None, kernel_name: str) -> At | None:
    row = by_kernel_name(kernel_name)
    if isinstance(params, YMap):
        for key in row.yaml_keys:
            if key in params.entries:
                return _at(params.entries[key].key_pos)
    return None


def _layer3(
    node: YNode | None, spec: BondSpec | VlanSpec, into: ImportedBond | ImportedVlan, at: At
) -> None:
    def where(key: str) -> At:
        if isinstance(node, YMap) and key in node.entries:
            return _at(node.entries[key].key_pos)
        return at

    into.addresses = [Sourced(a, where("addresses")) for a in spec.addresses]
    route_at = (
        where("routes")
        if isinstance(node, YMap) and "routes" in node.entries
        else where("gateway4")
    )
    into.routes = [Sourced(r, route_at) for r in spec.routes]
    if spec.mtu is not None:
        into.mtu = Sourced(spec.mtu, where("mtu"))
    if spec.macaddress is not None:
        into.macaddress = Sourced(spec.macaddress, where("macaddress"))


def _filter(network: YMap, imported: Imported) -> YMap:
    """The bonds, the ethernets they name and the VLANs on them, with bondd's keys only."""
    bonds = network.entries.get("bonds")
    bond_map = bonds.value if bonds and isinstance(bonds.value, YMap) else YMap({}, network.pos)
    wanted_ports: set[str] = set()
    for entry in bond_map.entries.values():
        interfaces = _child(entry.value, "interfaces")
        if isinstance(interfaces, YSeq):
            wanted_ports |= {str(i.value) for i in interfaces.items if isinstance(i, YScalar)}
    kept: dict[str, YEntry] = {}
    for section, entry in network.entries.items():
        if section == "version":
            kept[section] = entry
            continue
        if section not in KEEP or not isinstance(entry.value, YMap):
            imported.skip(
                _at(entry.key_pos), section, "not a bond, its port or a VLAN on it: left to netplan"
            )
            continue
        items: dict[str, YEntry] = {}
        for name, item in entry.value.entries.items():
            link = _child(item.value, "link")
            wanted = (
                section == "bonds"
                or (section == "ethernets" and name in wanted_ports)
                or (
                    section == "vlans"
                    and isinstance(link, YScalar)
                    and str(link.value) in bond_map.entries
                )
            )
            if not wanted:
                imported.skip(
                    _at(item.key_pos), f"{section}.{name}", "not part of a bond: left to netplan"
                )
                continue
            items[name] = YEntry(item.key_pos, _keep(section, name, item.value, imported))
        if items:
            kept[section] = YEntry(entry.key_pos, YMap(items, entry.value.pos))
    return YMap(kept, network.pos)


def _keep(section: str, name: str, node: YNode, imported: Imported) -> YNode:
    if not isinstance(node, YMap):
        return node
    entries = {}
    for key, entry in node.entries.items():
        if key in KEEP[section]:
            entries[key] = entry
        else:
            imported.skip(_at(entry.key_pos), f"{section}.{name}.{key}", _who(key))
    return YMap(entries, node.pos)


def _who(key: str) -> str:
    if key.startswith("dhcp"):
        return "DHCP is not bondd's"
    if key == "nameservers":
        return "DNS is left to the resolver"
    return "left to netplan"
