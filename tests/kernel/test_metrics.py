"""The metrics on the real driver, read back through the real node_exporter.

Debian's prometheus-node-exporter runs in the test's host namespace (so its
bonding collector reads that namespace's /sys/class/net), with its textfile
collector pointed at the daemon's output directory and listening on
loopback only; the test scrapes it over HTTP. The claim the metrics exist
for: an 802.3ad bond against a switch that does not speak LACP looks healthy
to node_exporter (active ports == ports) while bondd says not negotiated,
partner silent. The kernel's own view (sysfs) is checked alongside.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bondd.kernel.bondview import BondViewReader
from bondd.metrics import view
from bondd.metrics.collect import Collector
from bondd.wiring import open_host
from tests.kernel.daemon_harness import Daemon
from tests.lab.guard import venv_command
from tests.lab.netlab import HOST_ADDRESS, Lab, ip, lacp_negotiated, sysfs, wait_for

BONDCTL = venv_command("bondctl")
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
LISTEN = "127.0.0.1:9100"


def lacp_yaml(textfile: Path) -> str:
    return f"""network:
  version: 2
  ethernets: {{p0: {{}}, p1: {{}}}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters: {{mode: 802.3ad, mii-monitor-interval: 100, lacp-rate: fast}}
      addresses: [{HOST_ADDRESS}/24]
bondd: {{probes: [], lacp-gate: false, metrics: {{textfile: {textfile}}}}}
"""


def parse(text: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


@pytest.fixture
def node_exporter(lab: Lab, tmp_path: Path) -> Iterator[Path]:
    """node_exporter on loopback in the lab's host namespace; yields its textfile directory."""
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    proc = subprocess.Popen(
        [
            NODE_EXPORTER,
            "--collector.disable-defaults",
            "--collector.bonding",
            "--collector.textfile",
            f"--collector.textfile.directory={textfiles}",
            f"--web.listen-address={LISTEN}",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _scrape_or_none() is not None, timeout=60, interval=0.2)
        yield textfiles
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _scrape_or_none() -> str | None:
    try:
        with urllib.request.urlopen(f"http://{LISTEN}/metrics", timeout=5) as answer:
            return str(answer.read().decode())
    except OSError:
        return None


def scrape() -> dict[str, float]:
    text = _scrape_or_none()
    assert text is not None
    return parse(text)


def start(lab: Lab, daemon: Daemon, textfiles: Path, partner: bool) -> Path:
    lab.cable("p0")
    lab.cable("p1")
    if partner:
        lab.partner_bond(["p0", "p1"], "pbond0", None, "802.3ad", "lacp_rate", "fast")
    else:
        lab.bridge_switch(["p0", "p1"])
    daemon.start()
    textfile = textfiles / "bondd.prom"
    (daemon.config_dir / "10-bond.yaml").write_text(lacp_yaml(textfile))
    wait_for(lambda: Path("/sys/class/net/bond0/bonding").exists(), timeout=30, interval=0.2)
    return textfile


def test_a_bond_against_a_plain_bridge_looks_healthy_to_node_exporter_but_is_not(
    lab: Lab, daemon: Daemon, node_exporter: Path
) -> None:
    textfile = start(lab, daemon, node_exporter, partner=False)

    def seen() -> bool:
        got = scrape()
        return (
            got.get('node_bonding_slaves{master="bond0"}') == 2
            and got.get('node_bonding_active{master="bond0"}') == 2
            and got.get('bondd_lacp_partner_silent{bond="bond0"}') == 1
        )

    wait_for(seen, timeout=30, interval=0.5)
    got = scrape()
    assert got['bondd_lacp_negotiated{bond="bond0"}'] == 0
    assert got['bondd_bond_ports_up{bond="bond0"}'] == got['bondd_bond_ports{bond="bond0"}'] == 2
    assert not lacp_negotiated("bond0", ("p0", "p1"))  # the kernel agrees
    assert sysfs("bond0/bonding/ad_partner_mac") == "00:00:00:00:00:00"
    # Each port in an aggregator of its own: one of them outside the active one.
    inside = [
        got[f'bondd_port_lacp_in_aggregator{{bond="bond0",port="{p}"}}'] for p in ("p0", "p1")
    ]
    assert sorted(inside) == [0, 1]
    aggregators = {sysfs(f"{p}/bonding_slave/ad_aggregator_id") for p in ("p0", "p1")}
    assert len(aggregators) == 2
    print("\n".join(f"{k} {v:g}" for k, v in got.items() if "bond0" in k))

    # Pull p1's cable: the file shows it within a second.
    before = parse(textfile.read_text())
    failures = before['bondd_port_link_failures_total{bond="bond0",port="p1"}']
    pulled = time.monotonic()
    lab.pull_cable("p1")

    def file_shows_it() -> bool:
        now = parse(textfile.read_text())
        return (
            now['bondd_bond_ports_up{bond="bond0"}'] == 1
            and now['bondd_port_link_failures_total{bond="bond0",port="p1"}'] > failures
        )

    # How fast is measured by bench/metrics.py, never asserted here.
    wait_for(file_shows_it, timeout=5, interval=0.01)
    print(f"cable pulled -> textfile updated: {(time.monotonic() - pulled) * 1000:.0f} ms")
    assert sysfs("p1/bonding_slave/mii_status") == "down"

    # Delete the port: configured, absent from the kernel.
    ip("link", "del", "p1")
    wait_for(
        lambda: parse(textfile.read_text()).get('bondd_bond_ports_missing{bond="bond0"}') == 1,
        timeout=5,
        interval=0.05,
    )
    assert not Path("/sys/class/net/p1").exists()
    assert scrape()['bondd_bond_ports{bond="bond0"}'] == 2


def test_a_bond_with_an_lacp_partner_is_negotiated_and_promtool_accepts_bondctl_metrics(
    lab: Lab, daemon: Daemon, node_exporter: Path
) -> None:
    start(lab, daemon, node_exporter, partner=True)

    def seen() -> bool:
        got = scrape()
        return (
            got.get('bondd_lacp_negotiated{bond="bond0"}') == 1
            and got.get('bondd_lacp_partner_silent{bond="bond0"}') == 0
        )

    wait_for(seen, timeout=30, interval=0.5)
    assert lacp_negotiated("bond0", ("p0", "p1"))  # the kernel agrees
    got = scrape()
    assert got['node_bonding_active{master="bond0"}'] == 2
    assert got['bondd_port_lacp_in_aggregator{bond="bond0",port="p0"}'] == 1
    assert got['bondd_transactions_total{result="committed"}'] == 1

    # The metrics' own fast read says what the full reader says.
    collector = Collector([daemon.config_dir], True, daemon.state_dir)
    fast = BondViewReader()
    try:
        with open_host(daemon.state_dir) as host:
            assert view.text(collector.gather(fast.read())) == view.text(
                collector.gather(host.reader.read())
            )
    finally:
        fast.close()

    printed = subprocess.run(
        [
            BONDCTL,
            "--config-dir",
            str(daemon.config_dir),
            "--state-dir",
            str(daemon.state_dir),
            "metrics",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r'^bondd_lacp_negotiated\{bond="bond0"\} 1$', printed, re.M)
    check = subprocess.run(
        ["promtool", "check", "metrics"], input=printed, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
