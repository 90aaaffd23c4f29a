"""Other tools' configuration on this host, read from their files, for `bondctl doctor`.

Two agents configuring one interface fight: NetworkManager or
systemd-networkd re-adding a port bondd removed, readdressing it, or
recreating a bond. udev's MACAddressPolicy gives bonds a MAC of its own.
modprobe options decide whether loading the bonding driver leaves a stray
bond0 behind. All of this is visible in files, which is more robust than
asking services over D-Bus (they may be stopped now and start at the next
boot); where a running service leaves per-link state under /run, that is
read too, as proof it manages the link right now.

Only what bondd can evaluate is evaluated: a networkd or udev [Match]
section with conditions bondd cannot check (Virtualization=, Host=, ...)
and no Name or MAC condition is skipped rather than guessed. Reads only;
`root` lets tests and image checks point at another tree.
"""

from __future__ import annotations

import configparser
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MODPROBE_DIRS = (
    "etc/modprobe.d",
    "run/modprobe.d",
    "usr/local/lib/modprobe.d",
    "usr/lib/modprobe.d",
    "lib/modprobe.d",
)
SYSTEMD_NETWORK_DIRS = (
    "etc/systemd/network",
    "run/systemd/network",
    "usr/local/lib/systemd/network",
    "usr/lib/systemd/network",
    "lib/systemd/network",
)
NM_DIRS = (
    "etc/NetworkManager/system-connections",
    "run/NetworkManager/system-connections",
    "usr/lib/NetworkManager/system-connections",
)
IFCFG_DIR = "etc/sysconfig/network-scripts"
BONDING_MAX_BONDS_DEFAULT = 1  # the driver's own default: one bond0 at load time


def _files(root: Path, dirs: Iterable[str], suffix: str) -> list[Path]:
    """Files by name across dirs, the first dir's copy shadowing later ones, in name order."""
    chosen: dict[str, Path] = {}
    for directory in dirs:
        try:
            entries = sorted((root / directory).iterdir())
        except OSError:
            continue
        for path in entries:
            if path.name.endswith(suffix) and path.name not in chosen:
                # A symlink to /dev/null masks the file of that name.
                chosen[path.name] = path
    return [chosen[name] for name in sorted(chosen) if _readable(chosen[name])]


def _readable(path: Path) -> bool:
    try:
        return path.resolve() != Path("/dev/null") and path.is_file()
    except OSError:
        return False


def _ini(path: Path) -> configparser.ConfigParser | None:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(path.read_text(errors="replace"), source=str(path))
    except (OSError, configparser.Error):
        return None
    return parser


# --- modprobe ------------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleSetting:
    """The bonding driver's max_bonds as configuration would set it at the next load."""

    max_bonds: int  # effective value (the driver default when nothing sets it)
    source: str | None  # the file (or "kernel command line") that set it; None: the default


def bonding_max_bonds(root: Path, cmdline: dict[str, str] | None = None) -> ModuleSetting:
    """modprobe.d(5): every file's `options bonding ...` in name order, the command line last."""
    value, source = BONDING_MAX_BONDS_DEFAULT, None
    for path in _files(root, MODPROBE_DIRS, ".conf"):
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            words = line.split("#", 1)[0].split()
            if len(words) < 3 or words[0] != "options" or words[1] != "bonding":
                continue
            for word in words[2:]:
                key, sep, raw = word.partition("=")
                if sep and key == "max_bonds" and raw.isdigit():
                    value, source = int(raw), str(path)
    if cmdline and cmdline.get("max_bonds", "").isdigit():
        value, source = int(cmdline["max_bonds"]), "kernel command line (bonding.max_bonds)"
    return ModuleSetting(value, source)


# --- NetworkManager --------------------------------------------------------------------


def networkmanager_files(root: Path) -> dict[str, list[str]]:
    """Interface name -> NetworkManager connection files naming it (as device or controller)."""
    found: dict[str, list[str]] = {}
    for path in _files(root, NM_DIRS, ""):
        parser = _ini(path)
        if parser is None or not parser.has_section("connection"):
            continue
        section = parser["connection"]
        for key in ("interface-name", "master", "controller"):
            name = section.get(key, "").strip()
            if name:
                found.setdefault(name, []).append(str(path))
    for path in _files(root, (IFCFG_DIR,), ""):
        if not path.name.startswith("ifcfg-"):
            continue
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            key, sep, raw = line.partition("=")
            if sep and key.strip() in ("DEVICE", "MASTER"):
                name = raw.strip().strip("\"'")
                if name:
                    found.setdefault(name, []).append(str(path))
    return found


