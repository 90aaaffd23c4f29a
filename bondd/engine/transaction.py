"""The staged apply: snapshot, execute, verify, probe, confirm, commit or roll back.

    begin:   validate (caller) -> plan -> snapshot + pending record on disk ->
             install staged files -> execute -> verify -> gates
             -> commit, or WAITING for a confirmation until the deadline
    confirm: commit the waiting proposal
    rollback: plan with the snapshot as desired state, execute, verify,
             restore staged files, remember the proposal as rejected
    recover: what any state-changing bondd process does first with a
             pending record left behind by a crash, a kill or a reboot

The host ends in the old state or the new one, never half: every failure
after the first kernel write goes through `rollback`.
"""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bondd.engine import staged
from bondd.engine.boundary import Clock, DeadMan, Reader, Writer
from bondd.engine.converge import run_plan
from bondd.engine.counters import count_transaction
from bondd.engine.executor import execute_or_raise
from bondd.engine.gates import (
    GateResult,
    Prober,
    default_probes,
    gateways_of,
    lacp_bonds_of,
    preselect,
    run_lacp_gate,
    run_probes,
)
from bondd.engine.holder import Holder, rebooted
from bondd.engine.lock import BusyError, TransactionLock
from bondd.engine.pending import Pending, Phase, StagedFile
from bondd.engine.staged import HandoffError
from bondd.engine.store import Store
from bondd.engine.verify import verify
from bondd.errors import ApplyError, BonddError, Interrupted, VerifyError
from bondd.interrupt import interruptible, shielded
from bondd.model import ActualState, DesiredState, ProbeSpec
from bondd.plan import planner
from bondd.plan.planner import Plan
from bondd.plan.snapshot import snapshot_desired

# How long a transaction may stay in its applying phase (execute, verify,
# probes, LACP gate): past it, the guard kills a runner that hangs and rolls
# back. A runner that dies is rolled back by the guard at once.
APPLY_BUDGET = 600.0


class Status(enum.StrEnum):
    CONVERGED = "converged"  # nothing to change
    COMMITTED = "committed"
    WAITING = "waiting"  # applied, waiting for a confirmation
    ROLLED_BACK = "rolled-back"
    PLAN_CHANGED = "plan-changed"  # the kernel moved since the admin saw the plan: nothing done


class RollbackError(BonddError):
    """A rollback itself failed: the host may be between the old and the new state.

    The pending record is kept, so the next bondd start (or `bondctl rollback`)
    tries again. Look at `bondctl status` and the journal for the kernel error.
    """

    exit_code = 70


@dataclass(frozen=True)
class Proposal:
    """What a transaction is asked to make true.

    `adopting`: bonds taken over from another manager (`bondctl takeover`).
    Their files change even when the kernel needs no change, so the
    transaction runs in full for them (snapshot, probes of their gateways,
    confirm window), not only when the plan has operations.
    """

    desired: DesiredState
    hash: str
    staged: tuple[StagedFile, ...] = ()
    adopting: tuple[str, ...] = ()


@dataclass
class Host:
    """Everything the transaction touches, injected so tests can fake it."""

    reader: Reader
    writer: Writer
    store: Store
    clock: Clock
    prober: Prober
    boot_id: str
    wall: Callable[[], float] = time.time
    deadman: DeadMan | None = None  # None only in unit tests over fakes
    role: str = "bondctl"  # who this process is, in the pending record


@dataclass(frozen=True)
class Result:
    status: Status
    plan: Plan | None = None
    txn: str | None = None
    reason: str = ""
    gates: tuple[GateResult, ...] = ()
    deadline: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    # The last read of the kernel (the plan's, or its verify's) when it still
    # stands: the daemon's bookkeeping uses it instead of reading again.
    actual: ActualState | None = None


