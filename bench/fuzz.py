#!/usr/bin/env python3
"""The full fuzz campaign: generated and mutated configs through validate and plan.

    .venv/bin/python bench/fuzz.py [--count 10000] [--seed 0]

Pure (no kernel, no root): each config is validated; a valid one is planned
twice against a fixed synthetic host (the plans must match) and its ops go
to a writer that only counts. Prints the counts; exits 1 on any traceback,
any write for an invalid config or any plan that differs between two runs.
Config N is `tests.unit.fuzzgen.generate(N)`, to replay a failure.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit import fuzzgen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.monotonic()
    tally = fuzzgen.campaign(args.count, args.seed)
    print(tally.line())
    for line in tally.tracebacks[:20] + tally.nondeterministic[:20]:
        print(f"  {line}")
    print(
        f"seeds {args.seed}..{args.seed + args.count - 1}; took {time.monotonic() - started:.0f} s"
    )
    bad = tally.tracebacks or tally.invalid_writes or tally.nondeterministic
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
