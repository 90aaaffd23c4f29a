"""The rollback guard bondctl starts as root imports only the installed bondd."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bondd import deadman
from bondd.engine.holder import Holder

pytestmark = pytest.mark.unit

# A runner that is not alive, so a guard without a record leaves at once.
GONE = Holder(4_194_000, 1, "none", "gone")


def test_a_bondd_package_planted_in_the_callers_directory_never_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = tmp_path / "cwd" / "bondd"
    (planted / "cli").mkdir(parents=True)
    marker = tmp_path / "ran"
    payload = f"open({str(marker)!r}, 'w').write('planted code ran')\n"
    (planted / "__init__.py").write_text(payload)
    (planted / "cli" / "__init__.py").write_text(payload)
    (planted / "cli" / "guard.py").write_text(payload)
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "cwd"))
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    # No pending record: a real guard exits at once.
    starter = deadman.GuardStarter(state_dir, use_systemd=False)
    starter.start("txn-none", GONE)
    (guard,) = starter.children
    assert guard.wait(timeout=30) == 0
    assert not marker.exists(), "the guard imported bondd from the caller's directory"


def test_a_guard_that_fails_at_once_is_reported_and_leaves_its_error_in_the_state_dir(
    tmp_path: Path,
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / "pending.json").write_text("{not json")  # the guard cannot read its record
    deadman.GuardStarter(state_dir, use_systemd=False).start("txn-1", GONE)
    log_path = state_dir / deadman.GUARD_LOG
    deadline = time.monotonic() + 60  # it gives the record guard.UNREADABLE_GRACE first
    while "guard txn-1: failed" not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "guard txn-1: failed" in log_path.read_text()
    assert log_path.stat().st_mode & 0o777 == 0o600
