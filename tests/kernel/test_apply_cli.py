"""`bondctl apply` through the real command line: confirm window, guard, kills, files."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from bondd.engine.store import Store
from tests.kernel.harness import Bondd, differences, kernel_state
from tests.lab.guard import venv_command
from tests.lab.netlab import HOST_ADDRESS, PREFIX, Lab, sysfs, wait_for

BONDCTL = venv_command("bondctl")

OLD = f"""network:
  version: 2
  ethernets: {{p0: {{}}, p1: {{}}}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters: {{mode: active-backup, mii-monitor-interval: 100}}
      addresses: [{HOST_ADDRESS}/{PREFIX}]
"""
NEW = OLD.replace(
    "mode: active-backup, mii-monitor-interval: 100", "mode: balance-xor, mii-monitor-interval: 50"
)


def bondctl(bondd: Bondd, *args: str, wait: bool = True) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            BONDCTL,
            "--config-dir",
            str(bondd.config_dir),
            "--state-dir",
            str(bondd.state_dir),
            *args,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if wait:
        proc.wait(timeout=120)
    return proc


def prepare(lab: Lab, bondd: Bondd, tmp_path: Path) -> tuple[Path, dict[str, object]]:
    lab.cable("p0")
    lab.cable("p1")
    lab.bridge_switch(["p0", "p1"])
    bondd.write(OLD, "10-bond.yaml")
    first = bondctl(bondd, "apply", "--yes")
    assert first.returncode == 0, first.stdout.read() if first.stdout else ""
    new_file = tmp_path / "10-bond.yaml"
    new_file.write_text(NEW)
    return new_file, view(bondd)


def view(bondd: Bondd) -> dict[str, object]:
    del bondd  # the kernel's view, not the harness's reader
    return kernel_state(["bond0", "p0", "p1"])


def wait_waiting(bondd: Bondd) -> int:
    def guarded() -> bool:
        pending = Store(bondd.state_dir).pending()
        return (
            pending is not None and pending.phase.value == "waiting" and pending.guard is not None
        )

    wait_for(guarded, timeout=60, interval=0.1)
    pending = Store(bondd.state_dir).pending()
    assert pending is not None and pending.guard is not None
    return pending.guard.pid


def test_unconfirmed_change_rolls_back_at_the_deadline(
    lab: Lab, bondd: Bondd, tmp_path: Path
) -> None:
    new_file, before = prepare(lab, bondd, tmp_path)
    started = time.monotonic()
    proc = bondctl(bondd, "apply", "--yes", "--confirm-timeout", "3", str(new_file))
    out = proc.stdout.read() if proc.stdout else ""
    assert proc.returncode == 3, out
    assert "rolled back: not confirmed within 3s" in out
    print(
        f"\nLAB-FIGURE unconfirmed apply rolled back after {time.monotonic() - started:.1f}s"
        " (3 s window, Python start included)"
    )
    after = view(bondd)
    assert after == before, differences(before, after)
    assert (bondd.config_dir / "10-bond.yaml").read_text() == OLD
    assert sysfs("bond0/bonding/mode").split()[0] == "active-backup"


def test_confirm_from_a_second_process_commits(lab: Lab, bondd: Bondd, tmp_path: Path) -> None:
    new_file, _ = prepare(lab, bondd, tmp_path)
    apply = bondctl(bondd, "apply", "--yes", "--confirm-timeout", "60", str(new_file), wait=False)
    wait_waiting(bondd)
    confirm = bondctl(bondd, "confirm")
    assert confirm.returncode == 0, confirm.stdout.read() if confirm.stdout else ""
    apply.wait(timeout=30)
    out = apply.stdout.read() if apply.stdout else ""
    assert apply.returncode == 0, out
    assert sysfs("bond0/bonding/mode").split()[0] == "balance-xor"
    assert (bondd.config_dir / "10-bond.yaml").read_text() == NEW
    again = bondctl(bondd, "apply", "--yes")
    assert again.returncode == 0
    assert "converged: nothing to do" in (again.stdout.read() if again.stdout else "")


def test_killed_apply_and_guard_are_rolled_back_by_the_next_start(
    lab: Lab, bondd: Bondd, tmp_path: Path
) -> None:
    new_file, before = prepare(lab, bondd, tmp_path)
    apply = bondctl(bondd, "apply", "--yes", "--confirm-timeout", "4", str(new_file), wait=False)
    guard = wait_waiting(bondd)
    assert sysfs("bond0/bonding/mode").split()[0] == "balance-xor"
    os.kill(apply.pid, signal.SIGKILL)
    os.kill(guard, signal.SIGKILL)
    apply.wait(timeout=10)
    time.sleep(5)  # past the deadline, nobody left to roll back
    assert sysfs("bond0/bonding/mode").split()[0] == "balance-xor"
    start = bondctl(bondd, "apply", "--yes")
    out = start.stdout.read() if start.stdout else ""
    assert start.returncode == 0, out
    after = view(bondd)
    assert after == before, differences(before, after)
    assert (bondd.config_dir / "10-bond.yaml").read_text() == OLD
    assert Store(bondd.state_dir).pending() is None
