"""Proposals and transactions in the daemon: a config change in, a transaction out.

Config-directory changes are checked (bondd.config.check), compared with the
committed and rejected proposals, and applied as a transaction with probes
and rollback (bondd.engine.transaction); the confirm window's deadline and
stopping mid-window are decided here. Every outcome is one journal entry.
"""

from __future__ import annotations

import logging
import os
import signal
import stat
import time
from pathlib import Path
from typing import Any

from bondd import config
from bondd.config import limits
from bondd.config.digest import FilesDigest
from bondd.config.loader import discover
from bondd.daemon.drift import DriftRepair
from bondd.deadman import guard_outlives_us
from bondd.engine.transaction import (
    Proposal,
    Result,
    Status,
    begin,
    rollback_pending,
)
from bondd.engine.window import ConfirmWindow
from bondd.errors import BonddError
from bondd.interrupt import rollback_on
from bondd.log import event
from bondd.plan.planner import Plan

RETRY_TEMPORARY = 5.0  # a busy lock or a passing kernel refusal


def _regular_bytes(path: Path, budget: int) -> bytes | None:
    """A regular file's bytes, never blocking (a FIFO named *.yaml is opened non-blocking
    and refused), None past `budget` or for anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(budget + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= budget else None


class Proposals(DriftRepair):
    def leave_nothing_unguarded(self) -> None:
        """Stopping: a transaction waiting for confirmation is handed to its guard,
        if one runs outside this service, else rolled back now; the journal says which."""
        pending = self.host.store.pending()
        if pending is None:
            return
        guard = pending.guard
        if guard is not None and guard.alive() and guard_outlives_us(guard):
            event(
                self.log,
                "handed_over",
                f"stopping with transaction {pending.txn} waiting for confirmation:"
                f" its deadline {time.strftime('%H:%M:%S', time.localtime(pending.deadline))}"
                f" is held by the {guard.describe()}",
                level=logging.WARNING,
                txn=pending.txn,
            )
            return
        reason = "bondd stopped during the confirm window and no guard outlives it"
        try:
            done = rollback_pending(self.host, reason, pending.txn)
        except BonddError as exc:
            event(self.log, "error", f"stopping: rollback failed: {exc.message}", level=50)
            return
        if done is not None:
            event(
                self.log,
                "rolled_back",
                f"stopping: rolled back transaction {done.txn}: {reason}",
                level=logging.WARNING,
                txn=done.txn,
                proposal=done.proposal_hash,
            )

    def consider_proposal(self, force: bool = False) -> None:
        """Read the config directories; apply a new, valid proposal if asked to."""
        if not force and self.unchanged_since_commit():
            self.proposal_note = ""
            return
        try:
            result = config.check(self.dirs, explicit=self.explicit)
        except BonddError as exc:
            self.proposal_note = f"configuration unreadable: {exc.message}"
            event(self.log, "proposal_invalid", self.proposal_note, level=logging.ERROR)
            return
        digest = result.digest  # of the bytes checked, not a second read
        committed = self.host.store.committed()
        if committed is not None and committed[0] == digest:
            self.proposal_note = ""
            return
        if not result.ok:
            errors = [d.format() for d in result.diagnostics if d.severity.value == "error"]
            self.proposal_note = f"proposal invalid ({len(errors)} errors); running state kept"
            if force or digest not in self.reported:
                self.reported.add(digest)
                event(
                    self.log,
                    "proposal_invalid",
                    self.proposal_note + ": " + "; ".join(errors[:5]),
                    level=logging.ERROR,
                    proposal=digest,
                )
            return
        rejected = self.host.store.rejected()
        if digest in rejected and not force:
            self.proposal_note = f"proposal {digest} was rolled back: {rejected[digest]}"
            if digest not in self.reported:
                self.reported.add(digest)
                event(
                    self.log,
                    "proposal_rejected",
                    self.proposal_note,
                    level=logging.WARNING,
                    proposal=digest,
                )
            return
        if not result.state.settings.apply_on_change:
            self.proposal_note = f"proposal {digest} pending: run `bondctl apply` to apply it"
            if digest not in self.reported:
                self.reported.add(digest)
                event(self.log, "proposal_pending", self.proposal_note, proposal=digest)
            return
        self.apply_proposal(Proposal(result.state, digest), force)

    def apply_proposal(self, proposal: Proposal, force: bool) -> None:
        """A valid new proposal from the directories: apply it, or say why not yet."""
        digest = proposal.hash
        if self.host.store.pending() is not None:
            self.timers["config"] = self.now() + 1.0  # after the confirm window
            return
        if digest in self.failed and not force:
            self.proposal_note = f"proposal {digest} cannot be applied: {self.failed[digest]}"
            return
        try:
            self.transaction(proposal)
        except BonddError as exc:
            if exc.permanent:  # until the files change: no retry
                self.failed[digest] = exc.message
                self.proposal_note = f"proposal {digest} cannot be applied: {exc.message}"
            else:  # a lock, EBUSY, a race with a link coming or going: try again
                self.proposal_note = f"proposal {digest} not applied yet: {exc.message}"
                self.timers["config"] = self.now() + RETRY_TEMPORARY

    def unchanged_since_commit(self, staged: dict[Path, bytes] | None = None) -> bool:
        """The files (with `staged` in place) hold exactly the committed bytes.

        The same name-and-bytes hash a check computes, without the parse: a
        no-op apply, and the watcher waking for the files an apply installed,
        would otherwise parse 1,000 VLANs again only to find them committed.
        """
        committed = self.host.store.committed()
        if committed is None:
            return False
        staged = staged or {}
        try:
            files = discover(self.dirs, explicit=self.explicit, staged=staged)
        except BonddError:
            return False
        digest = FilesDigest()
        budget = limits.MAX_TOTAL_BYTES
        for path in files:
            data = staged.get(path)
            data = data if data is not None else _regular_bytes(path, budget)
            if data is None or len(data) > budget:
                return False  # not a plain readable file: the full check says why
            budget -= len(data)
            digest.add(path, data)
        return digest.hexdigest() == committed[0]

    def transaction(
        self,
        proposal: Proposal,
        confirm_timeout: float = 0.0,
        probes: bool = True,
        expected: Plan | None = None,
    ) -> Result:
        try:
            # SIGTERM or SIGINT during the apply or its probes (`systemctl stop`):
            # roll back now, then stop; never left for systemd's SIGKILL. Anywhere
            # else the step finishes, and the main loop (woken by the same signal)
            # stops: a change waiting for confirmation is handed to its guard.
            with rollback_on((signal.SIGTERM, signal.SIGINT), everywhere=False):
                result = begin(
                    self.host,
                    proposal,
                    confirm_timeout=confirm_timeout,
                    probes=probes,
                    expected=expected,
                )
        except BonddError as exc:
            if exc.message not in self.reported:
                self.reported.add(exc.message)
                event(
                    self.log,
                    "apply_failed",
                    exc.message,
                    level=logging.ERROR,
                    proposal=proposal.hash,
                )
            raise
        self.log_result(proposal, result)
        self.proposal_note = ""
        if result.actual is not None and result.plan is not None:
            self.refresh_managed(result.actual, result.plan.targets)  # the apply's own read
        else:
            self.refresh_managed()
        return result

    def log_result(self, proposal: Proposal, result: Result) -> None:
        """One journal entry for how the transaction ended."""
        if result.reason.startswith("interrupted by"):
            event(
                self.log,
                "stopping",
                f"{result.reason} inside transaction {result.txn}: rolled back before stopping",
                level=logging.WARNING,
                txn=result.txn,
            )
        fields: dict[str, Any] = {"proposal": proposal.hash, "txn": result.txn}
        bonds = ",".join(sorted(result.plan.disruption())) if result.plan else ""
        if result.status is Status.ROLLED_BACK:
            event(
                self.log,
                "rolled_back",
                f"rolled back: {result.reason}",
                level=logging.ERROR,
                bond=bonds,
                **fields,
            )
        elif result.status is Status.WAITING:
            assert result.deadline is not None
            self.arm_confirm(result.deadline)
            event(
                self.log,
                "waiting",
                f"applied; waiting for confirmation until"
                f" {time.strftime('%H:%M:%S', time.localtime(result.deadline))}",
                bond=bonds,
                **fields,
            )
        elif result.status is Status.COMMITTED:
            assert result.plan is not None
            event(
                self.log,
                "applied",
                f"applied {len(result.plan.ops)} operations to {bonds}",
                bond=bonds,
                ops=len(result.plan.ops),
                **fields,
            )

    def arm_confirm(self, deadline: float) -> None:
        self.timers["confirm"] = self.now() + max(0.0, deadline - self.host.wall())

    def confirm_deadline(self) -> None:
        pending = self.host.store.pending()
        if pending is None:
            return
        if not ConfirmWindow(pending.deadline, self.host.wall, self.host.clock.sleep).expired():
            self.arm_confirm(pending.deadline)
            return
        reason = f"not confirmed within {pending.confirm_timeout:g}s"
        if rollback_pending(self.host, reason, pending.txn, only_if_due=True) is not None:
            event(
                self.log,
                "rolled_back",
                f"rolled back: {reason}",
                level=logging.ERROR,
                txn=pending.txn,
                proposal=pending.proposal_hash,
            )
        self.refresh_managed()
