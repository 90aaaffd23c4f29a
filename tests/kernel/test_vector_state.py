"""Self-test of the lab: vector registers survive the guest's context switches.

UML restores each guest task's FPU state through ptrace (and, on hosts with
AMX, through the xstate shim, tests/lab/xstate.c). Several processes, each
with several threads, and threads of this process hash and compress large
buffers at once; a single register lost or mixed between two tasks changes a
digest. The expected digests were computed on the host (tests/lab/vectorwork.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.lab.guard import in_lab
from tests.lab.vectorwork import DIGESTS, run

REPO = Path(__file__).resolve().parents[2]
PROCESSES, PROCESS_THREADS, OWN_THREADS, ROUNDS = 3, 2, 3, 6


def test_digests_match_the_host_across_threads_and_processes() -> None:
    assert in_lab()
    started = time.monotonic()
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.lab.vectorwork", str(ROUNDS), str(PROCESS_THREADS)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    results = run(ROUNDS, OWN_THREADS)
    for child in children:
        out, _ = child.communicate(timeout=300)
        assert child.returncode == 0
        results.extend(json.loads(out))
    elapsed = time.monotonic() - started
    assert len(results) == ROUNDS * (PROCESSES * PROCESS_THREADS + OWN_THREADS)
    wrong = [result for result in results if result != DIGESTS]
    assert not wrong, f"{len(wrong)} of {len(results)} rounds differ from the host: {wrong[0]}"
    print(
        f"LAB-FIGURE vector-state: {len(results)} rounds of sha256+sha512+crc32+adler32+deflate "
        f"over 2 MiB in {PROCESSES} processes x {PROCESS_THREADS} threads + {OWN_THREADS} "
        f"threads, all equal to the host's, in {elapsed:.1f}s"
    )
