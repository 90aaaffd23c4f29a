"""Make the kernel match the desired state: read, plan, execute, verify, record.

This is the apply without the safety net; the transaction (snapshot, probes,
confirm window, rollback) wraps it. Ownership is saved before the first write
as the union of old and new, so a crash mid-apply never forgets a bond that
bondd created.
"""

from __future__ import annotations

from dataclasses import dataclass

from bondd.engine.boundary import Clock, Reader, Writer
from bondd.engine.executor import Execution, execute_or_raise
from bondd.engine.store import Store
from bondd.engine.verify import verify
from bondd.errors import VerifyError
from bondd.model import ActualState, DesiredState
from bondd.plan import planner
from bondd.plan.planner import Plan


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    execution: Execution | None
    actual: ActualState


def make_plan(desired: DesiredState, reader: Reader, store: Store) -> tuple[Plan, ActualState]:
    actual = reader.read()
    return planner.plan(desired, actual, store.ownership()), actual


def run_plan(plan: Plan, writer: Writer, reader: Reader, store: Store, clock: Clock) -> Outcome:
    """Execute a plan made by `make_plan`, verify the kernel, record ownership."""
    current = store.ownership()
    merged = current.merged_with(plan.ownership)
    if merged != current:  # drift repair usually changes no ownership: no fsync then
        store.save_ownership(merged)
    execution = execute_or_raise(plan.ops, writer)
    actual, differences = verify(plan.targets, reader, clock)
    if differences:
        raise VerifyError([d.describe() for d in differences])
    if plan.ownership != merged:
        store.save_ownership(plan.ownership)
    return Outcome(plan, execution, actual)


def converge(
    desired: DesiredState, reader: Reader, writer: Writer, store: Store, clock: Clock
) -> Outcome:
    plan, actual = make_plan(desired, reader, store)
    if plan.empty:
        if plan.ownership != store.ownership():
            store.save_ownership(plan.ownership)
        return Outcome(plan, None, actual)
    return run_plan(plan, writer, reader, store, clock)
