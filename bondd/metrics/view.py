"""bondd's status view as metric families: the names dashboards and alert rules rely on.

node_exporter counts a bond healthy when every port has MII link. This module
says what `bondctl status` says: whether LACP negotiated (the same
`bondd.lacp.verdict`), whether the partner is silent, which ports sit
outside the active aggregator, which configured ports are missing, plus the
state directory's counters and the last failover drill. Every family is
always present with its HELP and TYPE; pure: every fact is handed in.

Configured ports are counted from the configuration and the kernel alone
(a port entry that selects no link counts as one missing port), so the
count is right whether or not the bond could be planned.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

from bondd import lacp
from bondd.drill.measure import ACTIVE_PORT_MODES, DrillSummary
from bondd.engine.counters import RESULTS, Counts
from bondd.metrics.exposition import COUNTER, GAUGE, Family, render
from bondd.model import ActualState, BondMode, BondSpec, BondState, DesiredState
from bondd.plan.ownership import Ownership
from bondd.plan.target import resolve_port


@dataclass(frozen=True)
class MetricsInput:
    actual: ActualState
    ownership: Ownership | None  # None: the state directory could not be read
    configured: DesiredState | None  # the files when valid, else the committed config
    config_valid: bool
    counts: Counts
    drills: Mapping[str, DrillSummary]
    pending: bool


@dataclass(frozen=True)
class _Ports:
    configured: int
    missing: int


def _families() -> dict[str, Family]:
    specs = [
        ("bondd_bond_up", GAUGE, "1 when the bond is up with carrier, 0 when down or absent"),
        (
            "bondd_bond_info",
            GAUGE,
            "Always 1; the bond's mode and who manages it (owner: owned, adopted, unmanaged)",
        ),
        (
            "bondd_bond_ports",
            GAUGE,
            "Ports the configuration gives the bond (the kernel's count for a bond not in it)",
        ),
        ("bondd_bond_ports_up", GAUGE, "Ports of the bond whose MII status is up"),
        (
            "bondd_bond_ports_missing",
            GAUGE,
            "Configured ports of the bond that do not exist in the kernel",
        ),
        (
            "bondd_bond_active_port",
            GAUGE,
            "1 for the bond's active port (active-backup, balance-tlb, balance-alb)",
        ),
        (
            "bondd_lacp_negotiated",
            GAUGE,
            "802.3ad: 1 when every port is in sync, collecting and distributing in one"
            " aggregator with the partner (the verdict bondctl status shows)",
        ),
        (
            "bondd_lacp_partner_silent",
            GAUGE,
            "802.3ad: 1 when no LACPDU comes from the other end on the ports with link"
            " (the switch does not speak LACP)",
        ),
        (
            "bondd_port_lacp_in_aggregator",
            GAUGE,
            "802.3ad: 1 when the port is in the bond's active aggregator",
        ),
        (
            "bondd_port_lacp_state",
            GAUGE,
            "802.3ad: the port's LACP state byte (side: actor or partner); 63 or 61 is in service",
        ),
        (
            "bondd_port_link_failures_total",
            COUNTER,
            "The kernel's link failure count of the port (resets when the port is re-added)",
        ),
        (
            "bondd_failovers_total",
            COUNTER,
            (
                "Failovers the daemon saw on the bond, not counting the active-port changes"
                " its own writes made (kept in the state directory)"
            ),
        ),
        (
            "bondd_drift_repairs_total",
            COUNTER,
            "Drift repairs the daemon made on the bond (kept in the state directory)",
        ),
        (
            "bondd_transactions_total",
            COUNTER,
            "Transactions that changed the kernel, by result: committed, rolled_back, failed"
            " (a rollback that itself failed); kept in the state directory",
        ),
        (
            "bondd_last_transaction_timestamp_seconds",
            GAUGE,
            "When the last transaction ended (Unix time)",
        ),
        ("bondd_config_valid", GAUGE, "1 when the configuration files validate (bondctl validate)"),
        (
            "bondd_pending_transaction",
            GAUGE,
            "1 while a transaction is being applied or waits for bondctl confirm",
        ),
        (
            "bondd_failover_test_gap_seconds",
            GAUGE,
            "The worst traffic gap of the bond's last failover drill"
            " (+Inf: traffic never came back)",
        ),
        (
            "bondd_failover_test_timestamp_seconds",
            GAUGE,
            "When the bond's last failover drill ran (Unix time)",
        ),
    ]
    return {name: Family(name, kind, text) for name, kind, text in specs}


NAMES = tuple(_families())


def families(data: MetricsInput) -> list[Family]:
    f = _families()
    configured = {b.name: b for b in data.configured.bonds} if data.configured else {}
    kernel = {b.name: b for b in data.actual.bonds}
    for name in sorted(kernel.keys() | configured.keys()):
        bond = kernel.get(name)
        spec = configured.get(name)
        ports = _configured_ports(spec, bond, data.actual)
        mode = bond.mode.value if bond else _spec_mode(spec)
        f["bondd_bond_up"].add(bond is not None and bond.up and bond.carrier, bond=name)
        f["bondd_bond_info"].add(1, bond=name, mode=mode, owner=_owner(data.ownership, name))
        f["bondd_bond_ports"].add(ports.configured, bond=name)
        f["bondd_bond_ports_up"].add(
            sum(1 for p in bond.ports if p.mii_up) if bond else 0, bond=name
        )
        f["bondd_bond_ports_missing"].add(ports.missing, bond=name)
        f["bondd_failovers_total"].add(data.counts.failovers.get(name, 0), bond=name)
        f["bondd_drift_repairs_total"].add(data.counts.drift_repairs.get(name, 0), bond=name)
        drill = data.drills.get(name)
        if drill is not None:
            gap = drill.worst_gap_ms
            f["bondd_failover_test_gap_seconds"].add(
                math.inf if gap is None else gap / 1000, bond=name
            )
            f["bondd_failover_test_timestamp_seconds"].add(_epoch(drill.at), bond=name)
        if bond is not None:
            _kernel_bond(f, bond)
    for result in RESULTS:
        f["bondd_transactions_total"].add(data.counts.transactions.get(result, 0), result=result)
    if data.counts.last_transaction is not None:
        f["bondd_last_transaction_timestamp_seconds"].add(data.counts.last_transaction)
    f["bondd_config_valid"].add(data.config_valid)
    f["bondd_pending_transaction"].add(data.pending)
    return list(f.values())


def text(data: MetricsInput) -> str:
    return render(families(data))


def _kernel_bond(f: dict[str, Family], bond: BondState) -> None:
    name = bond.name
    if bond.mode in ACTIVE_PORT_MODES and bond.active_port:
        f["bondd_bond_active_port"].add(1, bond=name, port=bond.active_port)
    ports = sorted(bond.ports, key=lambda p: p.name)
    for port in ports:
        f["bondd_port_link_failures_total"].add(port.link_failures, bond=name, port=port.name)
    negotiation = lacp.verdict(bond)
    if negotiation is None:
        return
    f["bondd_lacp_negotiated"].add(negotiation.negotiated, bond=name)
    f["bondd_lacp_partner_silent"].add(_partner_silent(bond), bond=name)
    aggregator = bond.ad_info.aggregator if bond.ad_info else None
    for port in ports:
        f["bondd_port_lacp_in_aggregator"].add(
            aggregator is not None and port.ad_aggregator_id == aggregator,
            bond=name,
            port=port.name,
        )
        for side, state in (("actor", port.ad_actor_state), ("partner", port.ad_partner_state)):
            if state is not None:
                f["bondd_port_lacp_state"].add(state, bond=name, port=port.name, side=side)


def _partner_silent(bond: BondState) -> bool:
    """The verdict over the ports with link: a pulled cable must not hide a silent switch."""
    with_link = tuple(p for p in bond.ports if p.mii_up)
    found = lacp.verdict(dataclasses.replace(bond, ports=with_link))
    return found is not None and found.verdict is lacp.Verdict.PARTNER_SILENT


def _configured_ports(spec: BondSpec | None, bond: BondState | None, actual: ActualState) -> _Ports:
    if spec is None:
        return _Ports(len(bond.ports) if bond else 0, 0)
    configured = missing = 0
    for port in spec.ports:
        found = resolve_port(spec.name, port, actual, [])
        configured += max(1, len(found))
        missing += 0 if found else 1
    return _Ports(configured, missing)


def _spec_mode(spec: BondSpec | None) -> str:
    value = spec.options.get("mode") if spec else None
    return str(value) if value is not None else BondMode.BALANCE_RR.value


def _owner(ownership: Ownership | None, bond: str) -> str:
    if ownership is None:
        return "unknown"
    if bond in ownership.owned:
        return "owned"
    if bond in ownership.adopted:
        return "adopted"
    return "unmanaged"


def _epoch(iso: str) -> float:
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return math.nan
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()