def networkmanager_running(root: Path) -> bool:
    run = root / "run" / "NetworkManager"
    return (run / "NetworkManager.pid").exists() or (run / "devices").is_dir()


def networkmanager_manages(root: Path, ifindex: int) -> bool | None:
    """NetworkManager's own per-device record: managed=true/false, None when absent."""
    parser = _ini(root / "run" / "NetworkManager" / "devices" / str(ifindex))
    if parser is None or not parser.has_section("device"):
        return None
    return parser["device"].get("managed", "").strip().lower() == "true"


# --- systemd-networkd and udev .link files -------------------------------------------------


@dataclass(frozen=True)
class Link:
    """What a [Match] section is evaluated against."""

    name: str
    mac: str | None = None
    kind: str = ""  # "bond" for bonds, "" for ports


def _globs_match(patterns: str, value: str) -> bool:
    """systemd's list of globs: any positive one matches; `!` inverts the whole list."""
    words = patterns.split()
    if not words:
        return True
    invert = words[0].startswith("!")
    if invert:
        words = [words[0][1:], *words[1:]]
    hit = any(fnmatch.fnmatchcase(value, word) for word in words if word)
    return hit != invert


_EVALUATED = {"Name", "OriginalName", "MACAddress", "PermanentMACAddress", "Kind", "Type", "Driver"}


def _matches(match: configparser.SectionProxy | None, link: Link, name_key: str) -> bool | None:
    """Whether a [Match] section selects the link; None when bondd cannot tell."""
    if match is None or not list(match.keys()):
        return True
    keys = set(match.keys())
    if not keys & {name_key, "MACAddress", "PermanentMACAddress", "Kind", "Type"}:
        return None
    for key in keys & _EVALUATED:
        value = match.get(key, "")
        if key in (name_key,) and not _globs_match(value, link.name):
            return False
        if key in ("MACAddress", "PermanentMACAddress") and (
            link.mac is None or link.mac.lower() not in value.lower().split()
        ):
            return False
        if key in ("Kind", "Type") and not _globs_match(value, link.kind or "ether"):
            return False
        if key == "Driver" and link.kind == "bond" and not _globs_match(value, "bonding"):
            return False
    return True


def networkd_files(root: Path, links: Iterable[Link]) -> dict[str, list[str]]:
    """Link name -> the .network file systemd-networkd would apply to it (the first match),
    and bond name -> .netdev files that create it."""
    found: dict[str, list[str]] = {}
    networks = [(p, _ini(p)) for p in _files(root, SYSTEMD_NETWORK_DIRS, ".network")]
    for link in links:
        for path, parser in networks:
            if parser is None:
                continue
            match = parser["Match"] if parser.has_section("Match") else None
            if _matches(match, link, "Name"):
                found.setdefault(link.name, []).append(str(path))
                break
    for path in _files(root, SYSTEMD_NETWORK_DIRS, ".netdev"):
        parser = _ini(path)
        if parser is not None and parser.has_section("NetDev"):
            name = parser["NetDev"].get("Name", "").strip()
            if name:
                found.setdefault(name, []).append(str(path))
    return found


def networkd_states(root: Path) -> dict[int, str]:
    """ifindex -> networkd's ADMIN_STATE for it (configured, unmanaged, ...) from /run."""
    states: dict[int, str] = {}
    links = root / "run" / "systemd" / "netif" / "links"
    try:
        entries = list(links.iterdir())
    except OSError:
        return states
    for path in entries:
        if not path.name.isdigit():
            continue
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("ADMIN_STATE="):
                states[int(path.name)] = line.split("=", 1)[1].strip()
    return states


@dataclass(frozen=True)
class MacPolicy:
    policy: str  # persistent, random, none, ... ("" when the file sets none)
    file: str
    sets_mac: bool  # the file sets MACAddress= itself


def bond_mac_policy(root: Path, bond: str) -> MacPolicy | None:
    """The udev .link file that would apply to a new bond of this name, and its policy."""
    link = Link(name=bond, kind="bond")
    for path in _files(root, SYSTEMD_NETWORK_DIRS, ".link"):
        parser = _ini(path)
        if parser is None:
            continue
        match = parser["Match"] if parser.has_section("Match") else None
        if not _matches(match, link, "OriginalName"):
            continue
        section = parser["Link"] if parser.has_section("Link") else None
        policy = section.get("MACAddressPolicy", "").strip() if section is not None else ""
        sets_mac = section is not None and bool(section.get("MACAddress", "").strip())
        return MacPolicy(policy, str(path), sets_mac)
    return None
