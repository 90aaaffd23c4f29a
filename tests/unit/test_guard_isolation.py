"""The rollback guard bondctl starts as root imports only the installed bondd."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pytest

from bondd.cli import context

pytestmark = pytest.mark.unit


def _guards_of(state_dir: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"bondd.cli.guard" in cmdline and str(state_dir).encode() in cmdline:
            found.append(int(proc.name))
    return found


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
    args = argparse.Namespace(state_dir=state_dir, config_dirs=[], run_dir=tmp_path / "run")
    context.start_guard(args, "txn-none")  # no pending record: a real guard exits at once
    deadline = time.monotonic() + 20
    while _guards_of(state_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _guards_of(state_dir)
    assert not marker.exists(), "the guard imported bondd from the caller's directory"


def test_a_guard_that_fails_at_once_is_reported_and_leaves_its_error_in_the_state_dir(
    tmp_path: Path,
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / "pending.json").write_text("{not json")  # the guard cannot read its record
    args = argparse.Namespace(state_dir=state_dir, config_dirs=[], run_dir=tmp_path / "run")
    context.start_guard(args, "txn-1")
    deadline = time.monotonic() + 20
    while _guards_of(state_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    log = (state_dir / context.GUARD_LOG).read_text()
    assert "guard txn-1: failed" in log
    assert (state_dir / context.GUARD_LOG).stat().st_mode & 0o777 == 0o600
