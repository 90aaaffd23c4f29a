#!/usr/bin/env python3
"""The metrics file: how soon it shows a pulled cable, and how big it is for 64 bonds.

    sudo python3 bench/metrics.py [--pulls N]

Boots the lab kernel (tests/lab/run.py) and, in fresh namespaces, runs the
real daemon over 64 active-backup bonds on a plain bridge. Each pull sets the
switch end of one bond's active port down (a netlink request from this
process: an `ip` process start costs more than the update in the lab) and
times, from just before the request, until the daemon's textfile shows that bond with one port up
and a higher link failure count (the file is polled every 5 ms with stat;
it is read only when it changed). Also: the file's size for those 64 bonds
and for 64 two-port 802.3ad bonds (rendered from a constructed view), the
time of one kernel read plus render, and `bondctl metrics`' wall time.
Prints figures; checks only that each pull showed up in the file.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.relaunch import in_lab_or_relaunch

BONDS = 64


def main() -> int:
    relaunched = in_lab_or_relaunch("bench.metrics")
    if relaunched is not None:
        return relaunched
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--pulls", type=int, default=20)
    args = parser.parse_args()

    # pyroute2 exists only in the venv, and only inside the lab do we want it.
    from pyroute2 import IPRoute  # noqa: PLC0415

    from bench import scenarios as s  # noqa: PLC0415
    from bondd.kernel.bondview import BondViewReader  # noqa: PLC0415
    from bondd.metrics import view  # noqa: PLC0415
    from bondd.metrics.collect import Collector  # noqa: PLC0415
    from bondd.metrics.textfile import write_atomic  # noqa: PLC0415
    from bondd.wiring import open_host  # noqa: PLC0415
    from tests.lab import nsutil  # noqa: PLC0415
    from tests.lab.guard import venv_command  # noqa: PLC0415
    from tests.lab.netlab import wait_for  # noqa: PLC0415
    from tests.unit.test_metrics import lacp_bond, port  # noqa: PLC0415

    with s.lab_with_ports(BONDS, bridged=True) as lab, s.running_daemon() as (daemon, _):
        s.apply(daemon, s.config(BONDS), probes=False)
        textfile = daemon.metrics_textfile

        def text() -> str:
            try:
                return textfile.read_text()
            except FileNotFoundError:
                return ""

        wait_for(lambda: text().count("bondd_bond_up{") == BONDS, timeout=60, interval=0.2)
        s.quiet(daemon, 3.0)
        size_ab = textfile.stat().st_size
        # The switch's links, set down from here: an `ip` process costs more than
        # the whole update in the lab, so it would swamp the figure.
        with nsutil.netns_only(f"/run/netns/{lab.switch}"):
            switch = IPRoute()
        latencies = []
        for n in range(args.pulls):
            bond = f"bond{n % BONDS}"
            active = s.sysfs(f"{bond}/bonding/active_slave")
            failures = int(s.sysfs(f"{active}/bonding_slave/link_failure_count"))
            want_up = f'bondd_bond_ports_up{{bond="{bond}"}} 1\n'
            want_fail = (
                f'bondd_port_link_failures_total{{bond="{bond}",port="{active}"}} {failures + 1}\n'
            )
            seen = textfile.stat().st_mtime_ns
            far = switch.link_lookup(ifname=lab.far_end(active))[0]
            started = time.perf_counter()
            switch.link("set", index=far, state="down")
            while True:
                now = textfile.stat().st_mtime_ns
                if now != seen:
                    seen = now
                    body = text()
                    if want_up in body and want_fail in body:
                        break
                if time.perf_counter() - started > 10:
                    raise TimeoutError(f"{bond}: the textfile never showed {active} down")
                time.sleep(0.005)
            latencies.append(time.perf_counter() - started)
            switch.link("set", index=far, state="up")
            s.quiet(daemon, 1.5)
        switch.close()
        argv = [
            venv_command("bondctl"),
            "--config-dir",
            str(daemon.config_dir),
            "--state-dir",
            str(daemon.state_dir),
            "metrics",
        ]
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        bondctl_wall = time.perf_counter() - started
        collector = Collector([daemon.config_dir], True, daemon.state_dir)
        collector.config()  # the daemon's check is cached until the files change
        fast = BondViewReader()
        parts: dict[str, list[float]] = {"read": [], "gather": [], "render": [], "write": []}
        for _ in range(5):
            started = time.perf_counter()
            actual = fast.read()
            parts["read"].append(time.perf_counter() - started)
            started = time.perf_counter()
            gathered = collector.gather(actual)
            parts["gather"].append(time.perf_counter() - started)
            started = time.perf_counter()
            body = view.text(gathered)
            parts["render"].append(time.perf_counter() - started)
            started = time.perf_counter()
            write_atomic(daemon.tmp / "bench.prom", body.encode())
            parts["write"].append(time.perf_counter() - started)
        fast.close()
        with open_host(daemon.state_dir) as host:
            started = time.perf_counter()
            host.reader.read()
            full_read = time.perf_counter() - started
        writes = daemon.events("metrics_failed")

    lacp = [lacp_bond(f"bond{i}", port("p2"), port("p3")) for i in range(BONDS)]
    from bondd.engine.counters import Counts  # noqa: PLC0415
    from bondd.metrics.view import MetricsInput  # noqa: PLC0415
    from bondd.model import ActualState  # noqa: PLC0415

    lacp_text = view.text(
        MetricsInput(ActualState(bonds=tuple(lacp)), None, None, True, Counts(), {}, False)
    )
    ms = sorted(t * 1000 for t in latencies)
    print(f"metrics, {BONDS} active-backup bonds (2 ports each) on a bridge, lab kernel")
    print(
        f"  cable pulled -> textfile shows it: median {statistics.median(ms):.0f} ms,"
        f" p95 {ms[int(0.95 * (len(ms) - 1))]:.0f} ms, max {ms[-1]:.0f} ms ({len(ms)} pulls)"
    )
    print(f"  textfile size: {size_ab} bytes ({BONDS} active-backup bonds)")
    print(f"  textfile size: {len(lacp_text.encode())} bytes ({BONDS} 802.3ad bonds, constructed)")
    print(
        "  one refresh, median of 5: "
        + ", ".join(f"{k} {statistics.median(v) * 1000:.0f} ms" for k, v in parts.items())
        + f" (the full pyroute2 read: {full_read * 1000:.0f} ms)"
    )
    print(f"  bondctl metrics wall time: {bondctl_wall * 1000:.0f} ms")
    print(f"  metrics_failed journal events: {len(writes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
