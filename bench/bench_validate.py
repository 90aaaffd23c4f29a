"""How long `bondctl validate` takes on a large configuration: 100 files, 500 bonds.

Prints figures only; no test asserts on timing. Run:
    .venv/bin/python bench/bench_validate.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bondd.config import check

FILES = 100
BONDS = 500


def write_config(directory: Path) -> None:
    per_file = BONDS // FILES
    for f in range(FILES):
        lines = ["network:", "  version: 2", "  ethernets:"]
        bonds = ["  bonds:"]
        vlans = ["  vlans:"]
        for b in range(f * per_file, (f + 1) * per_file):
            hi, lo = b >> 8, b & 255
            for side, last in (("a", 1), ("b", 2)):
                mac = f"52:54:00:{hi:02x}:{lo:02x}:{last:02x}"
                lines.append(f'    p{b}{side}: {{match: {{macaddress: "{mac}"}}}}')
            mode = "802.3ad" if b % 2 else "active-backup"
            extra = (
                "lacp-rate: fast, transmit-hash-policy: layer3+4"
                if b % 2
                else f"primary: p{b}a, up-delay: 200, down-delay: 200"
            )
            bonds += [
                f"    bond{b}:",
                f"      interfaces: [p{b}a, p{b}b]",
                f"      parameters: {{mode: {mode}, mii-monitor-interval: 100, {extra}}}",
                f"      addresses: [10.{hi}.{lo}.2/24]",
                f"      routes: [{{to: 172.16.{hi}.{lo}/32, via: 10.{hi}.{lo}.1}}]",
                "      mtu: 9000",
            ]
            vlans.append(f"    bond{b}.10: {{id: 10, link: bond{b}}}")
        (directory / f"{f:03d}-bonds.yaml").write_text("\n".join(lines + bonds + vlans) + "\n")


def main() -> int:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        write_config(directory)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            result = check([directory], explicit=True)
            times.append(time.perf_counter() - start)
        if not result.ok or len(result.state.bonds) != BONDS:
            for d in result.diagnostics[:10]:
                print(d.format(), file=sys.stderr)
            print("benchmark config did not validate", file=sys.stderr)
            return 1
        print(
            f"validate {FILES} files, {BONDS} bonds, {2 * BONDS} ports, {BONDS} vlans:"
            f" best {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms"
            f" over {len(times)} runs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
