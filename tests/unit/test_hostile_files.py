"""Every hostile file in the corpus is a clean error, under a 1 GiB address space.

The corpus runs in one child process (tests/unit/hostile/runner.py) with
RLIMIT_AS set, on the interpreter running the tests, so CI runs it twice:
with .venv (PyPI's PyYAML) and .venv-debian (Debian 12's python3-yaml 6.0,
the one the .deb uses). A signal, a memory-limit death or a time-out shows as
a case with no result.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.unit.hostile import files

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.unit.hostile.runner"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    found = {}
    for line in proc.stdout.splitlines():
        result = json.loads(line)
        found[result["name"]] = result
    found["<runner>"] = {"exit": proc.returncode, "output": proc.stderr}
    return found


def test_the_runner_itself_ended_normally(results: dict[str, dict[str, Any]]) -> None:
    runner = results["<runner>"]
    assert runner["exit"] == 0, runner["output"][-2000:]


@pytest.mark.parametrize("name", files.names())
def test_hostile_file_is_a_clean_error_with_file_and_line(
    name: str, results: dict[str, dict[str, Any]]
) -> None:
    assert name in results, f"no result: the runner died on {name}: {results['<runner>']}"
    result = results[name]
    output = result["output"]
    assert "Traceback" not in output and "internal error" not in output, output[-2000:]
    assert result["exit"] in (0, 65), (result["exit"], output[-2000:])
    # FILE:LINE:COL of a file of the case, on an error or (exit 0) a note/warning line.
    kind = "error" if result["exit"] == 65 else "(warning|note)"
    located = re.compile(rf"^{re.escape(result['dir'])}/[^:]+\.yaml:\d+:\d+: {kind}: ", re.M)
    assert located.search(output), output[-2000:]
    # Messages stay short and on one line each, whatever the file held.
    assert all(len(line) < 400 and line.isprintable() for line in output.splitlines())
