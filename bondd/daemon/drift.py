"""Drift repair in the daemon: kernel events in, the committed config put back.

A burst of events is reduced (bondd.daemon.watchset) to the bonds, or
single VLANs, it touched; each is repaired over a read of that bond only
(bondd.daemon.repair), and the same read updates the watch set. The whole
host is read and planned only when that is what the events call for (a
lost event, an unknown interface, a port matched by pattern) or when a
scope cannot be repaired alone; and at start, on SIGHUP and on the slow
resync timer.
"""

from __future__ import annotations

import logging
from collections.abc import Set

from bondd.daemon.repair import Repair, ScopeReader, UnscopedError, names_of, repair_scope
from bondd.daemon.state import DaemonState
from bondd.daemon.watchset import Dirty, Scope, WatchSet
from bondd.engine.converge import run_plan
from bondd.errors import BonddError
from bondd.kernel.events import KernelEvent
from bondd.kernel.sysfs import active_port
from bondd.log import event
from bondd.model import ActualState, DesiredState
from bondd.plan import planner
from bondd.plan.planner import Plan
from bondd.plan.target import Targets

REPAIR_DELAY = 0.02  # collapse an event burst into one pass
MIN_PASS_INTERVAL = 0.1  # an event storm costs at most ten reads a second
BACKOFF_START = 1.0
BACKOFF_MAX = 300.0
FAILOVER_LOG_INTERVAL = 1.0


