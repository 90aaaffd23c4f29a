"""What the kernel says about the bonding driver itself, for `bondctl doctor`.

Whether the module is loaded, its `max_bonds` where the kernel shows it
(sysfs shows only parameters the module exports readable; 6.1's bonding
exports num_grat_arp and num_unsol_na, not max_bonds, so usually None),
the `bonding.*` options on the kernel command line (which modprobe applies
too), and how each bond got its MAC (addr_assign_type: 2 = taken from a
port, 3 = set from user space, e.g. by udev). `root` lets tests hand in a
fake /sys and /proc.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# include/uapi/linux/netdevice.h
NET_ADDR_PERM, NET_ADDR_RANDOM, NET_ADDR_STOLEN, NET_ADDR_SET = 0, 1, 2, 3


@dataclass(frozen=True)
class BondingModule:
    loaded: bool
    sysfs_max_bonds: int | None = None
    cmdline_options: dict[str, str] = field(default_factory=dict)  # bonding.X=Y on the command line


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def bonding_module(root: Path = Path("/")) -> BondingModule:
    module = root / "sys" / "module" / "bonding"
    raw = _read(module / "parameters" / "max_bonds")
    options = {}
    for word in (_read(root / "proc" / "cmdline") or "").split():
        key, sep, value = word.partition("=")
        if sep and key.startswith("bonding."):
            options[key.removeprefix("bonding.")] = value
    return BondingModule(
        loaded=module.is_dir(),
        sysfs_max_bonds=int(raw) if raw is not None and raw.lstrip("-").isdigit() else None,
        cmdline_options=options,
    )


def addr_assign_type(ifname: str, root: Path = Path("/")) -> int | None:
    raw = _read(root / "sys" / "class" / "net" / ifname / "addr_assign_type")
    return int(raw) if raw is not None and raw.isdigit() else None
