"""Run a bench entry point inside the lab kernel, booting it first when needed.

The benchmarks and the fault campaign create and destroy bonds, so, like the
kernel tests, they run only inside the lab (User-Mode Linux). Started on the
host, an entry point re-runs itself there through tests/lab/run.py, with the
virtualenv's Python. Only the standard library: the host side may run under
the system `python3`.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_PYTHON = REPO / ".venv" / "bin" / "python"


def host_description() -> str:
    """The machine the lab runs on, for the results header (the lab only says UML)."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} CPUs on the host, host kernel {platform.release()};"
        f" {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )


def in_lab_or_relaunch(module: str) -> int | None:
    """None when already in the lab; otherwise boot it, run `module` there, return its code."""
    if os.environ.get("BONDD_LAB") == "1":
        return None
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        BONDD_BENCH_HOST=host_description(),
    )
    argv = [sys.executable, str(REPO / "tests" / "lab" / "run.py"), "--"]
    argv += [str(VENV_PYTHON), "-m", module, *sys.argv[1:]]
    # Become the lab runner rather than wait for it: whatever ends this
    # process (a time-out's SIGTERM, SIGKILL) then ends the lab kernel too.
    os.chdir(REPO)
    os.execve(sys.executable, argv, env)
