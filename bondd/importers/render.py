"""An `Imported` written as bondd YAML, each value followed by the FILE:LINE it came from.

The document is netplan-style, like every file in /etc/bondd.d: ports under
`ethernets` (by name, or `match:` by MAC or name pattern, as the source
matched them), bonds with their `parameters`, addresses, routes, MTU and
MAC, and VLANs on those bonds. Written by hand rather than by a YAML
dumper so that every line can carry its origin as a comment and the
settings not carried over can be listed above the document. Pure.
"""

from __future__ import annotations

from typing import Any

import yaml

from bondd.importers.model import Imported, ImportedBond, ImportedVlan, Sourced
from bondd.model import RouteSpec
from bondd.options import PORT_OPTIONS, by_kernel_name, to_yaml
from bondd.render.netplan import route_entry


def render(imported: Imported, command: str) -> str:
    out: list[str] = [f"# Written by `{command}` from:"]
    out += [f"#   {path}" for path in imported.files] or ["#   (no files)"]
    out.append("# Check it with `bondctl validate`; `bondctl plan` on it shows no change.")
    if imported.skipped:
        out.append("#")
        out.append("# Not carried over (bondd leaves these to other tools):")
        for item in sorted(imported.skipped, key=lambda s: s.at):
            out.append(f"#   {item.at}: {item.what}: {item.why}")
    out += ["network:", "  version: 2"]
    bonds = imported.bonds
    if any(b.ports for b in bonds):
        out.append("  ethernets:")
        for bond in bonds:
            for port in bond.ports:
                match: dict[str, str] = {}
                if port.macaddress:
                    match["macaddress"] = port.macaddress
                if port.name and (port.macaddress or port.name != port.id):
                    match["name"] = port.name
                body = f"{{match: {_flow(match)}}}" if match else "{}"
                out.append(f"    {_key(port.id)}: {body}  # {port.at}")
    if bonds:
        out.append("  bonds:")
        for bond in bonds:
            out += _bond(bond)
    vlans = [(bond, vlan) for bond in bonds for vlan in bond.vlans]
    if vlans:
        out.append("  vlans:")
        for bond, vlan in vlans:
            out += _vlan(bond, vlan)
    return "\n".join(out) + "\n"


def _bond(bond: ImportedBond) -> list[str]:
    out = [f"    {_key(bond.name)}:  # {bond.at}"]
    out.append(f"      interfaces: {_flow([p.id for p in bond.ports])}")
    parameters: list[str] = []
    for name, value in sorted(bond.options.items(), key=lambda item: item[0] != "mode"):
        row = by_kernel_name(name)
        assert row.yaml_key is not None
        parameters.append(_line(8, row.yaml_key, to_yaml(row, value.value), value))
    for row in PORT_OPTIONS:
        per_port = {
            p.id: p.options[row.kernel_name] for p in bond.ports if row.kernel_name in p.options
        }
        if per_port and row.yaml_key is not None:
            parameters.append(f"        {row.yaml_key}:")
            parameters += [_line(10, port, v.value, v) for port, v in per_port.items()]
    if parameters:
        out += ["      parameters:", *parameters]
    out += _layer3(6, bond.addresses, bond.routes, bond.mtu, bond.macaddress)
    return out


def _vlan(bond: ImportedBond, vlan: ImportedVlan) -> list[str]:
    out = [
        f"    {_key(vlan.name)}:  # {vlan.at}",
        f"      id: {vlan.id}",
        f"      link: {_key(bond.name)}",
    ]
    return out + _layer3(6, vlan.addresses, vlan.routes, vlan.mtu, vlan.macaddress)


def _layer3(
    indent: int,
    addresses: list[Sourced[str]],
    routes: list[Sourced[RouteSpec]],
    mtu: Sourced[int] | None,
    macaddress: Sourced[str] | None,
) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if addresses:
        out.append(f"{pad}addresses:")
        out += [f"{pad}  - {_flow(a.value)}  # {_origin(a)}" for a in addresses]
    if routes:
        out.append(f"{pad}routes:")
        out += [f"{pad}  - {_flow(route_entry(r.value))}  # {_origin(r)}" for r in routes]
    if mtu is not None:
        out.append(_line(indent, "mtu", mtu.value, mtu))
    if macaddress is not None:
        out.append(_line(indent, "macaddress", macaddress.value, macaddress))
    return out


def _line(indent: int, key: str, value: object, source: Sourced[Any]) -> str:
    return f"{' ' * indent}{_key(key)}: {_flow(value)}  # {_origin(source)}"


def _origin(source: Sourced[Any]) -> str:
    return f"{source.at}; {source.note}" if source.note else str(source.at)


def _key(name: str) -> str:
    return _flow(name)


def _flow(value: object) -> str:
    """One value in YAML flow style, quoted only where YAML needs it."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 20, sort_keys=False)
    return text.removesuffix("\n...\n").strip()