def begin(
    host: Host,
    proposal: Proposal,
    *,
    confirm_timeout: float = 0.0,
    probes: bool = True,
    expected: Plan | None = None,
) -> Result:
    """Apply a proposal as a transaction; returns COMMITTED, WAITING, ROLLED_BACK or CONVERGED.

    `expected`: the plan the admin approved. If the kernel changed since, and
    the plan made now differs, nothing is done: PLAN_CHANGED, with the new plan.
    """
    with TransactionLock(host.store.dir):
        with shielded():  # settling what a dead process left finishes before a signal counts
            recover(host)
        waiting = host.store.pending()
        if waiting is not None:
            raise BusyError(
                f"transaction {waiting.txn} is waiting for confirmation until"
                f" {time.strftime('%H:%M:%S', time.localtime(waiting.deadline))}",
                "confirm it with `bondctl confirm` or undo it with `bondctl rollback`",
            )
        actual = host.reader.read()
        before = host.store.ownership()
        plan = planner.plan(proposal.desired, actual, before)
        if expected is not None and plan.ops != expected.ops:
            return Result(Status.PLAN_CHANGED, plan)
        if plan.empty and not proposal.adopting:
            with shielded(absorb=True):  # the files and the record of them agree, signal or not
                staged.install(proposal.staged)
                committed = host.store.committed()
                if committed is None or committed[0] != proposal.hash:  # a no-op writes no state
                    host.store.save_committed(proposal.hash, proposal.desired)
                if plan.ownership != before:
                    host.store.save_ownership(plan.ownership)
            return Result(Status.CONVERGED, plan, actual=actual)
        return _run(host, proposal, plan, actual, confirm_timeout=confirm_timeout, probes=probes)


def _run(
    host: Host,
    proposal: Proposal,
    plan: Plan,
    actual: ActualState,
    *,
    confirm_timeout: float,
    probes: bool,
) -> Result:
    timings: dict[str, float] = {}
    before = host.store.ownership()
    touched = {op.bond for op in plan.ops} | before.owned | before.adopted
    touched |= set(proposal.adopting)
    snapshot = snapshot_desired(actual, touched, proposal.desired.settings)
    txn = Pending.new_id()
    runner = Holder.me(host.role)
    if host.deadman is not None:
        host.deadman.start(txn, runner)  # it starts up while the probes are pre-selected
    gates, skipped = _preselect(host, proposal, plan, timings) if probes else ([], [])
    pending = Pending(
        txn=txn,
        boot_id=host.boot_id,
        pid=os.getpid(),
        proposal_hash=proposal.hash,
        proposal=proposal.desired,
        snapshot=snapshot,
        ownership_before=before,
        ownership_after=plan.ownership,
        phase=Phase.APPLYING,
        deadline=host.wall() + APPLY_BUDGET,
        confirm_timeout=confirm_timeout,
        runner=runner,
        staged=proposal.staged,
        # Armed before the record exists (a guard waits for it): one write names
        # the guard, and nothing is on disk to take back if it never comes.
        guard=host.deadman.armed(txn) if host.deadman is not None else None,
    )
    with shielded():
        host.store.save_pending(pending)  # before the first write, files included
    try:
        with interruptible():  # a signal from here on is answered by a rollback
            staged.install(proposal.staged)
            started = host.clock.monotonic()
            verified = run_plan(plan, host.writer, host.reader, host.store, host.clock).actual
            timings["apply"] = host.clock.monotonic() - started
            started = host.clock.monotonic()
            results = run_probes(gates, host.prober, host.clock) if probes else []
            if proposal.desired.settings.lacp_gate and all(r.ok for r in results):
                results += run_lacp_gate(lacp_bonds_of(plan), host.reader, host.clock)
            timings["gates"] = host.clock.monotonic() - started
    except (ApplyError, VerifyError, HandoffError, Interrupted) as exc:
        reason = exc.message if isinstance(exc, BonddError) else str(exc)
        rollback(host, pending, reason, timings, reject=not isinstance(exc, Interrupted))
        return Result(
            Status.ROLLED_BACK, plan, pending.txn, reason, tuple(skipped), timings=timings
        )
    except BaseException:
        rollback(host, pending, "interrupted while applying", timings, reject=False)
        raise
    report = tuple(skipped) + tuple(results)
    failed = [r for r in results if not r.ok]
    if failed:
        reason = "; ".join(r.describe() for r in failed)
        rollback(host, pending, reason, timings)
        return Result(Status.ROLLED_BACK, plan, pending.txn, reason, report, timings=timings)
    if confirm_timeout > 0:
        deadline = host.wall() + confirm_timeout
        with shielded():  # a signal during it is answered in the window, by whoever holds it
            host.store.save_pending(pending.with_(phase=Phase.WAITING, deadline=deadline))
        return Result(Status.WAITING, plan, pending.txn, "", report, deadline, timings, verified)
    commit(host, pending)
    return Result(Status.COMMITTED, plan, pending.txn, "", report, timings=timings, actual=verified)


