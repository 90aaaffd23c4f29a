"""A port's negotiated speed and duplex, from sysfs (no ethtool ioctl, no extra package).

The bonding driver uses them (802.3ad keys, balance-tlb weights) and an admin
compares them with the switch port, so `bondctl status` shows them. sysfs
answers EINVAL for a link without carrier and -1 / "unknown" where the
driver cannot tell; both mean "not known" here.
"""

from __future__ import annotations

from dataclasses import dataclass

from bondd.kernel import sysfs


@dataclass(frozen=True)
class LinkSpeed:
    speed_mbps: int | None = None
    duplex: str | None = None  # "full", "half"


def read_link_speed(ifname: str) -> LinkSpeed:
    return LinkSpeed(_speed(_read(ifname, "speed")), _duplex(_read(ifname, "duplex")))


def _read(ifname: str, name: str) -> str | None:
    try:
        return (sysfs.SYSFS_NET / ifname / name).read_text().strip()
    except OSError:
        return None


def _speed(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    # SPEED_UNKNOWN is -1; some drivers print it as 4294967295.
    return value if 0 < value < 0xFFFFFFFF else None


def _duplex(text: str | None) -> str | None:
    return text if text in ("full", "half") else None
