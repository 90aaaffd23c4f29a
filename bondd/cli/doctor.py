"""`bondctl doctor`: check the host around bondd and explain each finding with a fix.

Gathers the facts (the kernel's bonds and links, the bonding driver's
settings, the configuration, the state store, other network agents' files,
port speeds) and hands them to `bondd.doctor`, which judges. Exit 0 when
healthy, 1 with warnings only, 2 with problems; `--json` for machines.
Reads only. `--root DIR` reads other tools' configuration files from DIR
instead of / (an image or chroot); the kernel facts are always this host's.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bondd import hostconf
from bondd.cli import context, output
from bondd.doctor import HostFacts, PendingFacts, diagnose, exit_code, to_json, to_text
from bondd.engine.store import Store
from bondd.errors import BonddError
from bondd.model import ActualState
from bondd.protocol import daemon_running

if TYPE_CHECKING:
    from bondd.kernel.hostfacts import BondingModule


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "doctor",
        parents=[parent],
        help="check the host for bonding traps and explain how to fix each",
        description="Check the bonding driver's options, other network agents managing"
        " bondd's interfaces, udev MAC policy, risky bond settings, addresses on ports and"
        " pending transactions. Exit 0 healthy, 1 warnings, 2 problems.",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path("/"),
        metavar="DIR",
        help="read other tools' configuration files under DIR instead of / (an image, a chroot)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    findings = diagnose(_facts(args))
    if args.json:
        output.print_json(to_json(findings))
    else:
        print(to_text(findings))
    return exit_code(findings)


def _facts(args: argparse.Namespace) -> HostFacts:
    """Everything the doctor judges, read from the kernel, the files under --root and the store."""
    # Imported here: only commands that talk to the kernel pay for it.
    from bondd.kernel import hostfacts  # noqa: PLC0415
    from bondd.kernel.linkspeed import read_link_speed  # noqa: PLC0415

    with context.kernel(args) as host:
        actual = host.reader.read()
        store = host.store
    configured_bonds, configured_ports, config_error = _configuration(args)
    managed, pending = _store(args, store)
    module = hostfacts.bonding_module()
    max_bonds, source = _max_bonds(args, module)
    ours = _our_links(actual, configured_bonds | managed, configured_ports)
    by_index = {link.ifindex: link.name for link in actual.links}
    by_index.update({bond.ifindex: bond.name for bond in actual.bonds})
    return HostFacts(
        actual=actual,
        configured_bonds=configured_bonds,
        configured_ports=configured_ports,
        config_error=config_error,
        managed=managed,
        module_loaded=module.loaded,
        max_bonds=max_bonds,
        max_bonds_source=source,
        nm_files=hostconf.networkmanager_files(args.root),
        nm_running=hostconf.networkmanager_running(args.root),
        nm_managed=_networkmanager_managed(args, ours, by_index),
        networkd_files=hostconf.networkd_files(args.root, ours.values()),
        networkd_states={
            by_index[index]: state
            for index, state in hostconf.networkd_states(args.root).items()
            if index in by_index
        },
        mac_policy=_mac_policies(args, {b.name for b in actual.bonds} | configured_bonds),
        mac_assigned_by_user=frozenset(
            b.name
            for b in actual.bonds
            if hostfacts.addr_assign_type(b.name) == hostfacts.NET_ADDR_SET
        ),
        speeds={
            port.name: read_link_speed(port.name).speed_mbps
            for bond in actual.bonds
            for port in bond.ports
        },
        pending=pending,
        now=time.time(),
    )


def _max_bonds(args: argparse.Namespace, module: BondingModule) -> tuple[int, str | None]:
    """How many bonds the driver creates when it loads, and what says so."""
    if module.sysfs_max_bonds is not None:
        return module.sysfs_max_bonds, "the loaded module (sysfs)"
    setting = hostconf.bonding_max_bonds(args.root, module.cmdline_options)
    return setting.max_bonds, setting.source


def _networkmanager_managed(
    args: argparse.Namespace, ours: Iterable[str], by_index: Mapping[int, str]
) -> dict[str, bool]:
    """NetworkManager's own record of whether it manages each of our interfaces."""
    managed = {}
    for name in ours:
        index = next((i for i, n in by_index.items() if n == name), None)
        if index is not None:
            verdict = hostconf.networkmanager_manages(args.root, index)
            if verdict is not None:
                managed[name] = verdict
    return managed


def _mac_policies(args: argparse.Namespace, bonds: set[str]) -> dict[str, tuple[str, str]]:
    """bond -> (MACAddressPolicy, the .link file) where udev would give it a MAC of its own."""
    policies = {}
    for bond in sorted(bonds):
        found = hostconf.bond_mac_policy(args.root, bond)
        if found is not None and not found.sets_mac:
            policies[bond] = (found.policy, found.file)
    return policies


def _configuration(args: argparse.Namespace) -> tuple[frozenset[str], frozenset[str], str | None]:
    try:
        desired = context.desired(args)
    except BonddError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        return frozenset(), frozenset(), f"{exc.message}{hint}"
    ports = frozenset(
        name for bond in desired.bonds for port in bond.ports if (name := port.match.exact_name)
    )
    return frozenset(b.name for b in desired.bonds), ports, None


def _store(args: argparse.Namespace, store: Store) -> tuple[frozenset[str], PendingFacts | None]:
    try:
        ownership = store.ownership()
        pending = store.pending()
    except BonddError:
        return frozenset(), None
    managed = frozenset(ownership.owned) | frozenset(ownership.adopted)
    if pending is None:
        return managed, None
    alive = (
        (pending.runner is not None and pending.runner.alive())
        or context.guard_alive(pending.guard)
        or daemon_running(args.run_dir)
    )
    return managed, PendingFacts(
        txn=pending.txn,
        phase=pending.phase.value,
        deadline=pending.deadline,
        process_alive=alive,
    )
    return True


def _our_links(
    actual: ActualState, bonds: frozenset[str], ports: frozenset[str]
) -> dict[str, hostconf.Link]:
    """bondd's bonds and ports as the [Match] sections of other tools see them."""
    found: dict[str, hostconf.Link] = {}
    for name in bonds:
        bond = actual.bond(name)
        found[name] = hostconf.Link(name, bond.macaddress if bond else None, "bond")
        for port in bond.ports if bond is not None else ():
            found[port.name] = hostconf.Link(port.name, port.identity_mac)
    for name in ports:
        if name not in found:
            link = actual.link(name)
            found[name] = hostconf.Link(name, link.identity_mac if link else None)
    return found
