"""Whether this process runs inside the bondd lab kernel.

Kernel tests create, enslave and take down interfaces. On a real host that
could cut a server off, so they run only where both signs of the lab hold:
the lab's init exported BONDD_LAB=1, and the kernel is User-Mode Linux.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def in_lab() -> bool:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return os.environ.get("BONDD_LAB") == "1" and "User Mode Linux" in cpuinfo


REFUSAL = (
    "kernel tests run only inside the bondd lab kernel (User-Mode Linux), never on a real "
    "host; run them with: python3 tests/lab/run.py -- .venv/bin/pytest -m kernel"
)


def venv_command(name: str) -> str:
    """A console script of the virtualenv running the tests (the Debian-pyroute2 one too)."""
    return str(Path(sys.executable).parent / name)
