"""Per-port LACP facts that only /proc/net/bonding/BOND shows.

Netlink gives the bond's active aggregator and its partner (IFLA_BOND_AD_INFO)
and each port's state bytes, but not who each port's partner is: a port
cabled to another switch than its siblings has its own partner system MAC
and key, visible only in the "details partner lacp pdu" block of each port.
The churn machine's state and counts exist only here too. The text format
is the kernel's (drivers/net/bonding/bond_procfs.c); fields a kernel does
not print come out as None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PROC_BONDING = Path("/proc/net/bonding")


@dataclass(frozen=True)
class LacpPdu:
    """One side of a port's LACP exchange ("details actor/partner lacp pdu")."""

    system_priority: int | None = None
    system_mac: str | None = None
    key: int | None = None  # actor "port key", partner "oper key"
    port_priority: int | None = None
    port_number: int | None = None
    port_state: int | None = None


@dataclass(frozen=True)
class PortLacp:
    name: str
    aggregator_id: int | None = None
    actor_churn: str | None = None  # monitoring, none, churned
    partner_churn: str | None = None
    actor_churned: int | None = None
    partner_churned: int | None = None
    actor: LacpPdu = field(default_factory=LacpPdu)
    partner: LacpPdu = field(default_factory=LacpPdu)


@dataclass(frozen=True)
class ProcBond:
    name: str
    ports: tuple[PortLacp, ...] = ()

    def port(self, name: str) -> PortLacp | None:
        return next((p for p in self.ports if p.name == name), None)


_PDU_KEYS = {
    "system priority": "system_priority",
    "system mac address": "system_mac",
    "port key": "key",
    "oper key": "key",
    "port priority": "port_priority",
    "port number": "port_number",
    "port state": "port_state",
}
_PORT_KEYS = {
    "Aggregator ID": "aggregator_id",
    "Actor Churn State": "actor_churn",
    "Partner Churn State": "partner_churn",
    "Actor Churned Count": "actor_churned",
    "Partner Churned Count": "partner_churned",
}
_TEXT_FIELDS = frozenset({"system_mac", "actor_churn", "partner_churn"})


def _value(name: str, text: str) -> str | int | None:
    if name in _TEXT_FIELDS:
        return text.lower() if text else None
    try:
        return int(text)
    except ValueError:
        return None


def parse(name: str, text: str) -> ProcBond:
    """The per-port LACP details of /proc/net/bonding/NAME's text."""
    ports: list[PortLacp] = []
    current: dict[str, object] | None = None
    pdus: dict[str, dict[str, object]] = {}
    side: str | None = None

    def finish() -> None:
        if current is not None:
            ports.append(
                PortLacp(
                    **current,  # type: ignore[arg-type]
                    actor=LacpPdu(**pdus.get("actor", {})),  # type: ignore[arg-type]
                    partner=LacpPdu(**pdus.get("partner", {})),  # type: ignore[arg-type]
                )
            )

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("Slave Interface:"):
            finish()
            current = {"name": stripped.split(":", 1)[1].strip()}
            pdus = {}
            side = None
            continue
        if current is None:
            continue
        if stripped.startswith("details ") and stripped.endswith("lacp pdu:"):
            side = stripped.split()[1]  # actor or partner
            pdus[side] = {}
            continue
        key, sep, raw = stripped.partition(":")
        if not sep:
            continue
        key, raw = key.strip(), raw.strip()
        if side is not None and line.startswith((" ", "\t")) and key in _PDU_KEYS:
            pdus[side][_PDU_KEYS[key]] = _value(_PDU_KEYS[key], raw)
            continue
        side = None
        if key in _PORT_KEYS:
            current[_PORT_KEYS[key]] = _value(_PORT_KEYS[key], raw)
    finish()
    return ProcBond(name, tuple(ports))


def read(bond: str) -> ProcBond | None:
    """The bond's per-port details; None when the bond is gone."""
    try:
        text = (PROC_BONDING / bond).read_text()
    except OSError:
        return None
    return parse(bond, text)
