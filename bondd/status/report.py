"""The facts `bondctl status` shows, gathered in one place for bondctl and the daemon.

`bondctl status` gathers them itself when no daemon runs; with a daemon the
daemon does, from its last verified read of the kernel while that is fresh,
so the client only prints (bondd/daemon/queries.py, bondd/status/render.py). Either way the same
report comes out: the kernel's view, ownership, the drift from the
configuration, the last failover drill per bond and the pending change. A
missing or invalid configuration, or an unreadable state directory, is a
line in the report, not a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bondd.drill.measure import DrillSummary
from bondd.drill.records import DrillRecords
from bondd.engine.store import Store
from bondd.errors import BonddError
from bondd.model import ActualState, DesiredState
from bondd.plan.diff import diff
from bondd.plan.ownership import Ownership
from bondd.plan.target import build_targets
from bondd.status.render import Drift, PendingInfo, StatusReport

# A port's speed in Mb/s and its duplex, each None where the driver does not say.
SpeedReader = Callable[[str], tuple[int | None, str | None]]


def gather(
    actual: ActualState,
    store: Store,
    state_dir: Path,
    desired: Callable[[], DesiredState],
    speed: SpeedReader,
    *,
    only: str | None = None,
) -> StatusReport:
    """One status report; `desired` loads the configuration (its errors become drift's)."""
    ownership, ownership_error = _ownership(store)
    return StatusReport(
        actual=actual,
        ownership=ownership,
        drift=_drift(desired, actual, ownership or Ownership()),
        speeds={port.name: speed(port.name) for bond in actual.bonds for port in bond.ports},
        only=only,
        ownership_error=ownership_error,
        drills=_drills(state_dir),
        pending=_pending(store),
    )


def unknown_bond(report: StatusReport, only: str | None) -> tuple[str, str] | None:
    """The error and hint when the one bond asked for is neither in the kernel nor configured."""
    if only is None or report.bonds or report.missing:
        return None
    names = ", ".join(b.name for b in report.actual.bonds)
    return (
        f"no bond named {only} in the kernel or the configuration",
        f"bonds here: {names}" if names else "there are no bonds",
    )


def _ownership(store: Store) -> tuple[Ownership | None, str | None]:
    try:
        return store.ownership(), None
    except BonddError as exc:
        return None, exc.message


def _drills(state_dir: Path) -> dict[str, DrillSummary]:
    """The last failover drill per bond; an unreadable record only hides that line."""
    try:
        return DrillRecords(state_dir).summaries()
    except (BonddError, KeyError, TypeError, ValueError):
        return {}


def _drift(desired: Callable[[], DesiredState], actual: ActualState, ownership: Ownership) -> Drift:
    try:
        state = desired()
        targets = build_targets(state, actual, ownership.owned)
    except BonddError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        return Drift(error=f"{exc.message}{hint}")
    return Drift(
        configured=frozenset(b.name for b in state.bonds),
        differences=tuple(diff(targets, actual)),
        absent={t.name: t.absent for t in targets.bonds if t.absent},
    )


def _pending(store: Store) -> PendingInfo | None:
    try:
        pending = store.pending()
    except BonddError:
        return None  # an unreadable state directory is already reported
    if pending is None:
        return None
    return PendingInfo(pending.txn, pending.phase.value, pending.deadline)
