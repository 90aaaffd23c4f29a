"""The pending transaction: everything needed to undo a change, on disk first.

Written (atomically) before the first kernel write, so any bondd process
that starts later, after a crash, a SIGKILL or a reboot, can finish the job:
roll back to the snapshot, or, after a reboot, drop the proposal.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from bondd.engine.holder import Holder
from bondd.engine.serial import desired_from_json, desired_to_json
from bondd.model import DesiredState
from bondd.plan.ownership import Ownership


class Phase(enum.StrEnum):
    APPLYING = "applying"  # executing, verifying, probing: its process owns it
    WAITING = "waiting"  # in the confirm window: a timer (guard or daemon) owns it
    ROLLING_BACK = "rolling-back"  # its runner is undoing it; the guard retries if it dies


@dataclass(frozen=True)
class StagedFile:
    """A file the transaction installs and restores on rollback.

    `bondctl apply FILE` stages files into the config directory; `bondctl
    takeover` also stages the other manager's files it changes. `old` None:
    the file did not exist (a rollback removes it); `new` None: the
    transaction removes the file (a rollback writes `old` back). `mode`
    keeps the permission bits of the file it replaces. `reload` is a command
    run once after the transaction installs its files and once after a
    rollback restores them (`nmcli general reload`), so the other manager
    sees each state.
    """

    path: str
    new: str | None
    old: str | None
    mode: int | None = None
    reload: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "new": self.new,
            "old": self.old,
            "mode": self.mode,
            "reload": list(self.reload),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StagedFile:
        return cls(
            path=data["path"],
            new=data.get("new"),
            old=data.get("old"),
            mode=data.get("mode"),
            reload=tuple(data.get("reload", ())),
        )


@dataclass(frozen=True)
class Pending:
    txn: str
    boot_id: str
    pid: int  # the process that began the transaction
    proposal_hash: str
    proposal: DesiredState  # what becomes committed on confirm
    snapshot: DesiredState  # what a rollback converges to
    ownership_before: Ownership
    ownership_after: Ownership
    phase: Phase = Phase.APPLYING
    deadline: float = 0.0  # wall clock (time.time()); survives a restart
    confirm_timeout: float = 0.0
    runner: Holder | None = None  # who runs the current step; its death is a rollback
    guard: Holder | None = None  # the dead-man timer: rolls back if the runner dies or is late
    staged: tuple[StagedFile, ...] = field(default=())

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex[:12]

    def with_(self, **changes: Any) -> Pending:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "txn": self.txn,
            "boot_id": self.boot_id,
            "pid": self.pid,
            "proposal_hash": self.proposal_hash,
            "proposal": desired_to_json(self.proposal),
            "snapshot": desired_to_json(self.snapshot),
            "ownership_before": self.ownership_before.to_json(),
            "ownership_after": self.ownership_after.to_json(),
            "phase": self.phase.value,
            "deadline": self.deadline,
            "confirm_timeout": self.confirm_timeout,
            "runner": self.runner.to_json() if self.runner else None,
            "guard": self.guard.to_json() if self.guard else None,
            "staged": [s.to_json() for s in self.staged],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pending:
        return cls(
            txn=data["txn"],
            boot_id=data["boot_id"],
            pid=int(data["pid"]),
            proposal_hash=data["proposal_hash"],
            proposal=desired_from_json(data["proposal"]),
            snapshot=desired_from_json(data["snapshot"]),
            ownership_before=Ownership.from_json(data["ownership_before"]),
            ownership_after=Ownership.from_json(data["ownership_after"]),
            phase=Phase(data.get("phase", "applying")),
            deadline=float(data.get("deadline", 0.0)),
            confirm_timeout=float(data.get("confirm_timeout", 0.0)),
            runner=Holder.from_json(data.get("runner")),
            guard=Holder.from_json(data.get("guard")),
            staged=tuple(StagedFile.from_json(s) for s in data.get("staged", ())),
        )
