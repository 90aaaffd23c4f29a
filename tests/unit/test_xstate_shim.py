"""The lab's xstate shim turns the SETREGSET that fails on AMX hosts into one that works.

tests/lab/xstate_probe.c makes, on any x86-64 host, the call UML makes on a
host with AMX: PTRACE_SETREGSET NT_X86_XSTATE with a buffer shorter than the
host's full xstate. The host kernel refuses it with EFAULT; with the shim
preloaded it succeeds and the tracee holds the state that was set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.lab.uml import XSTATE_SOURCE, xstate_shim

PROBE_SOURCE = XSTATE_SOURCE.with_name("xstate_probe.c")


def build_probe(tmp_path: Path) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    assert compiler is not None, "scripts/setup.sh installs gcc"
    probe = tmp_path / "xstate_probe"
    subprocess.run([compiler, "-O2", "-Wall", "-o", str(probe), str(PROBE_SOURCE)], check=True)
    return probe


def test_host_refuses_a_short_xstate_buffer_without_the_shim(tmp_path: Path) -> None:
    done = subprocess.run([build_probe(tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stdout
    assert "errno 14" in done.stdout


def test_shim_makes_the_short_buffer_work_and_keeps_the_state(tmp_path: Path) -> None:
    shim = xstate_shim(tmp_path)
    assert shim is not None
    done = subprocess.run(
        [build_probe(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, LD_PRELOAD=str(shim)),
    )
    assert done.returncode == 0, done.stdout
    assert "state kept" in done.stdout
