"""What must still work after a change: probes and the LACP gate.

Probes are pre-selected: each runs once before the change, over today's
routes, and one that fails then is reported but not used as a gate (it
could never pass, and would roll back every change). After the change each
gate polls until it passes or its deadline. The LACP gate is not
pre-selected: an 802.3ad bond in the plan must negotiate, or nothing works.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from bondd import lacp
from bondd.engine.boundary import Clock, Reader
from bondd.model import BondMode, ProbeSpec, ProbeType
from bondd.plan.planner import Plan

PRESELECT_TIMEOUT = 2.0
DEFAULT_PROBE_TIMEOUT = 10.0
PROBE_INTERVAL = 1.0
LACP_INTERVAL = 0.1
# Negotiation measured in the lab: ~3 s with lacp_rate fast. Slow rate sends a
# periodic LACPDU every 30 s, so its deadline covers one full period.
LACP_DEADLINE = {"fast": 15.0, "slow": 45.0}


class ProbeOutcome(Protocol):
    @property
    def ok(self) -> bool: ...

    @property
    def detail(self) -> str: ...


class Prober(Protocol):
    def check(self, probe: ProbeSpec, timeout: float) -> ProbeOutcome: ...


@dataclass(frozen=True)
class GateResult:
    name: str
    ok: bool
    detail: str
    seconds: float = 0.0
    used: bool = True  # False: failed before the change, reported only

    def describe(self) -> str:
        state = "ok" if self.ok else "FAILED"
        note = "" if self.used else " (failed before the change too: not a gate)"
        return f"{self.name}: {state}: {self.detail}{note}"


def probe_name(probe: ProbeSpec) -> str:
    parts = [probe.type.value, probe.target]
    if probe.port is not None:
        parts.append(str(probe.port))
    if probe.via:
        parts.append(f"via {probe.via}")
    return " ".join(parts)


def default_probes(gateways: Iterable[str]) -> tuple[ProbeSpec, ...]:
    """With no probes configured: ping each changed bond's default gateway."""
    return tuple(ProbeSpec(ProbeType.PING, gw) for gw in sorted(set(gateways)))


def preselect(
    probes: Iterable[ProbeSpec], prober: Prober
) -> tuple[list[ProbeSpec], list[GateResult]]:
    gates: list[ProbeSpec] = []
    skipped: list[GateResult] = []
    for probe in probes:
        outcome = prober.check(probe, min(PRESELECT_TIMEOUT, probe.timeout or PRESELECT_TIMEOUT))
        if outcome.ok:
            gates.append(probe)
        else:
            skipped.append(GateResult(probe_name(probe), False, outcome.detail, used=False))
    return gates, skipped


def run_probes(gates: Iterable[ProbeSpec], prober: Prober, clock: Clock) -> list[GateResult]:
    results = []
    for probe in gates:
        started = clock.monotonic()
        deadline = started + (probe.timeout or DEFAULT_PROBE_TIMEOUT)
        while True:
            left = deadline - clock.monotonic()
            outcome = prober.check(probe, max(0.2, min(PROBE_INTERVAL, left)))
            if outcome.ok or clock.monotonic() >= deadline:
                break
            clock.sleep(min(PROBE_INTERVAL, max(0.0, deadline - clock.monotonic())))
        results.append(
            GateResult(probe_name(probe), outcome.ok, outcome.detail, clock.monotonic() - started)
        )
        if not outcome.ok:
            break  # one failed gate decides; the rest would only delay the rollback
    return results


def run_lacp_gate(
    bonds: dict[str, tuple[int, str]], reader: Reader, clock: Clock
) -> list[GateResult]:
    """`bonds`: name -> (configured port count, lacp_rate). Polls the kernel until all negotiate."""
    if not bonds:
        return []
    started = clock.monotonic()
    deadline = started + max(
        LACP_DEADLINE.get(rate, LACP_DEADLINE["slow"]) for _, rate in bonds.values()
    )
    pending = dict(bonds)
    results: list[GateResult] = []
    last: dict[str, lacp.Negotiation] = {}
    while pending:
        actual = reader.read()
        for name, (ports, _) in list(pending.items()):
            bond = actual.bond(name)
            verdict = (
                lacp.verdict(bond, ports)
                if bond is not None and bond.mode is BondMode.IEEE_802_3AD
                else None
            )
            if verdict is None:
                continue
            last[name] = verdict
            if verdict.negotiated:
                results.append(
                    GateResult(f"lacp {name}", True, "negotiated", clock.monotonic() - started)
                )
                del pending[name]
        if not pending or clock.monotonic() >= deadline:
            break
        clock.sleep(LACP_INTERVAL)
    for name in pending:
        verdict = last.get(name)
        detail = (
            f"{verdict.verdict.value}: {verdict.verdict.meaning}"
            + (f" ({'; '.join(verdict.reasons)})" if verdict.reasons else "")
            if verdict
            else "not an 802.3ad bond"
        )
        results.append(GateResult(f"lacp {name}", False, detail, clock.monotonic() - started))
    return results


def gateways_of(plan: Plan, adopting: tuple[str, ...] = ()) -> list[str]:
    """The default gateways of the bonds a plan changes (or adopts): what the probes ping."""
    changed = {op.bond for op in plan.ops} | set(adopting)
    return [
        route.via
        for target in plan.targets.bonds
        if target.name in changed
        for route in target.routes
        if route.is_default and route.via
    ]


def lacp_bonds_of(plan: Plan) -> dict[str, tuple[int, str]]:
    """The 802.3ad bonds a plan changes, with their port count and lacp_rate, for the LACP gate."""
    changed = {op.bond for op in plan.ops}
    return {
        t.name: (len(t.ports), str(t.options.get("lacp_rate", "slow")))
        for t in plan.targets.bonds
        if t.name in changed and t.mode is BondMode.IEEE_802_3AD and t.ports
    }
