#!/usr/bin/env python3
"""Profile bondd's hot paths in the lab kernel with cProfile; prints the top functions.

    sudo python3 bench/hotpaths.py [--bonds 64] [--top 25]

Three paths, each on `--bonds` active-backup bonds x 2 ports in fresh
namespaces: converging from empty (read, plan, execute, verify), the daemon's
handling of an `apply` request that changes nothing (config, plan, store),
and one state read. This is where the optimisations in bench/RESULTS.md
came from; it prints profiles, not verdicts.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.relaunch import in_lab_or_relaunch


def main() -> int:
    relaunched = in_lab_or_relaunch("bench.hotpaths")
    if relaunched is not None:
        return relaunched
    parser = argparse.ArgumentParser()
    parser.add_argument("--bonds", type=int, default=64)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    from bench import scenarios as s  # noqa: PLC0415
    from bondd import config  # noqa: PLC0415
    from bondd.engine.clock import SystemClock  # noqa: PLC0415
    from bondd.engine.converge import make_plan, run_plan  # noqa: PLC0415
    from bondd.engine.transaction import Proposal, begin  # noqa: PLC0415
    from tests.kernel.harness import Bondd  # noqa: PLC0415

    def show(title: str, profile: cProfile.Profile) -> None:
        print(f"\n===== {title}")
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)

    with s.lab_with_ports(args.bonds), tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        harness = Bondd(tmp / "bondd.d", tmp / "state")
        harness.write(s.config(args.bonds), s.CONFIG_NAME)
        profile = cProfile.Profile()
        profile.enable()
        desired = harness.desired()
        plan, _ = make_plan(desired, harness.reader, harness.store)
        run_plan(plan, harness.writer, harness.reader, harness.store, SystemClock())
        profile.disable()
        show(f"converge {args.bonds} bonds from empty (in-process)", profile)

        profile = cProfile.Profile()
        profile.enable()
        dirs = [harness.config_dir]
        staged = {dirs[0] / s.CONFIG_NAME: s.config(args.bonds).encode()}
        desired = config.load_desired(dirs, explicit=True, staged=staged)
        found = config.check(dirs, explicit=True, staged=staged).files
        proposal = Proposal(desired, config.content_hash(found, staged))
        result = begin(harness.host(), proposal)
        profile.disable()
        print(f"\n(no-op apply result: {result.status.value})")
        show(f"no-op apply request, {args.bonds} bonds (the daemon's handle_apply path)", profile)

        profile = cProfile.Profile()
        profile.enable()
        harness.read()
        profile.disable()
        show(f"one read of {args.bonds} bonds", profile)
        harness.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
