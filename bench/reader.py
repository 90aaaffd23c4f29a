#!/usr/bin/env python3
"""Time one read of the kernel: the whole host, one bond, and pyroute2's decode of the same dumps.

    sudo python3 bench/reader.py [--bonds 64] [--reps 7]

In the lab, `--bonds` active-backup bonds x 2 ports with an address each
(made by one `ip -batch`). Rows: bondd's whole-host read (raw rtnetlink
codec: link, address, IPv4 and IPv6 route dumps, decoded to ActualState),
its per-bond read (one bond, its ports; what drift repair needs), and for
reference pyroute2 decoding the same four dumps into its message objects
(what bondd's reader cost before it decoded them itself, less the work of
building the state). Prints figures, asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.relaunch import in_lab_or_relaunch


def timed(fn: Callable[[], object], reps: int) -> str:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return (
        f"min {min(times) * 1000:.1f} ms, median {statistics.median(times) * 1000:.1f} ms,"
        f" max {max(times) * 1000:.1f} ms ({reps} reads)"
    )


def main() -> int:
    relaunched = in_lab_or_relaunch("bench.reader")
    if relaunched is not None:
        return relaunched
    parser = argparse.ArgumentParser()
    parser.add_argument("--bonds", type=int, default=64)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()

    from bench import scenarios as s  # noqa: PLC0415 (pyroute2 exists only in the venv)
    from bench.steps import step  # noqa: PLC0415
    from bondd.kernel.netlink import connect  # noqa: PLC0415
    from bondd.kernel.reader import KernelReader  # noqa: PLC0415

    with step(f"reader bench, {args.bonds} bonds", 600), s.lab_with_ports(args.bonds):
        s.ip_batch(s.ip_commands(args.bonds))
        reader = KernelReader()
        ipr = connect()
        try:
            state = reader.read()
            assert len(state.bonds) == args.bonds
            victim = f"bond{args.bonds // 2}"
            assert reader.read_bond(victim).bonds == (state.bond(victim),)
            print(f"{args.bonds} bonds, {len(state.links)} other links")

            def pyroute2_dumps() -> None:
                list(ipr.get_links())
                list(ipr.get_addr())
                list(ipr.get_routes(family=socket.AF_INET))
                list(ipr.get_routes(family=socket.AF_INET6))

            for label, fn in (
                ("bondd whole-host read (raw codec)", reader.read),
                (f"bondd per-bond read ({victim})", lambda: reader.read_bond(victim)),
                ("pyroute2 decode of the same dumps", pyroute2_dumps),
            ):
                print(f"  {label}: {timed(fn, args.reps)}", flush=True)
        finally:
            ipr.close()
            reader.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
