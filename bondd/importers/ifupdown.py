"""Debian's /etc/network/interfaces (ifupdown with ifenslave) -> `Imported`.

A bond is an `iface` stanza with `bond-slaves` (or ifupdown2's
`bond-ports`, ifupdown-ng's `bond-members`) or `bond-mode`; its ports are
listed there or name it with `bond-master` in their own stanza (then the
bond says `bond-slaves none`). Every other `bond-OPTION` is the kernel
option of that name, written as sysfs takes it (ifenslave writes it to
sysfs unchanged); an unset one is the kernel's default. `inet static` and
`inet6 static` give addresses, `gateway`, `mtu` and `hwaddress`; VLANs are
stanzas named BOND.ID or with `vlan-raw-device`. `source` and
`source-directory` are followed. Each stanza's lines (and its `auto` or
`allow-hotplug` line) are recorded for takeover. Pure apart from reading.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
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
from bondd.options import RUNTIME_OPTIONS

DEFAULTS = (Path("/etc/network/interfaces"),)
_STANZA = (
    "iface",
    "mapping",
    "auto",
    "source",
    "source-directory",
    "rename",
    "no-auto-down",
    "no-scripts",
)
_PORT_LISTS = ("bond-slaves", "bond-ports", "bond-members")
_COMMANDS = ("up", "down", "pre-up", "post-up", "pre-down", "post-down")


@dataclass
class _Option:
    key: str
    value: str
    at: At


@dataclass
class _Stanza:
    name: str
    family: str
    method: str
    path: Path
    first: int
    last: int
    options: list[_Option] = field(default_factory=list)
    auto_lines: list[int] = field(default_factory=list)

    @property
    def at(self) -> At:
        return At(str(self.path), self.first)

    def get(self, *keys: str) -> _Option | None:
        found = [o for o in self.options if o.key in keys]
        return found[-1] if found else None


def load(paths: Sequence[Path] = ()) -> Imported:
    imported = Imported("ifupdown")
    stanzas: list[_Stanza] = []
    autos: dict[str, list[tuple[Path, int, list[str]]]] = {}
    for path in collect(paths, DEFAULTS):
        _read(path, stanzas, autos, imported, set())
    by_name: dict[str, list[_Stanza]] = {}
    for stanza in stanzas:
        by_name.setdefault(stanza.name, []).append(stanza)
    used: set[int] = set()
    for stanza in stanzas:
        if stanza.family == "inet6" and stanza.name in {b.name for b in imported.bonds}:
            continue
        if stanza.get(*_PORT_LISTS, "bond-mode") is None or stanza.get("bond-master"):
            continue
        imported.bonds.append(_bond(stanza, stanzas, by_name, imported, used))
    claimed = {c.interface for c in imported.claims}
    for name, lines in autos.items():
        for path, number, names in lines:
            if name in claimed and set(names) <= claimed:
                imported.claims.append(Claim(path, name, number, number, whole=False))
    for stanza in stanzas:
        if id(stanza) not in used and stanza.method != "loopback":
            imported.skip(
                stanza.at,
                f"iface {stanza.name} {stanza.family} {stanza.method}",
                "not a bond, port or VLAN on a bond",
            )
    return imported


def _read(
    path: Path,
    stanzas: list[_Stanza],
    autos: dict[str, list[tuple[Path, int, list[str]]]],
    imported: Imported,
    seen: set[Path],
) -> None:
    if path in seen:
        return
    seen.add(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(At(str(path), 0), f"cannot read the file: {exc}") from None
    imported.files.append(path)
    current: _Stanza | None = None
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        at = At(str(path), number)
        head = words[0]
        if head in _STANZA or head.startswith("allow-"):
            current = None
        if head == "iface":
            if len(words) < 4:
                raise SourceError(at, "expected `iface NAME FAMILY METHOD`")
            current = _Stanza(words[1], words[2], words[3], path, number, number)
            stanzas.append(current)
        elif head == "auto" or head.startswith("allow-"):
            for name in words[1:]:
                autos.setdefault(name, []).append((path, number, words[1:]))
        elif head == "source":
            for match in sorted(
                glob.glob(str(path.parent / words[1]) if not words[1].startswith("/") else words[1])
            ):
                _read(Path(match), stanzas, autos, imported, seen)
        elif head == "source-directory":
            directory = Path(words[1]) if words[1].startswith("/") else path.parent / words[1]
            for child in sorted(directory.glob("*")) if directory.is_dir() else []:
                if re.fullmatch(r"[A-Za-z0-9_-]+", child.name):
                    _read(child, stanzas, autos, imported, seen)
        elif head in _STANZA:
            imported.skip(at, line, "ifupdown directive")
        elif current is not None:
            current.options.append(_Option(head, " ".join(words[1:]), at))
            current.last = number
        else:
            raise SourceError(at, f"option {head!r} outside an iface stanza")


def _claim(stanza: _Stanza, imported: Imported, used: set[int]) -> None:
    used.add(id(stanza))
    imported.claims.append(Claim(stanza.path, stanza.name, stanza.first, stanza.last, whole=False))


def _bond(
    stanza: _Stanza,
    stanzas: list[_Stanza],
    by_name: dict[str, list[_Stanza]],
    imported: Imported,
    used: set[int],
) -> ImportedBond:
    bond = ImportedBond(stanza.name, stanza.at)
    names: list[tuple[str, At]] = []
    for part in by_name[stanza.name]:
        _claim(part, imported, used)
        for option in part.options:
            if option.key in _PORT_LISTS:
                names += [(n, option.at) for n in option.value.split() if n != "none"]
            elif option.key.startswith("bond-"):
                _bond_option(bond, option, imported)
            else:
                _layer3(part, option, bond, imported, is_bond=True)
        _method(part, imported)
    for other in stanzas:
        master = other.get("bond-master")
        if (
            master is not None
            and master.value == stanza.name
            and other.name not in {n for n, _ in names}
        ):
            names.append((other.name, master.at))
    bond.options.setdefault(
        "mode", Sourced("balance-rr", stanza.at, "bond-mode unset: the kernel's default")
    )
    for name, at in names:
        port = ImportedPort(name, at, name)
        for part in by_name.get(name, []):
            _claim(part, imported, used)
            for option in part.options:
                if option.key == "bond-queue-id":
                    port.options["queue_id"] = Sourced(
                        values.integer(option.value, option.at, option.key, 0, 65535), option.at
                    )
                elif option.key == "bond-prio":
                    port.options["prio"] = Sourced(
                        values.integer(option.value, option.at, option.key, -(2**31), 2**31 - 1),
                        option.at,
                    )
                elif option.key not in ("bond-master", *_PORT_LISTS) and not option.key.startswith(
                    "bond-"
                ):
                    imported.skip(
                        option.at,
                        f"{option.key} {option.value}",
                        "set on a port; bondd manages the port as part of the bond",
                    )
                elif option.key.startswith("bond-") and option.key not in (
                    "bond-master",
                    *_PORT_LISTS,
                ):
                    _bond_option(bond, option, imported)
            if part.method not in ("manual",):
                imported.skip(
                    part.at,
                    f"iface {name} {part.family} {part.method}",
                    "a port carries no addresses of its own",
                )
        bond.ports.append(port)
    for other in stanzas:
        raw = other.get("vlan-raw-device", "vlan_raw_device")
        dotted = other.name.startswith(f"{stanza.name}.") and other.name.split(".", 1)[1].isdigit()
        if (raw is not None and raw.value == stanza.name) or dotted:
            _vlan(other, bond, imported, used)
    return bond


def _bond_option(bond: ImportedBond, option: _Option, imported: Imported) -> None:
    name = option.key.removeprefix("bond-").replace("-", "_")
    if name in RUNTIME_OPTIONS:
        imported.skip(
            option.at,
            f"{option.key} {option.value}",
            "run-time state (the kernel moves it on failover)",
        )
        return
    row = values.option(name, option.at)
    value = values.option_value(row, option.value, option.at)
    if row.kernel_name == "arp_ip_target" and "arp_ip_target" in bond.options:
        old = bond.options["arp_ip_target"].value
        assert isinstance(old, tuple) and isinstance(value, tuple)
        value = old + value
    bond.options[row.kernel_name] = Sourced(value, option.at)


def _method(stanza: _Stanza, imported: Imported) -> None:
    if stanza.method in ("dhcp", "auto"):
        imported.skip(
            stanza.at,
            f"iface {stanza.name} {stanza.family} {stanza.method}",
            "address configuration by DHCP/RA is not bondd's",
        )


def _layer3(
    stanza: _Stanza,
    option: _Option,
    into: ImportedBond | ImportedVlan,
    imported: Imported,
    is_bond: bool = False,
) -> None:
    key, value, at = option.key, option.value, option.at
    if key == "address" and stanza.method == "static":
        netmask = stanza.get("netmask")
        mask = netmask.value if netmask else None
        if stanza.family == "inet6" or (mask and mask.isdigit()):
            into.addresses.append(Sourced(values.cidr(value, at, prefix=mask or "64"), at))
        else:
            into.addresses.append(Sourced(values.cidr(value, at, netmask=mask), at))
    elif key in ("netmask",):
        return
    elif key == "gateway":
        metric = stanza.get("metric")
        number = values.integer(metric.value, metric.at, "metric", 0, 2**32 - 1) if metric else None
        # ifupdown (0.8, Debian 12) adds the gateway route with `onlink`.
        route = values.default_route(values.ip(value, at), number, on_link=True)
        into.routes.append(Sourced(route, at, "ifupdown adds its gateway route on-link"))
    elif key == "metric":
        return
    elif key == "mtu":
        into.mtu = Sourced(values.integer(value, at, "mtu", 68, 65535), at)
    elif key == "hwaddress":
        into.macaddress = Sourced(values.mac(value.split()[-1], at), at)
    elif key in ("vlan-raw-device", "vlan_raw_device", "vlan-id") and not is_bond:
        return
    elif key.startswith("dns-"):
        imported.skip(
            at, f"{key} {value}", "DNS is left to the resolver (resolvconf, systemd-resolved)"
        )
    elif key in _COMMANDS:
        imported.skip(at, f"{key} {value}", "a command ifupdown runs; bondd runs none")
    else:
        imported.skip(at, f"{key} {value}", "ifupdown setting")


def _vlan(stanza: _Stanza, bond: ImportedBond, imported: Imported, used: set[int]) -> None:
    existing = next((v for v in bond.vlans if v.name == stanza.name), None)
    if existing is None:
        vlan_id = stanza.get("vlan-id")
        digits = re.search(r"(\d+)$", stanza.name)
        if vlan_id is None and digits is None:
            raise SourceError(
                stanza.at, f"cannot tell the VLAN id of {stanza.name}", "add `vlan-id N`"
            )
        number = values.integer(
            vlan_id.value if vlan_id else digits.group(1) if digits else "",
            stanza.at,
            "VLAN id",
            1,
            4094,
        )
        existing = ImportedVlan(stanza.name, number, stanza.at)
        bond.vlans.append(existing)
    _claim(stanza, imported, used)
    _method(stanza, imported)
    for option in stanza.options:
        _layer3(stanza, option, existing, imported)
