"""`bondctl doctor`'s judgement: host facts in, findings with a fix each out.

The traps around Linux bonding are well known and easy to miss by eye: a
bonding module loaded without max_bonds=0 leaves a stray round-robin bond0;
NetworkManager or systemd-networkd still managing a port bondd also manages;
udev giving bonds a MAC of their own; layer2 hashing pinning an LACP bond's
traffic to one port; a bond with no link monitoring at all; a bond of one
port; ports of different speeds; an address left on a port; a transaction
left pending. Each finding says what is wrong, why it matters and how to
fix it. Pure: the facts are gathered by the command (bondd.cli.doctor). The facts
and findings are in facts.py, the checks in host.py and bonds.py.
"""

from __future__ import annotations

from bondd.doctor import bonds, host
from bondd.doctor.facts import Finding, HostFacts, PendingFacts, Severity

__all__ = [
    "Finding",
    "HostFacts",
    "PendingFacts",
    "Severity",
    "diagnose",
    "exit_code",
    "to_json",
    "to_text",
]

JSON_VERSION = 1


def diagnose(facts: HostFacts) -> list[Finding]:
    findings: list[Finding] = []
    findings += host.config(facts)
    findings += host.module(facts)
    findings += host.pending(facts)
    for bond in facts.actual.bonds:
        if bonds.is_stray(bond, facts):
            findings.append(bonds.stray(bond, facts))
            continue
        findings += bonds.bond_findings(bond, facts)
    findings += host.other_agents(facts)
    findings += host.mac_policy(facts)
    order = {Severity.PROBLEM: 0, Severity.WARNING: 1}
    return sorted(findings, key=lambda f: order[f.severity])


def exit_code(findings: list[Finding]) -> int:
    """0 healthy, 1 warnings only, 2 problems."""
    if any(f.severity is Severity.PROBLEM for f in findings):
        return 2
    return 1 if findings else 0


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
