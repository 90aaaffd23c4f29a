#!/usr/bin/env python3
"""bondd's benchmarks: one command, one table, every ratio measured in the same run.

    sudo python3 bench/run.py [--quick] [--markdown FILE]

Boots the lab kernel (tests/lab/run.py) and measures there, in fresh network
namespaces: converging 1, 16 and 64 bonds against `ip -batch`, a no-op and a
one-option change on 64 bonds, drift repair latency, a trunk bond with 1,000
VLANs (converge, no-op, one VLAN changed, drift on one VLAN), rollback after a failed
probe, the daemon's idle cost and `bondctl status` against the pyroute2
import, and each `bondctl` command as a whole process against a running
daemon (bench/bondctl_rows.py). Prints figures; asserts only that each scenario did what it claims
(the kernel's view), never how fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.relaunch import in_lab_or_relaunch


def main() -> int:
    relaunched = in_lab_or_relaunch("bench.run")
    if relaunched is not None:
        return relaunched
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and drifts")
    parser.add_argument(
        "--markdown",
        type=Path,
        help="also write the table to FILE (inside the repository: the lab has its own /tmp)",
    )
    parser.add_argument(
        "--only",
        choices=["converge", "steady", "rollback", "vlans", "bondctl"],
        action="append",
        help="run only these groups (repeatable); default all",
    )
    args = parser.parse_args()

    from bench import scenarios as s  # noqa: PLC0415 (pyroute2 exists only in the venv)
    from bench.steps import step  # noqa: PLC0415

    reps = 1 if args.quick else 3
    drifts = 10 if args.quick else 50
    results = s.Results()
    started = time.monotonic()
    groups = set(args.only or ["converge", "steady", "rollback", "vlans", "bondctl"])
    # Every step has a deadline (bench/steps.py): a stall ends the run with
    # the step's name instead of silence until an outer time-out.
    if "converge" in groups:
        for bonds in (1, 16, 64):
            print(f"== converge {bonds}", flush=True)
            with step(f"converge {bonds}", 300 * reps):
                s.converge(results, bonds, reps)
    if "steady" in groups:
        print("== steady state, 64 bonds", flush=True)
        idle = 20.0 if args.quick else 60.0
        with step("steady state, 64 bonds", 900 + 10 * drifts + idle):
            s.steady_state(results, 64, drifts, idle)
    if "rollback" in groups:
        for bonds in (1, 16):
            print(f"== rollback {bonds}", flush=True)
            with step(f"rollback {bonds}", 300 + 60 * reps + 10 * drifts):
                s.rollback(results, bonds, reps, drifts if bonds == 1 else 0)
    if "vlans" in groups:
        from bench import vlans  # noqa: PLC0415

        print("== 1 bond x 1000 VLANs", flush=True)
        with step("1 bond x 1000 VLANs", 600 * reps + 10 * drifts):
            vlans.trunk(results, vlans.VLANS, reps, drifts)
    if "bondctl" in groups:
        from bench import bondctl_rows  # noqa: PLC0415

        print("== bondctl commands as whole processes", flush=True)
        with step("bondctl commands", 1800):
            bondctl_rows.all_rows(results, reps)
    table = render(results, time.monotonic() - started)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")
    return 0


def render(results: object, seconds: float) -> str:
    from bench.scenarios import Results  # noqa: PLC0415

    assert isinstance(results, Results)
    lines = [
        f"Machine: {os.environ.get('BONDD_BENCH_HOST', 'unknown')};"
        f" lab: User-Mode Linux {os.uname().release}, 1 CPU; bench took {seconds:.0f} s",
        "",
        "| measurement | bondd | reference | ratio | target | notes |",
        "|---|---|---|---|---|---|",
    ]
    for row in results.rows:
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else ""
        target = row.target
        if row.met is not None:
            target += " ok" if row.met else " **MISSED**"
        lines.append(
            f"| {row.name} | {row.value} | {row.reference} | {ratio} | {target} | {row.note} |"
        )
    lines += ["", *(f"- {line}" for line in results.extra)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
