"""Bond options through sysfs, for what pyroute2's netlink map cannot carry.

pyroute2 (0.7.2 and 0.9.x alike) has no attribute for peer_notif_delay,
lacp_active, arp_missed_max, ns_ip6_target, coupled_control or the per-port
prio, so those are read and written here. sysfs shows the network namespace
that mounted it, which is the daemon's own.
"""

from __future__ import annotations

import errno
from pathlib import Path

from bondd.model import OptionValue
from bondd.options import BondOption, Kind, Scope, parse_sysfs

SYSFS_NET = Path("/sys/class/net")


def option_path(option: BondOption, ifname: str) -> Path:
    sub = "bonding" if option.scope is Scope.BOND else "bonding_slave"
    return SYSFS_NET / ifname / sub / option.kernel_name


def read_option(option: BondOption, ifname: str) -> OptionValue | None:
    """The option's canonical value, or None when this kernel lacks it."""
    try:
        text = option_path(option, ifname).read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        # Mode-specific files (ad_* outside 802.3ad) read as EINVAL or empty.
        if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
            return None
        raise
    if not text.strip() and option.kind not in (Kind.IPV4_LIST, Kind.IPV6_LIST, Kind.INTERFACE):
        return None
    return parse_sysfs(option, text)


def write_option(option: BondOption, ifname: str, value: OptionValue) -> None:
    """Set one option; raises OSError with the kernel's errno (EBUSY, ENOTEMPTY, EACCES)."""
    path = option_path(option, ifname)
    if option.kind in (Kind.IPV4_LIST, Kind.IPV6_LIST):
        # Target lists take "+addr" / "-addr" one at a time.
        current = read_option(option, ifname) or ()
        assert isinstance(current, tuple) and isinstance(value, tuple)
        for address in current:
            if address not in value:
                _write(path, f"-{address}")
        for address in value:
            if address not in current:
                _write(path, f"+{address}")
        return
    if option.kind is Kind.ENUM or option.kind is Kind.BOOL:
        # The kernel accepts the number for both; words differ between kernels.
        number = option.values[value] if isinstance(value, str) else value
        _write(path, str(number))
        return
    _write(path, str(value))


def _write(path: Path, text: str) -> None:
    with path.open("w") as handle:
        handle.write(text)


def active_port(bond: str) -> str | None:
    """The bond's active port, from one small file: failover logging must stay cheap
    when a cable flaps many times a second."""
    try:
        return (SYSFS_NET / bond / "bonding" / "active_slave").read_text().strip() or None
    except OSError:
        return None
