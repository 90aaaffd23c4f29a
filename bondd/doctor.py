"""`bondctl doctor`'s judgement: host facts in, findings with a fix each out.

The traps around Linux bonding are well known and easy to miss by eye: a
bonding module loaded without max_bonds=0 leaves a stray round-robin bond0;
NetworkManager or systemd-networkd still managing a port bondd also manages;
udev giving bonds a MAC of their own; layer2 hashing pinning an LACP bond's
traffic to one port; a bond with no link monitoring at all; a bond of one
port; ports of different speeds; an address left on a port; a transaction
left pending. Each finding says what is wrong, why it matters and how to
fix it. Pure: the facts are gathered by the command (bondd.cli.doctor).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bondd.model import ActualState, BondMode, BondState

JSON_VERSION = 1
_STRAY_NAME = re.compile(r"bond\d+$")


class Severity(enum.StrEnum):
    PROBLEM = "problem"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    check: str  # stable id, for scripts
    subject: str  # the bond, port or "host"
    message: str
    fix: str

    def to_json(self) -> dict[str, str]:
        return {
            "severity": self.severity.value,
            "check": self.check,
            "subject": self.subject,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class PendingFacts:
    txn: str
    phase: str  # applying, waiting
    deadline: float  # wall clock; 0 when none
    process_alive: bool  # the process (or guard) that owns it still runs


@dataclass(frozen=True)
class HostFacts:
    actual: ActualState
    configured_bonds: frozenset[str] = frozenset()
    configured_ports: frozenset[str] = frozenset()
    config_error: str | None = None
    managed: frozenset[str] = frozenset()  # owned or adopted bonds
    module_loaded: bool = True
    max_bonds: int = 0
    max_bonds_source: str | None = None
    nm_files: Mapping[str, list[str]] = field(default_factory=dict)
    nm_running: bool = False
    nm_managed: Mapping[str, bool] = field(default_factory=dict)  # from NM's /run records
    networkd_files: Mapping[str, list[str]] = field(default_factory=dict)
    networkd_states: Mapping[str, str] = field(default_factory=dict)  # name -> ADMIN_STATE
    mac_policy: Mapping[str, tuple[str, str]] = field(
        default_factory=dict
    )  # bond -> (policy, file)
    mac_assigned_by_user: frozenset[str] = frozenset()  # bonds with addr_assign_type 3
    speeds: Mapping[str, int | None] = field(default_factory=dict)
    pending: PendingFacts | None = None
    now: float = 0.0  # wall clock


def is_stray(bond: BondState, facts: HostFacts) -> bool:
    """What loading the driver without max_bonds=0 leaves: bondN, round-robin, no ports,
    in nobody's configuration."""
    return (
        _STRAY_NAME.match(bond.name) is not None
        and bond.mode is BondMode.BALANCE_RR
        and not bond.ports
        and bond.name not in facts.configured_bonds
        and bond.name not in facts.managed
    )


def diagnose(facts: HostFacts) -> list[Finding]:
    findings: list[Finding] = []
    findings += _config(facts)
    findings += _module(facts)
    findings += _pending(facts)
    for bond in facts.actual.bonds:
        if is_stray(bond, facts):
            findings.append(_stray(bond, facts))
            continue
        findings += _bond_checks(bond, facts)
    findings += _other_agents(facts)
    findings += _mac_policy(facts)
    order = {Severity.PROBLEM: 0, Severity.WARNING: 1}
    return sorted(findings, key=lambda f: order[f.severity])


def exit_code(findings: list[Finding]) -> int:
    """0 healthy, 1 warnings only, 2 problems."""
    if any(f.severity is Severity.PROBLEM for f in findings):
        return 2
    return 1 if findings else 0


# --- the checks ------------------------------------------------------------------


def _config(facts: HostFacts) -> list[Finding]:
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


def _module(facts: HostFacts) -> list[Finding]:
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


def _stray(bond: BondState, facts: HostFacts) -> Finding:
    return Finding(
        Severity.PROBLEM,
        "stray-bond",
        bond.name,
        f"{bond.name} is a round-robin bond with no ports in no configuration: what loading"
        " the bonding driver without max_bonds=0 creates. networkd and others reuse it, and"
        f" bondd cannot create a {bond.name} of its own while it exists",
        f"delete it (ip link del {bond.name}) and load bonding with max_bonds=0"
        " (/etc/modprobe.d/bondd.conf)",
    )


