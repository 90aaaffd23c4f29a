"""NetworkManager keyfiles (`*.nmconnection`) -> `Imported`.

A bond is a profile with `type=bond`; its ports are profiles whose
`controller=` (or the older `master=`) names the bond by interface name,
profile id or UUID, with `port-type=`/`slave-type=bond`. Bond options are
the `[bond]` keys (kernel names, numbers or words); addresses, gateway and
routes come from `[ipv4]`/`[ipv6]` with `method=manual`; VLANs are
`type=vlan` profiles whose `parent=` is the bond. NetworkManager gives
routes without a metric the profile's `route-metric`, or its per-type
default (bond 300, VLAN 400): the import writes that metric, because the
kernel holds it. Pure apart from reading the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bondd.importers import values
from bondd.importers.files import collect
from bondd.importers.ini import IniFile, Section, read
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
from bondd.model import RouteSpec
from bondd.options import RUNTIME_OPTIONS

DEFAULTS = (Path("/etc/NetworkManager/system-connections"),)
# NetworkManager's default route metric per device type (ipv4.route-metric=-1).
TYPE_METRIC = {"bond": 300, "vlan": 400}
_CONSUMED_CONNECTION = frozenset(
    {"id", "uuid", "type", "interface-name", "master", "controller", "slave-type", "port-type"}
)
_IP_CONSUMED = frozenset({"method", "gateway", "route-metric"})
_WHO = "NetworkManager setting; bondd leaves it"


@dataclass
class _Profile:
    file: IniFile
    id: str
    uuid: str
    type: str
    ifname: str | None
    controller: str | None
    at: At


def load(paths: Sequence[Path] = ()) -> Imported:
    imported = Imported("networkmanager")
    profiles = [_profile(read(path)) for path in collect(paths, DEFAULTS, _keyfile)]
    imported.files = [p.file.path for p in profiles]
    bonds = {p.uuid: p for p in profiles if p.type == "bond"}
    by_ref = {ref: p for p in bonds.values() for ref in (p.uuid, p.id, p.ifname) if ref}
    used: set[str] = set()
    for profile in bonds.values():
        if profile.ifname is None:
            raise SourceError(profile.at, f"bond profile {profile.id!r} has no interface-name")
        if any(b.name == profile.ifname for b in imported.bonds):
            raise SourceError(
                profile.at,
                f"two profiles configure bond {profile.ifname}",
                "name the one to import: bondctl import --from networkmanager FILE...",
            )
        imported.bonds.append(_bond(profile, imported))
        used.add(profile.uuid)
    for profile in profiles:
        owner = by_ref.get(profile.controller or "")
        if profile.type == "vlan":
            vlan = _vlan(profile, by_ref, imported)
            if vlan is not None:
                used.add(profile.uuid)
            continue
        if owner is None:
            continue
        bond = imported.bond(owner.ifname or "")
        assert bond is not None
        bond.ports.append(_port(profile, imported))
        used.add(profile.uuid)
    for profile in profiles:
        if profile.uuid not in used:
            imported.skip(
                profile.at, f"profile {profile.id!r} (type {profile.type})", "not part of a bond"
            )
    return imported


def _keyfile(path: Path) -> bool:
    return path.suffix in (".nmconnection", "") and path.suffix != ".tmp"


def _profile(file: IniFile) -> _Profile:
    connection = file.section("connection")
    if connection is None:
        raise SourceError(At(str(file.path), 1), "no [connection] section: not a keyfile")

    def get(key: str) -> str | None:
        entry = connection.get(key)
        return entry.value if entry and entry.value else None

    kind = get("type") or ""
    kind = {"802-3-ethernet": "ethernet"}.get(kind, kind)
    controller = get("controller") or get("master")
    port_type = get("port-type") or get("slave-type")
    if controller and port_type not in (None, "bond"):
        controller = None  # a port of a bridge or team: not ours
    return _Profile(
        file,
        get("id") or file.path.stem,
        get("uuid") or str(file.path),
        kind,
        get("interface-name"),
        controller,
        connection.at,
    )


def _bond(profile: _Profile, imported: Imported) -> ImportedBond:
    assert profile.ifname is not None
    bond = ImportedBond(profile.ifname, profile.at)
    imported.claims.append(Claim(profile.file.path, profile.ifname))
    _skip_connection(profile, imported)
    section = profile.file.section("bond")
    for entry in section.entries if section else []:
        if entry.key in RUNTIME_OPTIONS:
            imported.skip(
                entry.at,
                f"{entry.key}={entry.value}",
                "run-time state (the kernel moves it on failover)",
            )
            continue
        row = values.option(entry.key, entry.at)
        if row.yaml_key is None:
            imported.skip(entry.at, f"{entry.key}={entry.value}", "not desired state in bondd")
            continue
        bond.options[row.kernel_name] = Sourced(
            values.option_value(row, entry.value, entry.at), entry.at
        )
    bond.options.setdefault(
        "mode", Sourced("balance-rr", profile.at, "NetworkManager's default mode")
    )
    _ethernet(profile, imported, bond)
    metric = TYPE_METRIC["bond"]
    for family in ("ipv4", "ipv6"):
        _layer3(
            profile.file, family, metric, imported, addresses=bond.addresses, routes=bond.routes
        )
    _skip_rest(
        profile.file, imported, {"connection", "bond", "ethernet", "802-3-ethernet", "ipv4", "ipv6"}
    )
    return bond


def _ethernet(profile: _Profile, imported: Imported, into: ImportedBond | ImportedVlan) -> None:
    for name in ("ethernet", "802-3-ethernet"):
        section = profile.file.section(name)
        for entry in section.entries if section else []:
            if entry.key == "mtu" and entry.value not in ("", "0", "auto"):
                into.mtu = Sourced(
                    values.integer(entry.value, entry.at, "mtu", 68, 65535), entry.at
                )
            elif entry.key == "cloned-mac-address" and ":" in entry.value:
                into.macaddress = Sourced(values.mac(entry.value, entry.at), entry.at)
            else:
                imported.skip(entry.at, f"{name}.{entry.key}={entry.value}", _WHO)


def _port(profile: _Profile, imported: Imported) -> ImportedPort:
    section = profile.file.section("ethernet") or profile.file.section("802-3-ethernet")
    mac_entry = section.get("mac-address") if section else None
    mac = values.mac(mac_entry.value, mac_entry.at) if mac_entry and mac_entry.value else None
    if profile.ifname is None and mac is None:
        raise SourceError(
            profile.at, f"port profile {profile.id!r} names neither an interface nor a MAC"
        )
    port = ImportedPort(profile.ifname or profile.id, profile.at, profile.ifname, mac)
    _skip_connection(profile, imported)
    for entry in section.entries if section else []:
        if entry.key != "mac-address":
            imported.skip(entry.at, f"ethernet.{entry.key}={entry.value}", _WHO)
    bond_port = profile.file.section("bond-port")
    for entry in bond_port.entries if bond_port else []:
        key = {"queue-id": "queue_id", "prio": "prio"}.get(entry.key)
        if key is None:
            imported.skip(entry.at, f"bond-port.{entry.key}={entry.value}", _WHO)
        elif entry.value not in ("", "0"):
            port.options[key] = Sourced(
                values.integer(entry.value, entry.at, entry.key, 0, 65535), entry.at
            )
    if profile.ifname:
        imported.claims.append(Claim(profile.file.path, profile.ifname))
    _skip_rest(profile.file, imported, {"connection", "ethernet", "802-3-ethernet", "bond-port"})
    return port


def _vlan(profile: _Profile, bonds: dict[str, _Profile], imported: Imported) -> ImportedVlan | None:
    section = profile.file.section("vlan")
    parent = section.get("parent") if section else None
    owner = bonds.get(parent.value if parent else "")
    if section is None or owner is None:
        return None
    vlan_id = section.get("id")
    if vlan_id is None:
        raise SourceError(section.at, "VLAN profile without id=")
    number = values.integer(vlan_id.value, vlan_id.at, "VLAN id", 1, 4094)
    bond = imported.bond(owner.ifname or "")
    assert bond is not None
    name = profile.ifname or f"{bond.name}.{number}"
    vlan = ImportedVlan(name, number, profile.at)
    _skip_connection(profile, imported)
    for entry in section.entries:
        if entry.key not in ("id", "parent"):
            imported.skip(entry.at, f"vlan.{entry.key}={entry.value}", _WHO)
    _ethernet(profile, imported, vlan)
    for family in ("ipv4", "ipv6"):
        _layer3(
            profile.file,
            family,
            TYPE_METRIC["vlan"],
            imported,
            addresses=vlan.addresses,
            routes=vlan.routes,
        )
    _skip_rest(
        profile.file, imported, {"connection", "vlan", "ethernet", "802-3-ethernet", "ipv4", "ipv6"}
    )
    bond.vlans.append(vlan)
    imported.claims.append(Claim(profile.file.path, name))
    return vlan


def _layer3(
    file: IniFile,
    family: str,
    type_metric: int,
    imported: Imported,
    *,
    addresses: list[Sourced[str]],
    routes: list[Sourced[RouteSpec]],
) -> None:
    section = file.section(family)
    if section is None:
        return
    method_entry = section.get("method")
    method = method_entry.value if method_entry else "auto"
    at = method_entry.at if method_entry else section.at
    if method in ("auto", "dhcp", "shared", "link-local"):
        imported.skip(
            at, f"{family}.method={method}", "address configuration by DHCP/RA is not bondd's"
        )
    metric_entry = section.get("route-metric")
    metric = type_metric
    if metric_entry and metric_entry.value not in ("", "-1"):
        metric = values.integer(metric_entry.value, metric_entry.at, "route-metric", 0, 2**32 - 1)
    note = (
        "" if metric_entry else f"NetworkManager's default metric for this device type is {metric}"
    )
    gateway = section.get("gateway")
    for entry in section.entries:
        key = entry.key
        if key.startswith(("address", "addresses")) and key.rstrip("0123456789") in (
            "address",
            "addresses",
        ):
            address, _, via = entry.value.partition(",")
            addresses.append(Sourced(values.cidr(address, entry.at), entry.at))
            if via and gateway is None:
                gateway_ip = values.ip(via, entry.at)
                routes.append(Sourced(values.default_route(gateway_ip, metric), entry.at, note))
        elif key.startswith("route") and key[5:].isdigit():
            routes.append(Sourced(_route(entry.value, metric, entry.at), entry.at, note))
        elif key.startswith("route") and key.endswith("_options"):
            imported.skip(
                entry.at, f"{family}.{key}={entry.value}", "route options bondd does not carry over"
            )
        elif key not in _IP_CONSUMED:
            imported.skip(entry.at, f"{family}.{key}={entry.value}", _who(key))
    if gateway is not None and gateway.value:
        routes.append(
            Sourced(
                values.default_route(values.ip(gateway.value, gateway.at), metric), gateway.at, note
            )
        )


def _route(text: str, metric: int, at: At) -> RouteSpec:
    parts = [p.strip() for p in text.split(",")]
    destination = parts[0]
    via = parts[1] if len(parts) > 1 and parts[1] not in ("", "0.0.0.0", "::") else None
    if len(parts) > 2 and parts[2]:
        metric = values.integer(parts[2], at, "route metric", 0, 2**32 - 1)
    return values.route(destination, via, at, metric)


def _who(key: str) -> str:
    if key.startswith("dns"):
        return "DNS is left to the resolver (systemd-resolved, resolv.conf)"
    if key.startswith("dhcp"):
        return "DHCP is not bondd's"
    return _WHO


def _skip_connection(profile: _Profile, imported: Imported) -> None:
    connection = profile.file.section("connection")
    assert connection is not None
    for entry in connection.entries:
        if entry.key not in _CONSUMED_CONNECTION:
            imported.skip(entry.at, f"connection.{entry.key}={entry.value}", _WHO)


def _skip_rest(file: IniFile, imported: Imported, handled: set[str]) -> None:
    seen: set[str] = set()
    for section in file.sections:
        if section.name in handled or section.name in seen:
            continue
        seen.add(section.name)
        merged: Section | None = file.section(section.name)
        for entry in merged.entries if merged else []:
            imported.skip(entry.at, f"{section.name}.{entry.key}={entry.value}", _WHO)
