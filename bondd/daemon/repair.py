"""Drift repair of one scope (a bond, or some VLANs of it) without reading the host.

The committed config is narrowed to the scope's bond (and VLANs), the
ownership record to what that bond holds, the kernel is read for that bond
only, and the plan, its verify and the daemon's bookkeeping share that one
scoped read. Correctness first: the partial view must never let a plan
delete or change another bond, so a scope falls back to the whole host
(`UnscopedError`) whenever the partial view cannot be trusted to stay inside it:
the bond is not in the committed config, a port is matched by glob, MAC or
driver (its candidates are every link), a port read is enslaved to some
other master, or the plan names anything but the bond.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from bondd.daemon.watchset import Names, Scope
from bondd.engine.boundary import Clock, Writer
from bondd.engine.converge import Outcome, run_plan
from bondd.engine.store import Store
from bondd.kernel.reader import Scoped
from bondd.model import ActualState, BondSpec, DesiredState
from bondd.plan import ops as o
from bondd.plan import planner
from bondd.plan.ownership import Ownership
from bondd.plan.planner import Plan


@runtime_checkable
class ScopeReader(Protocol):
    def read_scope(
        self, bond: str, also: Iterable[str] = (), vlans: Collection[str] | None = None
    ) -> Scoped: ...


class UnscopedError(Exception):
    """This scope needs the whole host read: why."""


def names_of(spec: BondSpec) -> Names:
    """The names a bond's config gives: exact port names (when all are exact) and VLANs."""
    ports = frozenset(n for p in spec.ports if (n := p.match.exact_name) is not None)
    return Names(ports=ports, vlans=frozenset(v.name for v in spec.vlans))


def exact_ports(spec: BondSpec) -> tuple[str, ...]:
    """The port names a bond's config can select; UnscopedError if one could be any link."""
    names = []
    for port in spec.ports:
        match = port.match
        if match.exact_name is None or match.macaddress is not None or match.driver:
            raise UnscopedError(f"{spec.name}: port {port.id} is matched by pattern or MAC")
        names.append(match.exact_name)
    return tuple(names)


@dataclass(frozen=True)
class Narrowed:
    """The committed config and ownership cut down to one scope."""

    scope: Scope
    desired: DesiredState
    ownership: Ownership
    ports: tuple[str, ...]

    @property
    def vlans(self) -> frozenset[str] | None:
        return self.scope.vlans

    def names(self) -> frozenset[str]:
        """What this scope's ownership may claim: the bond and its scoped VLANs."""
        spec = self.desired.bonds[0]
        return frozenset({spec.name, *(v.name for v in spec.vlans)})


def narrow(desired: DesiredState, ownership: Ownership, scope: Scope) -> Narrowed:
    spec = desired.bond(scope.bond)
    if spec is None:
        raise UnscopedError(f"{scope.bond} is not in the committed config")
    ports = exact_ports(spec)
    if scope.vlans is not None:
        spec = replace(spec, vlans=tuple(v for v in spec.vlans if v.name in scope.vlans))
    # A VLAN the record owns that the config no longer names stays out of the
    # scope: a scoped pass leaves it alone, the next whole-host pass decides.
    names = {spec.name, *(v.name for v in spec.vlans)}
    narrowed = Ownership(
        owned=ownership.owned & names,
        adopted=ownership.adopted & {spec.name},
        ports_before={k: v for k, v in ownership.ports_before.items() if k in ports},
    )
    return Narrowed(scope, replace(desired, bonds=(spec,)), narrowed, ports)


def splice(full: Ownership, part: Narrowed, after: Ownership) -> Ownership:
    """The whole record with the scope's part replaced by what the partial plan leaves."""
    mine = part.names() | part.ownership.owned
    return Ownership(
        owned=(full.owned - mine) | after.owned,
        adopted=(full.adopted - mine) | after.adopted,
        ports_before={
            **{k: v for k, v in full.ports_before.items() if k not in part.ports},
            **after.ports_before,
        },
    )


def scoped_plan(part: Narrowed, actual: ActualState, full: Ownership) -> Plan:
    """Plan the scope over its partial read; UnscopedError if the plan would reach outside it."""
    bond = part.scope.bond
    plan = planner.plan(part.desired, actual, part.ownership)
    strays = {op.bond for op in plan.ops} | {d.bond for d in plan.differences}
    if strays - {bond}:
        raise UnscopedError(f"a plan for {bond} names {', '.join(sorted(strays - {bond}))}")
    if part.vlans is not None and any(
        isinstance(op, o.SetLinkUp) and op.ifname == bond and not op.up for op in plan.ops
    ):
        # The bond going down flushes the routes and IPv6 addresses of every
        # VLAN on it, the ones outside this scope too: only a plan of the
        # whole bond puts them all back.
        raise UnscopedError(f"a plan for {bond} takes it down, with VLANs outside the scope")
    return replace(plan, ownership=splice(full, part, plan.ownership))


class _ScopeAsReader:
    """The engine's Reader over one scope, for verify: the same narrow read."""

    def __init__(self, reader: ScopeReader, part: Narrowed) -> None:
        self.reader = reader
        self.part = part

    def read(self) -> ActualState:
        return read(self.reader, self.part)


def read(reader: ScopeReader, part: Narrowed) -> ActualState:
    scoped = reader.read_scope(part.scope.bond, part.ports, part.vlans)
    if scoped.foreign:
        raise UnscopedError(f"{', '.join(scoped.foreign)} enslaved outside {part.scope.bond}")
    return scoped.actual


@dataclass(frozen=True)
class Repair:
    """A scoped pass: the plan (maybe empty) and the read its bookkeeping uses."""

    plan: Plan
    actual: ActualState
    outcome: Outcome | None = None


def repair_scope(
    scope: Scope,
    desired: DesiredState,
    *,
    reader: ScopeReader,
    writer: Writer,
    store: Store,
    clock: Clock,
) -> Repair:
    """Read, plan, apply and verify one scope; UnscopedError when it needs the host."""
    full = store.ownership()
    part = narrow(desired, full, scope)
    actual = read(reader, part)
    plan = scoped_plan(part, actual, full)
    if plan.empty:
        return Repair(plan, actual)
    outcome = run_plan(plan, writer, _ScopeAsReader(reader, part), store, clock)
    return Repair(plan, outcome.actual, outcome)