def _pending(facts: HostFacts) -> list[Finding]:
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


def _bond_checks(bond: BondState, facts: HostFacts) -> list[Finding]:
    found: list[Finding] = []
    options = bond.options
    if options.get("miimon", 0) == 0 and options.get("arp_interval", 0) == 0:
        found.append(
            Finding(
                Severity.PROBLEM,
                "no-monitoring",
                bond.name,
                f"{bond.name} has neither MII monitoring (miimon 0) nor ARP monitoring: a dead"
                " link is never noticed and traffic keeps going to it",
                "set mii-monitor-interval: 100 (or ARP monitoring with arp-interval and"
                " arp-ip-targets)",
            )
        )
    if len(bond.ports) == 1:
        found.append(
            Finding(
                Severity.WARNING,
                "single-port",
                bond.name,
                f"{bond.name} has one port ({bond.ports[0].name}): no redundancy",
                "add a second port (another NIC, cabled to another switch where possible)",
            )
        )
    elif not bond.ports:
        found.append(
            Finding(
                Severity.WARNING,
                "no-ports",
                bond.name,
                f"{bond.name} has no ports: it carries no traffic",
                "add its ports, or delete the bond",
            )
        )
    if (
        bond.mode is BondMode.IEEE_802_3AD
        and len(bond.ports) > 1
        and options.get("xmit_hash_policy", "layer2") == "layer2"
    ):
        found.append(
            Finding(
                Severity.WARNING,
                "layer2-hash",
                bond.name,
                f"{bond.name} hashes by MAC (xmit_hash_policy layer2): all traffic to one"
                " gateway or router leaves through one port, so the bond is no faster than it",
                "set transmit-hash-policy: layer3+4 (or layer2+3 where the switch needs"
                " in-order delivery per host pair)",
            )
        )
    speeds = {p.name: facts.speeds.get(p.name) for p in bond.ports}
    known = {name: s for name, s in speeds.items() if s}
    if len(set(known.values())) > 1:
        listed = ", ".join(f"{name} {speed}Mb/s" for name, speed in sorted(known.items()))
        why = (
            "ports of different speeds get different LACP keys and land in different"
            " aggregators, so only some carry traffic"
            if bond.mode is BondMode.IEEE_802_3AD
            else "a failover to the slower port cuts the bandwidth"
        )
        found.append(
            Finding(
                Severity.WARNING,
                "mixed-speed",
                bond.name,
                f"the ports of {bond.name} run at different speeds ({listed}): {why}",
                "use ports of one speed, or check autonegotiation and the cables",
            )
        )
    for port in bond.ports:
        link = facts.actual.link(port.name)
        addresses = (link.addresses if link is not None else port.addresses) or ()
        if not addresses:
            continue
        shared = [a for a in addresses if a in bond.addresses]
        what = (
            f"the same address as {bond.name} ({', '.join(shared)})"
            if shared
            else f"an address of its own ({', '.join(addresses)})"
        )
        found.append(
            Finding(
                Severity.PROBLEM,
                "port-address",
                port.name,
                f"port {port.name} of {bond.name} carries {what}: addresses belong on the"
                " bond; on a port they answer ARP with the wrong interface and confuse routing",
                f"ip address flush dev {port.name}, and stop whatever configures it (DHCP,"
                " NetworkManager, networkd)",
            )
        )
    return found


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


def _other_agents(facts: HostFacts) -> list[Finding]:
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


def _mac_policy(facts: HostFacts) -> list[Finding]:
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


# --- output ---------------------------------------------------------------------------


def to_text(findings: list[Finding]) -> str:
    lines: list[str] = []
    for finding in findings:
        lines.append(f"{finding.severity.value:<8} {finding.subject}: {finding.message}")
        lines.append(f"{'':<8} fix: {finding.fix}")
    problems = sum(1 for f in findings if f.severity is Severity.PROBLEM)
    warnings = len(findings) - problems
    if not findings:
        lines.append("doctor: nothing found; this host looks healthy for bondd")
    else:
        lines.append(f"doctor: {problems} problem(s), {warnings} warning(s)")
    return "\n".join(lines)


def to_json(findings: list[Finding]) -> dict[str, object]:
    problems = sum(1 for f in findings if f.severity is Severity.PROBLEM)
    return {
        "version": JSON_VERSION,
        "findings": [f.to_json() for f in findings],
        "problems": problems,
        "warnings": len(findings) - problems,
        "exit_code": exit_code(findings),
    }
