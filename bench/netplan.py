#!/usr/bin/env python3
"""Side by side with a peer: the same bond change through `netplan apply` and through bondd.

    sudo python3 bench/netplan.py [--deb PATH]

Boots the system tier's guest (tests/system/run.py: Debian 12 with systemd
as PID 1 under User-Mode Linux, netplan.io 0.106 with the networkd backend)
with the built .deb (dist/, or built by packaging/build-deb.sh) installed,
and runs bench/netplan_guest.py there: for 1 and for 16 bonds (two dummy
ports each), create active-backup bonds with an address each, change miimon
on every bond, apply again with no change, first through `netplan apply` and
then through bondd, each timed until the kernel shows the result, with the
links that went down and the number of link messages the kernel sent.
Prints the machine and the table. Everything happens inside the guest.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.system.run import GUEST_FAILED, Guest  # noqa: E402

BENCH = REPO / "bench"


def built_deb() -> Path:
    found = sorted((REPO / "dist").glob("bondd_*_all.deb"))
    if not found:
        subprocess.run(
            ["bash", str(REPO / "packaging" / "build-deb.sh")],
            check=True,
            env=dict(os.environ, BONDD_SKIP_LINTIAN="1"),
        )
        found = sorted((REPO / "dist").glob("bondd_*_all.deb"))
    return found[-1]


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return (
        f"Machine: {cpu}, {os.cpu_count()} CPUs on the host, host kernel {platform.release()};"
        f" {now}; load average before the boot {load}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--deb", type=Path, help="the bondd .deb (default: dist/, built if none)")
    parser.add_argument("--timeout", type=float, default=900.0, help="for the whole boot")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run as root (the guest's overlay mount needs it)")
    deb = (args.deb or built_deb()).resolve()
    header = machine()
    files = [deb, BENCH / "netplan_guest.py"]
    with Guest("netplan") as guest:
        result = guest.boot(BENCH / "netplan_job.sh", files, args.timeout)
    sys.stdout.write(result.output)
    if result.rc == GUEST_FAILED:
        sys.stdout.write(result.console[-4000:])
    print(f"\n{header}; guest boot and run {result.seconds:.0f} s")
    return result.rc


if __name__ == "__main__":
    sys.exit(main())
