"""`bondctl apply` through the daemon runs the plan the admin approved, or none.

Between showing the plan and the admin's "y" the kernel can move (another tool,
a person with `echo > /sys/...`). The daemon then does nothing and answers the
new plan, which bondctl shows and asks about again, as standalone bondctl does.
Judged by sysfs and by what the admin was shown.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from bondd.protocol import request
from tests.kernel.daemon_harness import Daemon
from tests.kernel.test_daemon import BONDCTL, POLL, bond_yaml, converged, started, write
from tests.lab.netlab import Lab, sysfs, wait_for

pytestmark = pytest.mark.kernel

PROMPT = b"[y/N] "


def until_prompt(proc: subprocess.Popen[bytes], timeout: float = 60.0) -> bytes:
    """What bondctl printed up to its question (it ends no line, so read bytes)."""
    assert proc.stdout is not None
    shown = b""
    deadline = time.monotonic() + timeout
    while not shown.endswith(PROMPT):
        left = deadline - time.monotonic()
        assert left > 0, f"no prompt; shown so far: {shown!r}"
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            assert chunk, f"bondctl ended before asking: {shown!r}"
            shown += chunk
    return shown


def interactive_apply(daemon: Daemon, new: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [BONDCTL, *daemon.client_dirs, "apply", str(new)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def converged_daemon(lab: Lab, daemon: Daemon) -> None:
    """The daemon running, with bond0 converged from the file it was given."""
    started(lab, daemon)
    write(daemon, bond_yaml())
    wait_for(converged, timeout=30, interval=POLL)


def answer(proc: subprocess.Popen[bytes], text: bytes) -> tuple[str, str]:
    out, err = proc.communicate(text, timeout=120)
    return out.decode(), err.decode()


def test_the_plan_approved_is_the_plan_the_daemon_runs(
    lab: Lab, daemon: Daemon, tmp_path: Path
) -> None:
    converged_daemon(lab, daemon)
    new = tmp_path / "10-bond.yaml"
    new.write_text(bond_yaml(miimon=300))
    proc = interactive_apply(daemon, new)
    shown = until_prompt(proc).decode()
    assert "miimon" in shown and "300" in shown, shown
    assert sysfs("bond0/bonding/miimon") == "100"  # asking changes nothing
    _, err = answer(proc, b"y\n")
    assert proc.returncode == 0, err
    assert "kernel changed" not in err
    assert sysfs("bond0/bonding/miimon") == "300"


def test_a_kernel_that_moved_after_the_plan_was_shown_gets_a_new_plan_and_question(
    lab: Lab, daemon: Daemon, tmp_path: Path
) -> None:
    converged_daemon(lab, daemon)
    # Drift repair held off, or the daemon would undo the move before the apply.
    assert request(daemon.run_dir, {"cmd": "hold", "bond": "bond0", "seconds": 120})["ok"]
    new = tmp_path / "10-bond.yaml"
    new.write_text(bond_yaml(miimon=300))
    proc = interactive_apply(daemon, new)
    first = until_prompt(proc).decode()
    assert "miimon" in first and "add port" not in first, first
    Path("/sys/class/net/bond0/bonding/slaves").write_text("-p1")  # meanwhile, by hand
    assert proc.stdin is not None
    proc.stdin.write(b"y\n")
    proc.stdin.flush()
    second = until_prompt(proc).decode()  # asked again, about the plan as it is now
    assert "add port p1 to bond0" in second, second
    assert sysfs("bond0/bonding/miimon") == "100"  # the plan approved first did not run
    _, err = answer(proc, b"y\n")
    assert proc.returncode == 0, err
    assert "the kernel changed since this plan was made" in err, err
    assert sysfs("bond0/bonding/miimon") == "300"
    assert sysfs("bond0/bonding/slaves").split() == ["p0", "p1"]


def test_a_plan_declined_changes_nothing(lab: Lab, daemon: Daemon, tmp_path: Path) -> None:
    converged_daemon(lab, daemon)
    new = tmp_path / "10-bond.yaml"
    new.write_text(bond_yaml(miimon=300))
    proc = interactive_apply(daemon, new)
    until_prompt(proc)
    _, err = answer(proc, b"n\n")
    assert proc.returncode != 0 and "nothing applied" in err, err
    assert sysfs("bond0/bonding/miimon") == "100"
    assert (daemon.config_dir / "10-bond.yaml").read_text() == bond_yaml()
