"""Read one bond option the way the kernel shows it, not the way bondd reads it.

(The whole host as the kernel shows it, for "identical" and "old or new"
comparisons, is `tests.kernel.harness.kernel_state`.)

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
