"""The doctor's checks of the host: configuration, driver, pending transactions, other agents.

Other agents are NetworkManager and systemd-networkd managing an interface
bondd manages too, and udev giving bonds a MAC of their own. Pure.
"""

from __future__ import annotations

import datetime as dt

from bondd.doctor.facts import Finding, HostFacts, Severity


def config(facts: HostFacts) -> list[Finding]:
    if facts.config_error is None:
        return []
    return [
        Finding(
            Severity.PROBLEM,
            "config-invalid",
            "host",
            f"the configuration does not validate: {facts.config_error}",
            "run bondctl validate and fix what it reports; until then nothing is applied",
        )
    ]


def module(facts: HostFacts) -> list[Finding]:
    if facts.max_bonds == 0:
        return []
    where = facts.max_bonds_source or "nothing sets it, so the driver default applies"
    return [
        Finding(
            Severity.WARNING,
            "max-bonds",
            "host",
            f"the bonding driver is set to create {facts.max_bonds} bond(s) when it loads"
            f" (max_bonds={facts.max_bonds}; {where}): a stray round-robin bond0 that other"
            ' tools reuse and that makes creating bond0 fail with "File exists"',
            "install /etc/modprobe.d/bondd.conf with `options bonding max_bonds=0`"
            " (bondd's packages ship it)"
            + (
                f" and remove max_bonds from {facts.max_bonds_source}"
                if facts.max_bonds_source
                else ""
            ),
        )
    ]


def pending(facts: HostFacts) -> list[Finding]:
    pending = facts.pending
    if pending is None:
        return []
    if pending.phase == "waiting" and pending.deadline > facts.now and pending.process_alive:
        when = dt.datetime.fromtimestamp(pending.deadline, dt.UTC).strftime("%H:%M:%S UTC")
        return [
            Finding(
                Severity.WARNING,
                "pending",
                "host",
                f"transaction {pending.txn} waits for confirmation; it rolls back at {when}",
                "bondctl confirm to keep the change, bondctl rollback to undo it now",
            )
        ]
    why = (
        "its confirmation deadline passed"
        if pending.phase == "waiting" and pending.deadline <= facts.now
        else "the process running it is gone"
    )
    return [
        Finding(
            Severity.PROBLEM,
            "pending",
            "host",
            f"transaction {pending.txn} ({pending.phase}) is left pending: {why}",
            "bondctl rollback (or start the bondd daemon, which rolls it back first)",
        )
    ]


def _ours(facts: HostFacts) -> dict[str, str]:
    """Interfaces bondd manages or is configured to manage -> what they are."""
    names: dict[str, str] = {}
    bonds = set(facts.configured_bonds) | set(facts.managed)
    for name in sorted(bonds):
        names[name] = "bond"
        bond = facts.actual.bond(name)
        for port in bond.ports if bond is not None else ():
            names.setdefault(port.name, f"port of {name}")
    for port_name in sorted(facts.configured_ports):
        names.setdefault(port_name, "port")
    return names


def other_agents(facts: HostFacts) -> list[Finding]:
    found: list[Finding] = []
    for name, what in _ours(facts).items():
        nm_files = facts.nm_files.get(name, [])
        nm_now = facts.nm_managed.get(name)
        if nm_files or nm_now:
            running = nm_now or (nm_now is None and facts.nm_running)
            evidence = ", ".join(nm_files) if nm_files else "NetworkManager's device record"
            found.append(
                Finding(
                    Severity.PROBLEM if running else Severity.WARNING,
                    "networkmanager",
                    name,
                    f"NetworkManager {'manages' if running else 'is configured to manage'}"
                    f" {name} ({what}) too ({evidence}): two agents on one interface undo"
                    " each other's changes",
                    f"delete those connections, or mark {name} unmanaged"
                    f" (nmcli device set {name} managed no, and unmanaged-devices in"
                    " NetworkManager.conf)",
                )
            )
        nd_files = facts.networkd_files.get(name, [])
        state = facts.networkd_states.get(name)
        active = state is not None and state not in ("unmanaged", "")
        if nd_files or active:
            evidence = ", ".join(nd_files) if nd_files else f"its state: {state}"
            found.append(
                Finding(
                    Severity.PROBLEM if active else Severity.WARNING,
                    "networkd",
                    name,
                    f"systemd-networkd {'manages' if active else 'is configured to manage'}"
                    f" {name} ({what}) too ({evidence}): two agents on one interface undo"
                    " each other's changes",
                    "remove or narrow those files' [Match] so they leave bondd's interfaces"
                    " alone, then networkctl reload",
                )
            )
    return found


def mac_policy(facts: HostFacts) -> list[Finding]:
    found: list[Finding] = []
    for bond, (policy, path) in sorted(facts.mac_policy.items()):
        if policy not in ("persistent", "random"):
            continue
        evidence = (
            f"; {bond}'s MAC was set from user space, not taken from a port"
            if bond in facts.mac_assigned_by_user
            else ""
        )
        found.append(
            Finding(
                Severity.WARNING,
                "mac-policy",
                bond,
                f"udev gives {bond} a MAC of its own (MACAddressPolicy={policy} in {path})"
                f"{evidence}: the bond's MAC then no longer follows its first port, and"
                " switches, DHCP reservations and firewall rules see an unexpected MAC",
                "add /etc/systemd/network/05-bondd-bonds.link with [Match] OriginalName=bond*"
                " and [Link] MACAddressPolicy=none (or set macaddress: on the bond)",
            )
        )
    return found
