"""What `bondctl takeover` changes in the other manager's files so it lets go of the bonds.

Only the interfaces the import claimed (the bonds, their ports by name,
their VLANs), never others:

- NetworkManager (and RHEL's ifcfg files, which NetworkManager reads): those
  devices set unmanaged at run time (`nmcli device set IF managed no`, which
  leaves their configuration), a drop-in in /etc/NetworkManager/conf.d
  naming exactly them in `unmanaged-devices` so it stays so, then `nmcli
  general reload` (a reload, never a restart: no other device is touched).
- systemd-networkd: its files for those interfaces moved aside (renamed
  with a `.bondd-takeover` suffix, which networkd does not read); nothing is
  reloaded, so networkd lets go at its next start without touching the
  running links now.
- ifupdown: those stanzas (and their `auto`/`allow-hotplug` lines)
  commented out with a marker, so `ifup -a` skips them.

Each change is a `StagedFile` holding the old bytes, so the transaction
restores the files exactly on rollback. Reads files; writes nothing.
"""

from __future__ import annotations

import stat
from pathlib import Path

from bondd.engine.pending import StagedFile
from bondd.errors import BonddError
from bondd.importers.model import Claim, Imported

NM_DROPIN = Path("/etc/NetworkManager/conf.d/90-bondd-takeover.conf")
# Debian's NetworkManager runs ifupdown's if-post-down.d hooks on every
# device it takes down (this dispatcher script), and ifenslave's hook there
# frees a port from its bond and deletes a bond with its ports. Letting go of
# a device is such a "down" for NetworkManager, so with both present the
# hand-over would make ifenslave tear the bond down (found in the system
# tier: the bond was deleted a second after the hand-over).
NM_IFUPDOWN_DISPATCHER = Path("etc/NetworkManager/dispatcher.d/01-ifupdown")
IFENSLAVE_POST_DOWN = Path("etc/network/if-post-down.d/ifenslave")
MOVED_SUFFIX = ".bondd-takeover"
MARKER = "#bondd-takeover# "


class HandoffUnsupportedError(BonddError):
    """The source cannot be handed over automatically; the message says what to do by hand."""

    exit_code = 64


def staged_files(
    imported: Imported, nm_dropin: Path = NM_DROPIN, root: Path = Path("/")
) -> list[StagedFile]:
    """The file changes that make the source let go of exactly the imported interfaces."""
    if imported.source in ("networkmanager", "ifcfg"):
        _refuse_ifenslave_on_down(root)
        return [_networkmanager(imported, nm_dropin)]
    if imported.source == "networkd":
        return _networkd(imported)
    if imported.source == "ifupdown":
        return _ifupdown(imported)
    raise HandoffUnsupportedError(
        f"takeover --from {imported.source} is not supported: netplan regenerates its"
        " backend's files at every boot",
        "remove the bonds from /etc/netplan, save the import into /etc/bondd.d,"
        " then `bondctl apply`",
    )


def _refuse_ifenslave_on_down(root: Path) -> None:
    dispatcher, hook = root / NM_IFUPDOWN_DISPATCHER, root / IFENSLAVE_POST_DOWN
    if dispatcher.is_file() and hook.is_file():
        raise HandoffUnsupportedError(
            f"NetworkManager cannot let go of the bonds without them being deleted: its"
            f" dispatcher ({dispatcher}) runs {hook} when it lets go of a device, and that"
            " hook deletes the bond",
            "NetworkManager does not need ifenslave: purge it (`apt-get purge ifenslave`; its"
            " hooks are conffiles, which a plain remove leaves in place),"
            " then run the takeover again",
        )


def _read(path: Path) -> tuple[str | None, int | None]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    try:
        return data.decode("utf-8"), stat.S_IMODE(path.stat().st_mode)
    except UnicodeDecodeError:
        raise BonddError(f"{path} is not UTF-8 text; bondd will not rewrite it") from None


def nm_handover(dropin: Path, ports: list[str], others: list[str]) -> tuple[str, ...]:
    """The command run after the drop-in is installed and after it is removed again.

    A device that becomes unmanaged through NetworkManager's configuration
    is deconfigured (measured in the system tier: ports released, addresses
    flushed); one set unmanaged at run time (`nmcli device set IF managed
    no`) is left as it is. So the devices are let go at run time first, from
    the top down: VLANs, then the bond, then its ports. Measured with
    NetworkManager 1.42 in the system tier's guest: bond first leaves the
    bond NetworkManager created and its ports untouched (no link event);
    ports first made NetworkManager release the other port and delete the
    bond. Then the configuration is reloaded. The same command, after a
    rollback removed the drop-in, hands them back (`managed yes`).
    """
    devices = " ".join([*others, *ports])
    script = (
        f'if [ -e "{dropin}" ]; then m=no; else m=yes; fi; '
        f'for d in {devices}; do nmcli device set "$d" managed $m || true; done; '
        "nmcli general reload"
    )
    return ("/bin/sh", "-c", script)


def _networkmanager(imported: Imported, dropin: Path) -> StagedFile:
    names = sorted({name for bond in imported.bonds for name in bond.interfaces})
    ports = sorted({p.name for b in imported.bonds for p in b.ports if p.name and p.name in names})
    others = sorted(
        set(names) - set(ports), key=lambda n: (n in {b.name for b in imported.bonds}, n)
    )
    macs = sorted(
        {p.macaddress for b in imported.bonds for p in b.ports if p.macaddress and not p.name}
    )
    specs = [f"interface-name:{n}" for n in names] + [f"mac:{m}" for m in macs]
    old, mode = _read(dropin)
    text = (
        "# Written by `bondctl takeover`: bondd manages these interfaces now.\n"
        "# Remove this file and run `nmcli general reload` to give them back.\n"
        "[keyfile]\n"
        f"unmanaged-devices={';'.join(specs)}\n"
    )
    return StagedFile(str(dropin), text, old, mode, nm_handover(dropin, ports, others))


def _networkd(imported: Imported) -> list[StagedFile]:
    paths = sorted({c.path for c in imported.claims if c.whole})
    staged: list[StagedFile] = []
    for path in paths:
        old, mode = _read(path)
        if old is None:
            continue
        aside = path.with_name(path.name + MOVED_SUFFIX)
        previous, _ = _read(aside)
        staged.append(StagedFile(str(path), None, old, mode))
        staged.append(StagedFile(str(aside), old, previous, mode))
    return staged


def _ifupdown(imported: Imported) -> list[StagedFile]:
    by_file: dict[Path, list[Claim]] = {}
    for claim in imported.claims:
        by_file.setdefault(claim.path, []).append(claim)
    staged: list[StagedFile] = []
    for path, claims in sorted(by_file.items()):
        old, mode = _read(path)
        if old is None:
            continue
        lines = old.splitlines(keepends=True)
        marked = {n for c in claims for n in range(c.first, c.last + 1)}
        new = "".join(
            MARKER + line if number in marked and not line.startswith(MARKER) else line
            for number, line in enumerate(lines, 1)
        )
        if new != old:
            staged.append(StagedFile(str(path), new, old, mode))
    return staged


def describe(item: StagedFile) -> str:
    """One line for the list of changed files."""
    if item.new is None:
        return f"{item.path}: moved aside to {item.path}{MOVED_SUFFIX}"
    if item.path.endswith(MOVED_SUFFIX):
        return ""
    if item.old is None:
        return f"{item.path}: created"
    return f"{item.path}: changed"
