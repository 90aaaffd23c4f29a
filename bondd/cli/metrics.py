"""`bondctl metrics`: the daemon's Prometheus text, printed to stdout.

The same families the daemon writes for node_exporter's textfile collector
(see bondd.metrics.view), computed from the kernel, the configuration and
the state directory, so a cron job or a script can produce or check them
without the daemon. Reads only (bonds and ports from one raw netlink dump,
no root needed); opens no port.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from bondd import config
from bondd.cli import output
from bondd.kernel.bondview import BondViewReader
from bondd.metrics import view
from bondd.metrics.collect import Collector


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "metrics",
        parents=[parent],
        help="print Prometheus metrics (LACP verdicts, ports, counters) to stdout",
        description="Print the bondd_* metrics in Prometheus text format, the same text the"
        " daemon writes for node_exporter's textfile collector. Changes nothing.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    state: Path = args.state_dir
    if state.exists() and not os.access(state, os.R_OK | os.X_OK):
        # Counters read as 0 would look like "no rollback ever": refuse instead.
        output.die(
            f"cannot read the state directory {state} (counters, ownership, drills)",
            "run it as root, as the daemon does",
            exit_code=os.EX_NOPERM,
        )
    dirs = args.config_dirs or list(config.DEFAULT_DIRS)
    collector = Collector(dirs, bool(args.config_dirs), args.state_dir)
    reader = BondViewReader()  # bonds and ports only: no pyroute2 import, no full read
    try:
        actual = reader.read()
    except OSError as exc:
        output.die(f"cannot read the kernel's links: {exc.strerror}", "it needs Linux rtnetlink")
    finally:
        reader.close()
    sys.stdout.write(view.text(collector.gather(actual)))
    return 0
