"""`bondd`: the daemon's command line; systemd starts it as `bondd` (Type=notify)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bondd import __version__, config
from bondd.daemon.loop import Daemon
from bondd.daemon.notify import Notifier
from bondd.durations import MAX_BUSY
from bondd.engine.clock import SystemClock
from bondd.errors import BonddError
from bondd.log import event, setup
from bondd.protocol import DEFAULT_RUN_DIR, DEFAULT_STATE_DIR
from bondd.wiring import open_host


class WatchdogClock(SystemClock):
    """Sleeps in short steps and keeps feeding the watchdog: a transaction's gates
    may wait longer than WatchdogSec, and the loop is busy, not hung.

    Only for a bounded time: every span inside a pass has an upper bound
    (bondd.durations), so a pass that has not ended after `MAX_BUSY` is wedged,
    and systemd must be allowed to restart the daemon (which rolls back an
    unfinished transaction).
    """

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.last = time.monotonic()

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            interval = self.notifier.watchdog_interval
            busy = time.monotonic() - self.notifier.last_pass
            if interval and busy < MAX_BUSY and time.monotonic() - self.last >= interval:
                self.notifier.watchdog()
                self.last = time.monotonic()
            time.sleep(min(left, 0.5))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bondd", description="Keep Linux bonds converged to the YAML in /etc/bondd.d."
    )
    parser.add_argument("--version", action="version", version=f"bondd {__version__}")
    parser.add_argument(
        "--config-dir",
        type=Path,
        action="append",
        dest="config_dirs",
        metavar="DIR",
        help="configuration directory (repeatable; later ones"
        " shadow earlier ones); default /etc/bondd.d and /run/bondd.d",
    )
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, metavar="DIR")
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR, metavar="DIR")
    parser.add_argument(
        "--socket-group",
        metavar="GROUP",
        help="let GROUP open the control socket for status (changes stay root's)",
    )
    parser.add_argument(
        "--metrics-textfile",
        type=Path,
        metavar="PATH",
        help="write Prometheus metrics to PATH unless the configuration names a file"
        " (bondd: {metrics: {textfile: ...}}); default"
        " /var/lib/prometheus/node-exporter/bondd.prom when that directory exists",
    )
    parser.add_argument("--debug", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logger = setup(args.debug)
    notifier = Notifier()
    dirs = args.config_dirs or list(config.DEFAULT_DIRS)
    try:
        with open_host(args.state_dir, WatchdogClock(notifier), role="bondd") as host:
            event(
                logger,
                "started",
                f"bondd {__version__} starting",
                config_dirs=",".join(map(str, dirs)),
            )
            daemon = Daemon(
                host,
                dirs,
                explicit=bool(args.config_dirs),
                run_dir=args.run_dir,
                logger=logger,
                notifier=notifier,
                socket_group=args.socket_group,
                metrics_textfile=args.metrics_textfile,
            )
            return daemon.run()
    except BonddError as exc:
        event(logger, "fatal", f"{exc.message}" + (f" ({exc.hint})" if exc.hint else ""), level=50)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