class DriftRepair(DaemonState):
    def schedule_repair(self) -> None:
        due = max(self.now() + REPAIR_DELAY, self.last_pass + MIN_PASS_INTERVAL)
        if self.backoff:
            due = max(due, self.last_pass + self.backoff)
        self.timers["repair"] = min(self.timers.get("repair", due), due)

    def repair(self, full: bool = True) -> None:
        """Put managed interfaces back to the committed config (drift repair).

        `full` reads the whole host; otherwise only what events dirtied.
        """
        dirty, self.dirty = self.dirty, Dirty()
        self.last_pass = self.now()
        self.stats["repair-pass"] += 1
        committed = self.host.store.committed()
        if committed is None or self.host.store.pending() is not None:
            self.refresh_managed()
            return
        if full or dirty.full or not dirty.scopes:
            self.repair_host(committed[1])
            return
        for scope in dirty.scopes.values():
            if scope.bond in self.holds:
                continue
            try:
                self.repair_one(scope, committed[1])
            except UnscopedError as why:
                self.stats["repair-unscoped"] += 1
                self.log.debug("repair of %s reads the host: %s", scope.bond, why)
                self.repair_host(committed[1])
                return
            except BonddError as exc:
                self.dirty.full = True  # the retry reads the host
                self.failed_repair(exc.message)
                return
        self.recovered()

    def repair_one(self, scope: Scope, desired: DesiredState) -> None:
        """One scope, read and planned alone; UnscopedError if it needs the host."""
        self.stats["repair-scoped"] += 1
        started = self.now()
        h = self.host
        reader = h.reader
        if not isinstance(reader, ScopeReader):
            raise UnscopedError("this reader reads only the whole host")
        done: Repair = repair_scope(
            scope, desired, reader=reader, writer=h.writer, store=h.store, clock=h.clock
        )
        spec = desired.bond(scope.bond)
        names = names_of(spec) if spec is not None else None
        target = done.plan.targets.bond(scope.bond)
        absent = dict(self.managed.absent)
        absent.pop(scope.bond, None)
        if target is not None and target.absent:
            absent[scope.bond] = target.absent
        self.report_absent(absent)
        self.managed.absent = absent
        if names is not None:
            self.managed.update(done.actual, scope, names)
        if not done.plan.empty:
            self.log_repaired(done.plan, started)

    def repair_host(self, desired: DesiredState) -> None:
        started = self.now()
        h = self.host
        try:
            actual = h.reader.read()
            plan = without_bonds(
                planner.plan(desired, actual, h.store.ownership()), set(self.holds)
            )
            self.refresh_managed(actual, plan.targets)
            if plan.empty:
                self.recovered()
                return
            outcome = run_plan(plan, h.writer, h.reader, h.store, h.clock)
        except BonddError as exc:
            self.failed_repair(exc.message)
            return
        self.log_repaired(plan, started)
        self.recovered()
        self.refresh_managed(outcome.actual, plan.targets)  # verify's read: no third one

    def log_repaired(self, plan: Plan, started: float) -> None:
        diff = "; ".join(d.describe() for d in plan.differences)
        bonds = ",".join(sorted(plan.disruption()))
        self.metrics.repaired(plan.disruption())
        seconds = f"{self.now() - started:.3f}"
        event(
            self.log,
            "drift_repaired",
            f"repaired drift on {bonds} in {seconds}s: {diff}",
            bond=bonds,
            ops=len(plan.ops),
            diff=diff,
            seconds=seconds,
        )

    def recovered(self) -> None:
        self.problem = ""
        if self.degraded:
            event(self.log, "healthy", "drift repair works again")
        self.backoff = 0.0
        self.degraded = ""

    def failed_repair(self, why: str) -> None:
        self.backoff = min(BACKOFF_MAX, self.backoff * 2 if self.backoff else BACKOFF_START)
        self.degraded = why
        event(
            self.log,
            "repair_failed",
            f"drift repair failed (next try in {self.backoff:g}s): {why}",
            level=logging.ERROR,
        )
        self.timers["repair"] = self.now() + self.backoff

    def refresh_managed(
        self, actual: ActualState | None = None, targets: Targets | None = None
    ) -> None:
        """Rebuild the watch set from a whole-host read (this one, or a new one)."""
        if actual is None:
            try:
                actual = self.host.reader.read()
            except BonddError:
                return
        self.last_read.keep(actual, self.now())  # always a whole-host read, never a scoped one
        ownership = self.host.store.ownership()
        committed = self.host.store.committed()
        configured = {spec.name: names_of(spec) for spec in committed[1].bonds} if committed else {}
        # The record owns VLANs too: only names that are bonds (in the kernel
        # or the config) are bonds here, or 1,000 VLANs count as 1,000 bonds.
        claimed = ownership.owned | ownership.adopted
        bonds = {b for b in claimed if b in configured or actual.bond(b) is not None}
        if targets is not None:
            bonds |= {t.name for t in targets.bonds}
        absent = (
            {t.name: t.absent for t in targets.bonds if t.absent}
            if targets is not None
            else self.managed.absent
        )
        self.report_absent(absent)
        self.managed = WatchSet.of(actual, bonds, configured, absent)

    def report_absent(self, absent: dict[str, tuple[str, ...]]) -> None:
        """Once per port: "configured, not present", and again when it comes back."""
        for bond, ports in absent.items():
            for port in ports:
                if port not in self.managed.absent.get(bond, ()):
                    event(
                        self.log,
                        "port_absent",
                        f"{bond}: port {port}: configured, not present;"
                        " the bond is kept with the other ports",
                        level=logging.WARNING,
                        bond=bond,
                        port=port,
                    )
        for bond, ports in self.managed.absent.items():
            for port in ports:
                if port not in absent.get(bond, ()):
                    event(
                        self.log,
                        "port_present",
                        f"{bond}: port {port} is present: enslaved",
                        bond=bond,
                        port=port,
                    )
        self.metrics.changed()

    def on_kernel_events(
        self, events: list[KernelEvent], lost: bool, own: Set[str] = frozenset()
    ) -> None:
        """`own`: the bonds this daemon's writes touched since these events began to
        queue. The kernel announces every change of a bond's active port as a
        failover, a new bond's first port and a primary applied included: on
        those bonds they are the daemon's doing, neither logged nor counted."""
        self.last_read.forget()  # the kernel moved: a status reads it again
        dirty, failovers = self.managed.dirtied(events, lost)
        for bond in failovers:
            if bond not in own:
                self.log_failover(bond)
        if not dirty:
            return
        self.dirty.full |= dirty.full
        for scope in dirty.scopes.values():
            self.dirty.add(scope)
        self.schedule_repair()

    def log_failover(self, bond: str) -> None:
        # A flapping cable fails over many times a second: log at most one a
        # second per bond, with how many were folded into it.
        self.metrics.failover(bond)
        now = self.now()
        last, folded = self.failovers.get(bond, (0.0, 0))
        if now - last < FAILOVER_LOG_INTERVAL:
            self.failovers[bond] = (last, folded + 1)
            return
        self.failovers[bond] = (now, 0)
        active = active_port(bond)
        extra = f" ({folded} more failovers since the last entry)" if folded else ""
        event(
            self.log,
            "failover",
            f"{bond}: failover, active port now {active}{extra}",
            bond=bond,
            active_port=active,
        )


def without_bonds(plan: Plan, held: set[str]) -> Plan:
    """The plan minus everything about held bonds (a failover drill is running on them)."""
    if not held:
        return plan
    targets = Targets(
        tuple(t for t in plan.targets.bonds if t.name not in held), plan.targets.warnings
    )
    return Plan(
        ops=tuple(op for op in plan.ops if op.bond not in held),
        ownership=plan.ownership,
        targets=targets,
        differences=tuple(d for d in plan.differences if d.bond not in held),
        warnings=plan.warnings,
    )