def _preselect(
    host: Host, proposal: Proposal, plan: Plan, timings: dict[str, float]
) -> tuple[list[ProbeSpec], list[GateResult]]:
    """The probes that can run (and the ones skipped, with why), chosen before any write."""
    wanted = proposal.desired.settings.probes or default_probes(
        gateways_of(plan, proposal.adopting)
    )
    started = host.clock.monotonic()
    chosen = preselect(wanted, host.prober)
    timings["preselect"] = host.clock.monotonic() - started
    return chosen


def commit(host: Host, pending: Pending) -> None:
    with shielded(absorb=True):  # begun, a commit is past undoing: a signal gets the result
        host.store.save_committed(pending.proposal_hash, pending.proposal)
        if host.store.ownership() != pending.ownership_after:  # run_plan saved it already
            host.store.save_ownership(pending.ownership_after)
        host.store.drop_pending()
        count_transaction(host.store.dir, "committed", host.wall())


def confirm(host: Host, txn: str | None = None) -> Pending | None:
    """Commit the waiting transaction (any, or the one named); None if there is none."""
    with TransactionLock(host.store.dir, wait=10.0):
        recover(host)  # a deadline that already passed is a rollback, not a confirmation
        pending = host.store.pending()
        if pending is None or (txn is not None and pending.txn != txn):
            return None
        if pending.phase is not Phase.WAITING:
            raise BusyError(
                f"transaction {pending.txn} is still being applied",
                "confirm it once it waits for confirmation",
            )
        commit(host, pending)
        return pending


def rollback(
    host: Host,
    pending: Pending,
    reason: str,
    timings: dict[str, float] | None = None,
    *,
    reject: bool = True,
) -> None:
    """Converge to the snapshot, verify, restore files, remember the proposal as rejected.

    `reject` False: the change was stopped (a signal), not found wrong; the
    daemon considers the same files again at its next start.
    """
    with shielded(absorb=True):  # a signal during a rollback has its answer in it
        _rollback(host, pending, reason, timings, reject=reject)


def _rollback(
    host: Host, pending: Pending, reason: str, timings: dict[str, float] | None, *, reject: bool
) -> None:
    started = host.clock.monotonic()
    # Who undoes it is named first: if it dies mid-way, the guard starts over.
    # A fresh budget: the confirm deadline that started it has passed already.
    pending = pending.with_(
        phase=Phase.ROLLING_BACK,
        runner=Holder.me(host.role),
        deadline=host.wall() + APPLY_BUDGET,
    )
    host.store.save_pending(pending)
    actual = host.reader.read()
    ownership = (
        host.store.ownership()
        .merged_with(pending.ownership_after)
        .merged_with(pending.ownership_before)
    )
    try:
        undo = planner.plan(pending.snapshot, actual, ownership)
        execute_or_raise(undo.ops, host.writer)
        _, differences = verify(undo.targets, host.reader, host.clock)
    except BonddError as exc:
        count_transaction(host.store.dir, "failed", host.wall())
        raise RollbackError(
            f"rollback of {pending.txn} failed: {exc.message}",
            "the pending record is kept; run `bondctl rollback` again",
        ) from exc
    if differences:
        count_transaction(host.store.dir, "failed", host.wall())
        raise RollbackError(
            f"rollback of {pending.txn} did not restore the snapshot: "
            + "; ".join(d.describe() for d in differences),
            "the pending record is kept; run `bondctl rollback` again",
        )
    staged.restore(pending.staged)
    host.store.save_ownership(pending.ownership_before)
    if reject:
        host.store.reject(pending.proposal_hash, reason)
    host.store.drop_pending()
    count_transaction(host.store.dir, "rolled_back", host.wall())
    if timings is not None:
        timings["rollback"] = host.clock.monotonic() - started


