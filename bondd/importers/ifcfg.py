"""RHEL's /etc/sysconfig/network-scripts/ifcfg-* (and route-*) files -> `Imported`.

A bond is a file with `TYPE=Bond` or `BONDING_MASTER=yes`, its options in
`BONDING_OPTS` (quoted or not: `BONDING_OPTS="mode=1 miimon=100"`, numbers
or names, sysfs units); its ports are files with `MASTER=` the bond (and
`SLAVE=yes`), matched by `DEVICE=` and, where given, `HWADDR=`. Addresses
are `IPADDR[n]` with `PREFIX[n]` or `NETMASK[n]`, the gateway `GATEWAY`,
IPv6 `IPV6ADDR`, `IPV6ADDR_SECONDARIES`, `IPV6_DEFAULTGW`; routes come from
route-DEV and route6-DEV. VLANs are `VLAN=yes` files on the bond. On RHEL 8
and 9 NetworkManager reads these files (ifcfg-rh), so routes get its
metric for the device type (bond 300, VLAN 400) unless `IPV4_ROUTE_METRIC`
says otherwise; the import writes that metric. Pure apart from reading.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence, Set
from dataclasses import dataclass
from pathlib import Path

from bondd.importers import values
from bondd.importers.files import collect
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
from bondd.importers.networkmanager import TYPE_METRIC  # RHEL's ifcfg files are NetworkManager's
from bondd.model import RouteSpec
from bondd.options import RUNTIME_OPTIONS

DEFAULTS = (Path("/etc/sysconfig/network-scripts"),)
# Read by _layer3 for a bond and a VLAN alike (besides IPADDRn, PREFIXn, ...).
_LAYER3_KEYS = frozenset(
    {
        "BOOTPROTO",
        "MTU",
        "MACADDR",
        "IPV4_ROUTE_METRIC",
        "IPV6ADDR",
        "IPV6ADDR_SECONDARIES",
        "IPV6_DEFAULTGW",
    }
)
_IDENTITY = frozenset(
    {
        "DEVICE",
        "TYPE",
        "NAME",
        "UUID",
        "BONDING_MASTER",
        "MASTER",
        "MASTER_UUID",
        "SLAVE",
        "VLAN",
        "PHYSDEV",
        "VLAN_ID",
    }
)
_L3 = re.compile(r"(IPADDR|PREFIX|NETMASK|GATEWAY)(\d*)")


@dataclass
class _Var:
    value: str
    at: At


@dataclass
class _Ifcfg:
    path: Path
    vars: dict[str, _Var]

    @property
    def device(self) -> str:
        var = self.vars.get("DEVICE")
        return var.value if var and var.value else self.path.name.removeprefix("ifcfg-")

    def get(self, key: str) -> str | None:
        var = self.vars.get(key)
        return var.value if var else None

    def yes(self, key: str) -> bool:
        return (self.get(key) or "").lower() in ("yes", "true", "1")

    @property
    def at(self) -> At:
        return At(str(self.path), 1)


def parse(text: str, file: str) -> dict[str, _Var]:
    found: dict[str, _Var] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        at = At(file, number)
        match = re.fullmatch(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)", line)
        if match is None:
            raise SourceError(at, f"expected KEY=value, got {line!r}")
        try:
            words = shlex.split(match.group(2), comments=True)
        except ValueError as exc:
            raise SourceError(at, f"{match.group(1)}: {exc}", "close the quote") from None
        found[match.group(1)] = _Var(" ".join(words), at)
    return found


def _read(path: Path) -> _Ifcfg:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(At(str(path), 0), f"cannot read the file: {exc}") from None
    return _Ifcfg(path, parse(text, str(path)))


def load(paths: Sequence[Path] = ()) -> Imported:
    imported = Imported("ifcfg")
    all_files = collect(
        paths, DEFAULTS, lambda p: p.name.startswith(("ifcfg-", "route-", "route6-"))
    )
    files = [_read(p) for p in all_files if p.name.startswith("ifcfg-")]
    routes = {p.name: p for p in all_files if p.name.startswith(("route-", "route6-"))}
    imported.files = all_files
    used: set[Path] = set()
    bonds = [f for f in files if (f.get("TYPE") or "").lower() == "bond" or f.yes("BONDING_MASTER")]
    uuids = {f.get("UUID"): f.device for f in bonds if f.get("UUID")}
    for file in bonds:
        bond = ImportedBond(file.device, file.at)
        _bond_opts(file, bond, imported)
        _layer3(file, bond, "bond", routes, imported, used=used)
        _rest(
            file,
            imported,
            {"BONDING_OPTS", *_LAYER3_KEYS},
        )
        imported.bonds.append(bond)
        imported.claims.append(Claim(file.path, bond.name))
        used.add(file.path)
    for file in files:
        master = file.get("MASTER") or uuids.get(file.get("MASTER_UUID"))
        owner = imported.bond(master or "")
        if owner is not None and file.path not in used:
            hwaddr = file.vars.get("HWADDR")
            mac = values.mac(hwaddr.value, hwaddr.at) if hwaddr and hwaddr.value else None
            name = file.get("DEVICE")
            if name is None and mac is None:
                raise SourceError(file.at, "a port file with neither DEVICE= nor HWADDR=")
            owner.ports.append(
                ImportedPort(
                    name or file.device,
                    (file.vars.get("MASTER") or file.vars["MASTER_UUID"]).at,
                    name,
                    mac,
                )
            )
            if name:
                imported.claims.append(Claim(file.path, name))
            _rest(file, imported, {"HWADDR", "BOOTPROTO"})
            used.add(file.path)
        elif file.yes("VLAN") and file.path not in used:
            physdev = file.get("PHYSDEV") or file.device.rpartition(".")[0]
            parent = imported.bond(physdev)
            if parent is None:
                continue
            vlan_id = file.vars.get("VLAN_ID")
            number = values.integer(
                vlan_id.value if vlan_id else file.device.rpartition(".")[2],
                vlan_id.at if vlan_id else file.at,
                "VLAN id",
                1,
                4094,
            )
            vlan = ImportedVlan(file.device, number, file.at)
            _layer3(file, vlan, "vlan", routes, imported, used=used)
            _rest(
                file,
                imported,
                _LAYER3_KEYS,
            )
            parent.vlans.append(vlan)
            imported.claims.append(Claim(file.path, vlan.name))
            used.add(file.path)
    for file in files:
        if file.path not in used and file.device != "lo":
            imported.skip(file.at, file.path.name, "not a bond, port or VLAN on a bond")
    return imported


def _bond_opts(file: _Ifcfg, bond: ImportedBond, imported: Imported) -> None:
    var = file.vars.get("BONDING_OPTS")
    for word in var.value.split() if var else []:
        assert var is not None
        name, sep, raw = word.partition("=")
        if not sep:
            raise SourceError(var.at, f"BONDING_OPTS: {word!r} is not OPTION=VALUE")
        if name in RUNTIME_OPTIONS:
            imported.skip(
                var.at, f"BONDING_OPTS {word}", "run-time state (the kernel moves it on failover)"
            )
            continue
        row = values.option(name, var.at)
        value = values.option_value(row, raw, var.at)
        if row.kernel_name == "arp_ip_target" and "arp_ip_target" in bond.options:
            old = bond.options["arp_ip_target"].value
            assert isinstance(old, tuple) and isinstance(value, tuple)
            value = old + value
        bond.options[row.kernel_name] = Sourced(value, var.at)
    at = var.at if var else file.at
    bond.options.setdefault(
        "mode", Sourced("balance-rr", at, "mode unset in BONDING_OPTS: the kernel's default")
    )


def _layer3(
    file: _Ifcfg,
    into: ImportedBond | ImportedVlan,
    kind: str,
    routes: dict[str, Path],
    imported: Imported,
    *,
    used: set[Path],
) -> None:
    metric_var = file.vars.get("IPV4_ROUTE_METRIC")
    metric = TYPE_METRIC[kind]
    note = f"NetworkManager (ifcfg-rh) gives this device type metric {metric}"
    if metric_var and metric_var.value not in ("", "-1"):
        metric = values.integer(metric_var.value, metric_var.at, "IPV4_ROUTE_METRIC", 0, 2**32 - 1)
        note = ""
    if (file.get("BOOTPROTO") or "none").lower() in ("dhcp", "bootp"):
        imported.skip(
            file.vars["BOOTPROTO"].at, f"BOOTPROTO={file.get('BOOTPROTO')}", "DHCP is not bondd's"
        )
    for key, var in file.vars.items():
        match = _L3.fullmatch(key)
        if match is None or match.group(1) != "IPADDR":
            continue
        suffix = match.group(2)
        prefix = file.get(f"PREFIX{suffix}")
        netmask = file.get(f"NETMASK{suffix}")
        if prefix is None and netmask is None:
            raise SourceError(
                var.at, f"{key} without PREFIX{suffix} or NETMASK{suffix}", "add PREFIX"
            )
        into.addresses.append(
            Sourced(values.cidr(var.value, var.at, netmask=netmask, prefix=prefix), var.at)
        )
        gateway = file.vars.get(f"GATEWAY{suffix}")
        if gateway is not None and (suffix or "GATEWAY" in file.vars):
            route = values.default_route(values.ip(gateway.value, gateway.at), metric)
            if route not in [r.value for r in into.routes]:
                into.routes.append(Sourced(route, gateway.at, note))
    if "GATEWAY" in file.vars and not into.routes:
        gateway = file.vars["GATEWAY"]
        into.routes.append(
            Sourced(
                values.default_route(values.ip(gateway.value, gateway.at), metric), gateway.at, note
            )
        )
    for key in ("IPV6ADDR", "IPV6ADDR_SECONDARIES"):
        six = file.vars.get(key)
        for address in six.value.split() if six else []:
            assert six is not None
            into.addresses.append(Sourced(values.cidr(address, six.at, prefix="64"), six.at))
    gw6 = file.vars.get("IPV6_DEFAULTGW")
    if gw6 is not None:
        into.routes.append(
            Sourced(
                values.default_route(values.ip(gw6.value.split("%")[0], gw6.at), metric),
                gw6.at,
                note,
            )
        )
    if "MTU" in file.vars:
        into.mtu = Sourced(
            values.integer(file.vars["MTU"].value, file.vars["MTU"].at, "MTU", 68, 65535),
            file.vars["MTU"].at,
        )
    if "MACADDR" in file.vars:
        into.macaddress = Sourced(
            values.mac(file.vars["MACADDR"].value, file.vars["MACADDR"].at), file.vars["MACADDR"].at
        )
    for name in (f"route-{into.name}", f"route6-{into.name}"):
        path = routes.get(name)
        if path is not None:
            used.add(path)
            into.routes += _route_file(path, metric, note)


def _route_file(path: Path, metric: int, note: str) -> list[Sourced[RouteSpec]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(At(str(path), 0), f"cannot read the file: {exc}") from None
    if re.search(r"^\s*ADDRESS\d+=", text, re.MULTILINE):
        found = parse(text, str(path))
        out = []
        for key, var in found.items():
            if not key.startswith("ADDRESS"):
                continue
            n = key.removeprefix("ADDRESS")
            mask = found.get(f"NETMASK{n}")
            prefix = values.cidr(
                var.value, var.at, netmask=mask.value if mask else "255.255.255.255"
            )
            via = found.get(f"GATEWAY{n}")
            own = found.get(f"METRIC{n}")
            number = values.integer(own.value, own.at, "METRIC", 0, 2**32 - 1) if own else metric
            out.append(
                Sourced(
                    values.route(prefix, via.value if via else None, var.at, number),
                    var.at,
                    "" if own else note,
                )
            )
        return out
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        at = At(str(path), number)
        words = line.split()
        fields = dict(zip(words[1::2], words[2::2], strict=False))
        unknown = set(fields) - {"via", "dev", "metric", "table"}
        if unknown:
            raise SourceError(
                at,
                f"route option {sorted(unknown)[0]!r} is not carried over",
                "add this route to the bondd YAML by hand",
            )
        own_metric = fields.get("metric")
        value = values.integer(own_metric, at, "metric", 0, 2**32 - 1) if own_metric else metric
        table = fields.get("table")
        out.append(
            Sourced(
                values.route(
                    words[0],
                    fields.get("via"),
                    at,
                    value,
                    int(table) if table and table.isdigit() else None,
                ),
                at,
                "" if own_metric else note,
            )
        )
    return out


def _rest(file: _Ifcfg, imported: Imported, handled: Set[str]) -> None:
    for key, var in file.vars.items():
        if key in _IDENTITY or key in handled or _L3.fullmatch(key):
            continue
        why = "ifcfg setting"
        if key.startswith("DNS") or key in ("DOMAIN", "PEERDNS", "SEARCH"):
            why = "DNS is left to the resolver"
        elif key in ("ONBOOT", "NM_CONTROLLED", "USERCTL"):
            why = "whether and by whom the device is brought up; bondd always manages it"
        imported.skip(var.at, f"{key}={var.value}", why)
