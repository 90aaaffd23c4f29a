"""Read a bond option the way the kernel shows it, not the way bondd reads it.

sysfs first (what an admin cats); for options sysfs lacks, `ip -j -d link`
(iproute2's own netlink decoder); for the newest attributes iproute2 6.1
cannot name either, the raw netlink attribute.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bondd.kernel.rawlink import BOND_WIRE, PORT_WIRE, RawLinkSocket, decode
from bondd.options import BondOption, Scope

# iproute2's JSON keys where they differ from the sysfs names.
_IP_KEYS = {
    "peer_notif_delay": "peer_notify_delay",
    "lacp_active": "ad_lacp_active",
    "lacp_rate": "ad_lacp_rate",
    "num_grat_arp": "num_peer_notif",
}


def ip_details(ifname: str) -> dict[str, object]:
    out = subprocess.run(
        ["ip", "-j", "-d", "link", "show", "dev", ifname],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    info = json.loads(out)[0].get("linkinfo", {})
    data = info.get("info_data") or info.get("info_slave_data") or {}
    assert isinstance(data, dict)
    return data


def kernel_text(option: BondOption, ifname: str) -> str:
    """The option's value as text: sysfs's first token, or iproute2's, or raw netlink's."""
    sub = "bonding" if option.scope is Scope.BOND else "bonding_slave"
    path = Path("/sys/class/net", ifname, sub, option.kernel_name)
    if path.exists():
        tokens = path.read_text().split()
        if option.kind.value.endswith("list"):
            return " ".join(tokens)
        return tokens[0] if tokens else ""
    data = ip_details(ifname)
    key = _IP_KEYS.get(option.kernel_name, option.kernel_name)
    if key in data:
        value = data[key]
        if isinstance(value, list):
            return " ".join(str(v) for v in value)
        return str(value)
    wire = (BOND_WIRE if option.scope is Scope.BOND else PORT_WIRE).get(option.kernel_name)
    assert wire is not None, f"no way to read {option.kernel_name} from the kernel"
    sock = RawLinkSocket()
    try:
        index = int(Path("/sys/class/net", ifname, "ifindex").read_text())
        raw = sock.dump()[index]
        attrs = raw.data if option.scope is Scope.BOND else raw.slave_data
        if wire.ifla_id not in attrs:
            return "" if wire.format == "in6-list" else "(absent)"
        value = decode(wire, attrs[wire.ifla_id])
        return " ".join(value) if isinstance(value, tuple) else str(value)
    finally:
        sock.close()


# Bonding sysfs files that move by themselves (negotiation, failover, counters):
# not part of what a rollback restores.
_VOLATILE_SYSFS = frozenset(
    {
        "active_slave",
        "mii_status",
        "ad_aggregator",
        "ad_num_ports",
        "ad_actor_key",
        "ad_partner_key",
        "ad_partner_mac",
        "ad_actor_oper_port_state",
        "ad_partner_oper_port_state",
        "link_failure_count",
        "state",
        "perm_hwaddr",
        "slaves",  # order only; membership is in `ip link`'s master
    }
)


def _ip_json(*args: str) -> list[dict[str, object]]:
    out = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=True).stdout
    data = json.loads(out or "[]")
    assert isinstance(data, list)
    return data


def _sysfs_dir(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    if not path.is_dir():
        return found
    for item in sorted(path.iterdir()):
        if item.name in _VOLATILE_SYSFS:
            continue
        try:
            found[item.name] = " ".join(item.read_text().split())
        except OSError:
            continue
    return found


def host_state(names: list[str]) -> dict[str, object]:
    """What a rollback must restore, read the way an admin reads it: `ip -j -d link`,
    `ip -j addr`, `ip -j route` and the bonding sysfs files; none of bondd's reader."""
    view: dict[str, object] = {}
    links = {str(link["ifname"]): link for link in _ip_json("-d", "link", "show")}
    addrs = {str(a["ifname"]): a for a in _ip_json("addr", "show")}
    for name in names:
        link = links.get(name)
        if link is None:
            view[name] = None
            continue
        info = link.get("linkinfo", {})
        assert isinstance(info, dict)
        flags = link.get("flags", [])
        assert isinstance(flags, list)
        entry = addrs.get(name, {}).get("addr_info", [])
        assert isinstance(entry, list)
        view[name] = {
            "up": "UP" in flags,
            "master": link.get("master"),
            "mtu": link.get("mtu"),
            "address": link.get("address"),
            "kind": info.get("info_kind"),
            "addresses": sorted(
                f"{a['local']}/{a['prefixlen']}"
                for a in entry
                if a.get("scope") != "link" and not a.get("dynamic")
            ),
            "bonding": _sysfs_dir(Path("/sys/class/net", name, "bonding")),
            "port": _sysfs_dir(Path("/sys/class/net", name, "bonding_slave")),
        }
    routes = []
    for family in ("-4", "-6"):
        for route in _ip_json(family, "route", "show", "table", "all"):
            if route.get("dev") not in names or str(route.get("dst", "")).startswith(
                ("fe80", "ff00", "multicast")
            ):
                continue
            if route.get("table") == "local":
                continue
            routes.append(
                (
                    str(route.get("dev")),
                    str(route.get("dst")),
                    str(route.get("gateway", "")),
                    str(route.get("table", "main")),
                    str(route.get("metric", "")),
                )
            )
    view["routes"] = sorted(routes)
    return view