def rollback_pending(
    host: Host, reason: str, txn: str | None = None, *, only_if_due: bool = False
) -> Pending | None:
    """Roll back the pending transaction (any, or the one named); None if there is none.

    `only_if_due`: the timer's call; a confirmation that won the race for the
    lock (or a deadline not yet reached) leaves the transaction alone.
    """
    with TransactionLock(host.store.dir, wait=30.0):
        pending = host.store.pending()
        if pending is None or (txn is not None and pending.txn != txn):
            return None
        if rebooted(pending.boot_id, host.boot_id):
            recover(host)  # after a reboot there is nothing to undo: the proposal is dropped
            return pending
        if only_if_due and (pending.phase is not Phase.WAITING or host.wall() < pending.deadline):
            return None
        rollback(host, pending, reason)
        return pending


def take_over(host: Host, txn: str, reason: str) -> Pending | None:
    """The guard's rollback: the runner of `txn` died (its lock is free) or overran.

    None when there is nothing left to do: the transaction ended, or it waits
    in its confirm window whose deadline has not passed.
    """
    with TransactionLock(host.store.dir, wait=30.0):
        pending = host.store.pending()
        if pending is None or pending.txn != txn:
            return None
        if pending.boot_id != host.boot_id:
            recover(host)
            return pending
        if pending.phase is Phase.WAITING and host.wall() < pending.deadline:
            return None
        rollback(host, pending, reason)
        return pending


def rollback_mine(host: Host, reason: str) -> Pending | None:
    """Roll back a transaction this process left open (a signal between two steps)."""
    with TransactionLock(host.store.dir, wait=30.0):
        pending = host.store.pending()
        if pending is None or pending.runner is None or pending.runner.pid != os.getpid():
            return None
        rollback(host, pending, reason, reject=False)
        return pending


def recover_now(host: Host) -> str | None:
    """`recover` under the lock: what every state-changing process does first."""
    with TransactionLock(host.store.dir, wait=30.0):
        return recover(host)


def recover(host: Host) -> str | None:
    """Deal with a pending record left behind; call with the lock held.

    Returns what was done, or None. A WAITING record whose deadline has not
    passed is left to its timer.
    """
    pending = host.store.pending()
    if pending is None:
        return None
    if rebooted(pending.boot_id, host.boot_id):
        # The kernel state it changed is gone with the reboot: drop the proposal.
        staged.restore(pending.staged)
        host.store.save_ownership(pending.ownership_before)
        host.store.reject(pending.proposal_hash, "the host rebooted during the transaction")
        host.store.drop_pending()
        count_transaction(host.store.dir, "rolled_back", host.wall())
        return f"transaction {pending.txn} was interrupted by a reboot: proposal rejected"
    if pending.phase in (Phase.APPLYING, Phase.ROLLING_BACK):
        # Its process held the lock; we have it, so that process is gone.
        rollback(host, pending, "the process applying it stopped before it finished")
        return f"transaction {pending.txn} was abandoned mid-apply: rolled back"
    if host.wall() >= pending.deadline:
        rollback(host, pending, f"not confirmed within {pending.confirm_timeout:g}s")
        return f"transaction {pending.txn} was not confirmed in time: rolled back"
    return None
