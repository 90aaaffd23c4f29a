#!/usr/bin/env python3
"""The full fault campaign, in the lab kernel: every mode, every op, every step.

    sudo python3 bench/faults.py [--mode MODE]...

For each bond mode: a kernel error at each op of a change; SIGKILL, SIGTERM
and SIGHUP to a standalone bondctl, and SIGTERM and SIGKILL to the daemon,
before each step of its transaction, with no recovery run by the harness
(each must end old or new by itself within the dead-man bound); the
change's new port unplugged before each op; and a probe that times out.
Prints the matrix (how many cases ended in the old state, the new state,
or neither) and exits 1 if any ended in neither. CI runs a sample of the
same cases: tests/kernel/test_faults.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.relaunch import in_lab_or_relaunch


def main() -> int:
    relaunched = in_lab_or_relaunch("bench.faults")
    if relaunched is not None:
        return relaunched
    from tests.kernel import faults  # noqa: PLC0415 (pyroute2 exists only in the venv)

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--mode", choices=faults.MODES, action="append")
    args = parser.parse_args()
    started = time.monotonic()
    outcomes = []
    for mode in args.mode or faults.MODES:
        with faults.campaign() as run:
            for case in faults.cases(run, mode, faults.every):
                outcome = run.run(case)
                mark = "ok" if outcome.ok else "FAIL"
                print(
                    f"{mark:4} {case.name:<28} -> {outcome.ended:<7} {outcome.detail}", flush=True
                )
                outcomes.append(outcome)
            print(faults.signal_figures(run), flush=True)
    print()
    print(faults.matrix(outcomes))
    print(f"campaign took {time.monotonic() - started:.0f} s")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
