"""systemd-networkd `.netdev` and `.network` files -> `Imported`.

A bond is a `.netdev` with `Kind=bond` and its `[Bond]` keys; its ports are
the links whose first matching `.network` says `Bond=` that bond (matched
by `[Match] Name=`, `MACAddress=` or `PermanentMACAddress=`), with
`PrimarySlave=yes` making one of them the primary. The bond's own
`.network` carries addresses, `Gateway=`, `[Route]`s, `VLAN=`s and `[Link]
MTUBytes=`. Times follow systemd.time(7): a bare number is seconds.

Defaults: networkd sends the kernel only the options a file sets (and
never a zero `MIIMonitorSec=`), so an unset option is the kernel's default
and stays unset, except `MIIMonitorSec=`: systemd.netdev(5) documents 0,
yet the kernel keeps its 100, so the import writes 100 with a comment
saying why. Files in /etc shadow same-named files in /run and /usr/lib.
Pure apart from reading the files.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bondd.importers import values
from bondd.importers.files import collect, shadowed
from bondd.importers.ini import Entry, IniFile, read
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

DEFAULTS = (
    Path("/etc/systemd/network"),
    Path("/run/systemd/network"),
    Path("/usr/lib/systemd/network"),
)

# [Bond] key -> kernel option name.
BOND_KEYS = {
    "Mode": "mode",
    "TransmitHashPolicy": "xmit_hash_policy",
    "LACPTransmitRate": "lacp_rate",
    "MIIMonitorSec": "miimon",
    "UpDelaySec": "updelay",
    "DownDelaySec": "downdelay",
    "LearnPacketIntervalSec": "lp_interval",
    "AdSelect": "ad_select",
    "AdActorSystemPriority": "ad_actor_sys_prio",
    "AdUserPortKey": "ad_user_port_key",
    "AdActorSystem": "ad_actor_system",
    "FailOverMACPolicy": "fail_over_mac",
    "ARPValidate": "arp_validate",
    "ARPIntervalSec": "arp_interval",
    "ARPIPTargets": "arp_ip_target",
    "ARPAllTargets": "arp_all_targets",
    "PrimaryReselectPolicy": "primary_reselect",
    "ResendIGMP": "resend_igmp",
    "PacketsPerSlave": "packets_per_slave",
    "GratuitousARP": "num_grat_arp",
    "AllSlavesActive": "all_slaves_active",
    "DynamicTransmitLoadBalancing": "tlb_dynamic_lb",
    "MinLinks": "min_links",
    "ARPMissedMax": "arp_missed_max",
    "PeerNotifyDelaySec": "peer_notif_delay",
}
_TIME_KEYS = frozenset(k for k in BOND_KEYS if k.endswith("Sec"))
_MIIMON_NOTE = (
    "MIIMonitorSec= {how}: systemd.netdev(5) says 0, but networkd sends no zero"
    " and the kernel keeps its default 100"
)


@dataclass
class _Network:
    file: IniFile
    names: list[str]
    macs: list[str]
    match_at: At

    def matches(self, name: str) -> bool:
        return not self.macs and any(fnmatch.fnmatchcase(name, n) for n in self.names)

    def get(self, section: str, key: str) -> Entry | None:
        found = self.file.section(section)
        return found.get(key) if found else None


def load(paths: Sequence[Path] = ()) -> Imported:
    imported = Imported("networkd")
    files = shadowed(collect(paths, DEFAULTS, lambda p: p.suffix in (".netdev", ".network")))
    imported.files = files
    netdevs = [read(p) for p in files if p.suffix == ".netdev"]
    networks = [_network(read(p)) for p in files if p.suffix == ".network"]
    kinds = {_name(f): f for f in netdevs}
    used: set[Path] = set()
    for netdev in netdevs:
        kind = _get(netdev, "NetDev", "Kind")
        if kind is not None and kind.value == "bond":
            imported.bonds.append(_bond(netdev, networks, kinds, imported, used))
            used.add(netdev.path)
    for path in files:
        if path not in used:
            imported.skip(At(str(path), 1), path.name, "not about a bond or its ports and VLANs")
    return imported


def _get(file: IniFile, section: str, key: str) -> Entry | None:
    found = file.section(section)
    return found.get(key) if found else None


def _name(netdev: IniFile) -> str:
    entry = _get(netdev, "NetDev", "Name")
    if entry is None or not entry.value:
        raise SourceError(At(str(netdev.path), 1), "[NetDev] has no Name=")
    return entry.value


def _network(file: IniFile) -> _Network:
    match = file.section("Match")
    names: list[str] = []
    macs: list[str] = []
    at = match.at if match else At(str(file.path), 1)
    for entry in match.entries if match else []:
        if entry.key == "Name":
            names = [] if not entry.value else names + entry.value.split()
        elif entry.key in ("MACAddress", "PermanentMACAddress"):
            macs += [values.mac(m, entry.at) for m in entry.value.split()]
    return _Network(file, names, macs, at)


def _first(networks: list[_Network], name: str) -> _Network | None:
    """networkd applies the first .network (by file name) that matches a link."""
    return next((n for n in networks if n.matches(name)), None)


def _bond(
    netdev: IniFile,
    networks: list[_Network],
    netdevs: dict[str, IniFile],
    imported: Imported,
    used: set[Path],
) -> ImportedBond:
    name = _name(netdev)
    name_entry = _get(netdev, "NetDev", "Name")
    bond = ImportedBond(name, name_entry.at if name_entry else At(str(netdev.path), 1))
    imported.claims.append(Claim(netdev.path, name))
    _netdev_common(netdev, bond, imported)
    section = netdev.section("Bond")
    for entry in section.entries if section else []:
        kernel_name = BOND_KEYS.get(entry.key)
        if kernel_name is None:
            raise SourceError(entry.at, f"[Bond] {entry.key}= is not a bond option bondd knows")
        if entry.value == "":
            bond.options.pop(kernel_name, None)
            continue
        row = values.option(kernel_name, entry.at)
        value = values.option_value(
            row, entry.value, entry.at, systemd_time=entry.key in _TIME_KEYS
        )
        if kernel_name == "miimon" and value == 0:
            bond.options["miimon"] = Sourced(100, entry.at, _MIIMON_NOTE.format(how="=0"))
            continue
        bond.options[kernel_name] = Sourced(value, entry.at)
    bond.options.setdefault(
        "mode", Sourced("balance-rr", bond.at, "Mode= unset: the kernel's default")
    )
    if "miimon" not in bond.options and "arp_interval" not in bond.options:
        bond.options["miimon"] = Sourced(100, bond.at, _MIIMON_NOTE.format(how="unset"))
    for network in networks:
        bond_entry = network.get("Network", "Bond")
        if bond_entry is None or bond_entry.value != name:
            continue
        used.add(network.file.path)
        _ports(network, bond, networks, imported)
    own = _first(networks, name)
    if own is not None:
        used.add(own.file.path)
        imported.claims.append(Claim(own.file.path, name))
        _layer3(own, bond, imported)
        network_section = own.file.section("Network")
        for entry in network_section.all("VLAN") if network_section else []:
            for vlan_name in entry.value.split():
                vlan = _vlan(vlan_name, entry.at, netdevs, networks, imported, used=used)
                bond.vlans.append(vlan)
    return bond


def _netdev_common(netdev: IniFile, into: ImportedBond | ImportedVlan, imported: Imported) -> None:
    section = netdev.section("NetDev")
    for entry in section.entries if section else []:
        if entry.key == "MACAddress" and entry.value not in ("", "none"):
            into.macaddress = Sourced(values.mac(entry.value, entry.at), entry.at)
        elif entry.key == "MTUBytes" and entry.value:
            into.mtu = Sourced(
                values.integer(entry.value, entry.at, "MTUBytes", 68, 65535), entry.at
            )
        elif entry.key not in ("Name", "Kind", "Description"):
            imported.skip(entry.at, f"[NetDev] {entry.key}={entry.value}", "networkd setting")
    for other in netdev.sections:
        if other.name not in ("NetDev", "Bond", "VLAN"):
            for entry in other.entries:
                imported.skip(
                    entry.at, f"[{other.name}] {entry.key}={entry.value}", "networkd setting"
                )


def _ports(
    network: _Network, bond: ImportedBond, networks: list[_Network], imported: Imported
) -> None:
    path = network.file.path
    primary = network.get("Network", "PrimarySlave")
    active = network.get("Network", "ActiveSlave")
    if active is not None and values.flag(active.value, active.at, "ActiveSlave"):
        imported.skip(
            active.at,
            "ActiveSlave=yes",
            "run-time state (the kernel moves the active port on failover)",
        )
    found: list[ImportedPort] = []
    if network.macs:
        for mac in network.macs:
            port_id = f"{bond.name}-port-{mac.replace(':', '')}"
            port = ImportedPort(
                port_id,
                network.match_at,
                network.names[0] if len(network.names) == 1 else None,
                mac,
            )
            found.append(port)
    else:
        for pattern in network.names:
            winner = _first(networks, pattern)
            if winner is not None and winner is not network and "*" not in pattern:
                continue  # an earlier file configures this link; networkd ignores this one for it
            glob = any(c in pattern for c in "*?[")
            port_id = f"{bond.name}-{pattern.strip('*?[]') or 'port'}" if glob else pattern
            found.append(ImportedPort(port_id, network.match_at, pattern))
    if not network.names and not network.macs:
        raise SourceError(network.match_at, "a port .network without [Match] Name= or MACAddress=")
    if primary is not None and values.flag(primary.value, primary.at, "PrimarySlave") and found:
        bond.options["primary"] = Sourced(found[0].id, primary.at)
    bond.ports += found
    # Every link this file matches is a port of the bond: the file is the bond's to take.
    imported.claims += [Claim(path, port.name or port.id) for port in found]
    for section in network.file.sections:
        for entry in section.entries:
            if section.name == "Match" and entry.key in (
                "Name",
                "MACAddress",
                "PermanentMACAddress",
            ):
                continue
            if section.name == "Network" and entry.key in ("Bond", "PrimarySlave", "ActiveSlave"):
                continue
            imported.skip(
                entry.at,
                f"[{section.name}] {entry.key}={entry.value}",
                "networkd setting on a port",
            )


def _layer3(network: _Network, into: ImportedBond | ImportedVlan, imported: Imported) -> None:
    for section in network.file.sections:
        for entry in section.entries:
            key = f"[{section.name}] {entry.key}"
            if section.name == "Match" and entry.key == "Name":
                continue
            if section.name in ("Network", "Address") and entry.key == "Address":
                into.addresses += [
                    Sourced(values.cidr(a, entry.at), entry.at) for a in entry.value.split()
                ]
            elif section.name == "Network" and entry.key == "Gateway":
                route = values.default_route(values.ip(entry.value, entry.at))
                into.routes.append(Sourced(route, entry.at))
            elif section.name == "Network" and entry.key in ("VLAN", "Bond"):
                continue
            elif section.name == "Link" and entry.key == "MTUBytes":
                into.mtu = Sourced(
                    values.integer(entry.value, entry.at, "MTUBytes", 68, 65535), entry.at
                )
            elif section.name == "Link" and entry.key == "MACAddress":
                into.macaddress = Sourced(values.mac(entry.value, entry.at), entry.at)
            elif section.name != "Route":
                imported.skip(entry.at, f"{key}={entry.value}", _who(section.name, entry.key))
    for section in network.file.each("Route"):
        into.routes.append(Sourced(_route(section.entries, section.at, imported), section.at))


def _route(entries: list[Entry], at: At, imported: Imported) -> RouteSpec:
    fields = {e.key: e for e in entries}
    via = fields.get("Gateway")
    to = fields.get("Destination")
    metric = fields.get("Metric")
    table = fields.get("Table")
    for entry in entries:
        if entry.key not in ("Gateway", "Destination", "Metric", "Table"):
            raise SourceError(
                entry.at,
                f"[Route] {entry.key}= is not carried over by the import",
                "add this route to the bondd YAML by hand",
            )
    return values.route(
        to.value if to else "default",
        via.value if via and via.value not in ("_dhcp4", "_ipv6ra") else None,
        at,
        values.integer(metric.value, metric.at, "Metric", 0, 2**32 - 1) if metric else None,
        values.integer(table.value, table.at, "Table", 1, 2**32 - 1)
        if table and table.value.isdigit()
        else None,
    )


def _who(section: str, key: str) -> str:
    if key.startswith("DHCP") or section.startswith("DHCP"):
        return "DHCP is not bondd's"
    if key in ("DNS", "Domains") or key.startswith("DNS"):
        return "DNS is left to the resolver (systemd-resolved)"
    return "networkd setting"


def _vlan(
    name: str,
    at: At,
    netdevs: dict[str, IniFile],
    networks: list[_Network],
    imported: Imported,
    *,
    used: set[Path],
) -> ImportedVlan:
    netdev = netdevs.get(name)
    if netdev is None:
        raise SourceError(at, f"VLAN={name}: no .netdev defines {name}")
    vlan_id = _get(netdev, "VLAN", "Id")
    if vlan_id is None:
        raise SourceError(At(str(netdev.path), 1), f"{name}: [VLAN] has no Id=")
    vlan = ImportedVlan(name, values.integer(vlan_id.value, vlan_id.at, "Id", 1, 4094), vlan_id.at)
    used.add(netdev.path)
    imported.claims.append(Claim(netdev.path, name))
    _netdev_common(netdev, vlan, imported)
    network = _first(networks, name)
    if network is not None:
        used.add(network.file.path)
        imported.claims.append(Claim(network.file.path, name))
        _layer3(network, vlan, imported)
    return vlan
