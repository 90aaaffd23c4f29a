"""`bondctl failover-test` on the real bonding driver.

The drill's own numbers are checked against an independent counter (iputils
ping every 10 ms, run alongside) and against the kernel's view: the failed
port's link failure count went up by one per failover, and afterwards every
port is up in /proc/net/bonding with the same active port as before.
"""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from bondd.cli.main import main
from tests.kernel.daemon_harness import Daemon
from tests.kernel.harness import Bondd
from tests.lab.guard import venv_command
from tests.lab.netlab import (
    HOST_ADDRESS,
    PREFIX,
    SWITCH_ADDRESS,
    Lab,
    parse_ping,
    proc_bonding,
    sysfs,
    wait_for,
)

BONDCTL = venv_command("bondctl")


def bond_yaml(miimon: int = 100, ports: tuple[str, ...] = ("p0", "p1")) -> str:
    ethernets = ", ".join(f"{p}: {{}}" for p in ports)
    return f"""
network:
  version: 2
  ethernets: {{{ethernets}}}
  bonds:
    bond0:
      interfaces: [{", ".join(ports)}]
      parameters: {{mode: active-backup, mii-monitor-interval: {miimon}}}
      addresses: [{HOST_ADDRESS}/{PREFIX}]
      routes: [{{to: default, via: {SWITCH_ADDRESS}}}]
bondd: {{probes: []}}
"""


def make_bond(lab: Lab, bondd: Bondd, miimon: int, ports: tuple[str, ...] = ("p0", "p1")) -> None:
    for port in ports:
        lab.cable(port)
    lab.bridge_switch(list(ports))
    bondd.apply(bond_yaml(miimon, ports))
    for port in ports:
        wait_for(lambda port=port: sysfs(f"{port}/bonding_slave/mii_status") == "up", timeout=10)
    wait_for(lambda: sysfs("bond0/bonding/active_slave") != "", timeout=10)
    # The bridge must know the bond's MAC before counting starts.
    assert lab.ping(SWITCH_ADDRESS, count=3, interval=0.05).lost == 0


def proc_ports() -> dict[str, dict[str, str]]:
    """Per port: MII Status and Link Failure Count, as /proc/net/bonding shows them."""
    ports: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in proc_bonding("bond0").splitlines():
        if line.startswith("Slave Interface:"):
            current = ports.setdefault(line.split(":", 1)[1].strip(), {})
        elif ":" in line and current is not None:
            key, value = line.split(":", 1)
            current.setdefault(key.strip(), value.strip())
    return ports


def active_in_proc() -> str:
    m = re.search(r"Currently Active Slave: (\S+)", proc_bonding("bond0"))
    assert m is not None
    return m.group(1)


def drill(
    bondd: Bondd, capsys: pytest.CaptureFixture[str], *extra: str, run_dir: Path | None = None
) -> tuple[int, dict[str, Any] | None, str]:
    capsys.readouterr()
    code = main(
        [
            "failover-test",
            "bond0",
            "--json",
            "--state-dir",
            str(bondd.state_dir),
            "--run-dir",
            str(run_dir or bondd.state_dir.parent / "run"),
            *extra,
        ]
    )
    captured = capsys.readouterr()
    result = json.loads(captured.out) if captured.out.strip() else None
    return code, result, captured.err


def icmp_echo_counters() -> tuple[int, int]:
    """The namespace's echo requests sent and echo replies received (/proc/net/snmp)."""
    rows = [
        r.split() for r in Path("/proc/net/snmp").read_text().splitlines() if r.startswith("Icmp:")
    ]
    fields = dict(zip(rows[0][1:], (int(v) for v in rows[1][1:]), strict=True))
    return fields["OutEchos"], fields["InEchoReps"]


@pytest.mark.parametrize(("miimon", "both_ways"), [(100, False), (10, True)])
def test_drill_loss_matches_independent_counters_and_the_bond_ends_as_it_started(
    miimon: int,
    both_ways: bool,
    lab: Lab,
    bondd: Bondd,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_bond(lab, bondd, miimon)
    active = sysfs("bond0/bonding/active_slave")
    failures_before = {p: int(v["Link Failure Count"]) for p, v in proc_ports().items()}
    sent_before, answered_before = icmp_echo_counters()
    ping = lab.start_ping(SWITCH_ADDRESS, count=100_000, interval=0.01, deadline=120)
    time.sleep(0.3)
    code, result, err = drill(bondd, capsys, *(["--both-ways"] if both_ways else []))
    time.sleep(0.3)
    ping.send_signal(signal.SIGINT)
    ping_output = ping.communicate()[0]
    independent = parse_ping(ping_output)
    sent_after, answered_after = icmp_echo_counters()

    assert code == 0, err
    assert result is not None and result["ok"], result
    legs = result["legs"]
    assert len(legs) == (2 if both_ways else 1)
    # The kernel's own count of echo requests out and replies in, minus ping's.
    kernel_lost = (sent_after - sent_before) - (answered_after - answered_before) - independent.lost
    m = re.search(r"time (\d+)ms", ping_output)
    assert m is not None
    ping_interval = int(m.group(1)) / max(1, independent.sent - 1)
    gap = sum(leg["gap_ms"] + leg["restore_gap_ms"] for leg in legs)
    print(
        f"\nmiimon {miimon}: gaps {[leg['gap_ms'] for leg in legs]} ms,"
        f" drill lost {result['lost']} of {result['sent']}, kernel counters {kernel_lost},"
        f" ping lost {independent.lost} of {independent.sent} at {ping_interval:.1f} ms"
        f" (expected {gap / ping_interval:.1f}),"
        f" kernel failover after {[leg['kernel_failover_ms'] for leg in legs]} ms"
    )
    assert abs(result["lost"] - kernel_lost) <= 1
    # ping -i 0.01 runs at about 20 ms in the lab kernel (its waits are rounded
    # to jiffies), so its loss is compared with the drill's gap in its own packets.
    # Each gap of g ms loses floor(g/I) or ceil(g/I) packets of a ping every I ms,
    # by phase. I is ping's average: on a loaded machine one interval stretches
    # (a gap of 25 ms at I = 19.4 ms then holds no send), so each gap may lose
    # one fewer; --both-ways has several short gaps, each of which may lose none.
    gaps = [g for leg in legs for g in (leg["gap_ms"], leg["restore_gap_ms"]) if g > 0]
    fewest = sum(max(0, math.floor(g / ping_interval) - 1) for g in gaps)
    most = sum(math.ceil(g / ping_interval) for g in gaps)
    assert fewest <= independent.lost <= most + 1, (gaps, ping_interval, independent)
    first = legs[0]
    assert first["failed_port"] == active
    for leg in legs:
        assert leg["kernel_failover_ms"] is not None
        assert leg["traffic_back_ms"] is not None
        assert leg["gap_ms"] <= leg["traffic_back_ms"]
    # The kernel's view: every failed port counted one link failure, and the
    # bond is back as it was, every port up.
    after = proc_ports()
    failed = [leg["failed_port"] for leg in legs]
    for port, fields in after.items():
        assert fields["MII Status"] == "up"
        expected = failures_before[port] + failed.count(port)
        assert int(fields["Link Failure Count"]) == expected
    assert active_in_proc() == active == sysfs("bond0/bonding/active_slave")
    assert int(sysfs(f"{active}/flags"), 16) & 1
    assert result["ended_as_started"]


def test_drill_result_is_recorded_for_status(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    make_bond(lab, bondd, 50)
    code, result, err = drill(bondd, capsys)
    assert code == 0, err
    assert result is not None
    record = json.loads((bondd.state_dir / "failover-tests.json").read_text())
    assert record["bonds"]["bond0"]["result"]["at"] == result["at"]
    capsys.readouterr()
    assert main(["status", "bond0", "--state-dir", str(bondd.state_dir)]) == 0
    text = capsys.readouterr().out
    assert re.search(r"last failover test: \d+ ms gap \(\d+ lost\), \d{4}-\d\d-\d\d", text), text


def test_drill_refuses_a_bond_with_one_port(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    make_bond(lab, bondd, 100, ports=("p0",))
    code, result, err = drill(bondd, capsys)
    assert code == 1 and result is None
    assert "only one port (p0)" in err and "nothing was changed" in err
    port = proc_ports()["p0"]
    assert (port["MII Status"], port["Link Failure Count"]) == ("up", "0")
    assert int(sysfs("p0/flags"), 16) & 1


def test_drill_refuses_a_bond_whose_other_port_is_already_down(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    make_bond(lab, bondd, 100)
    active = sysfs("bond0/bonding/active_slave")
    other = "p1" if active == "p0" else "p0"
    lab.pull_cable(other)
    wait_for(lambda: sysfs(f"{other}/bonding_slave/mii_status") == "down", timeout=5)
    code, result, err = drill(bondd, capsys)
    assert code == 1 and result is None
    assert f"port {other} is down (MII down)" in err
    assert sysfs("bond0/bonding/active_slave") == active
    assert proc_ports()[active]["Link Failure Count"] == "0"


def test_carrier_method_on_a_driver_that_cannot_drop_carrier_changes_nothing(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    make_bond(lab, bondd, 100)
    active = sysfs("bond0/bonding/active_slave")
    code, result, err = drill(bondd, capsys, "--method", "carrier")
    assert code == 1 and result is None
    assert "cannot drop carrier on request" in err and "--method admin" in err
    assert sysfs("bond0/bonding/active_slave") == active
    assert all(v["Link Failure Count"] == "0" for v in proc_ports().values())


def test_drill_with_the_daemon_running_holds_drift_repair_and_releases_it(
    lab: Lab, daemon: Daemon
) -> None:
    lab.cable("p0")
    lab.cable("p1")
    lab.bridge_switch(["p0", "p1"])
    daemon.start()
    (daemon.config_dir / "10-bond.yaml").write_text(bond_yaml(100))
    daemon.wait_event("applied", timeout=60)
    wait_for(lambda: sysfs("bond0/bonding/active_slave") != "", timeout=10)
    for port in ("p0", "p1"):
        wait_for(lambda port=port: sysfs(f"{port}/bonding_slave/mii_status") == "up", timeout=10)
    assert lab.ping(SWITCH_ADDRESS, count=3, interval=0.05).lost == 0
    active = sysfs("bond0/bonding/active_slave")
    repaired = len(daemon.events("drift_repaired"))

    proc = subprocess.run(
        [
            BONDCTL,
            "failover-test",
            "bond0",
            "--json",
            "--run-dir",
            str(daemon.run_dir),
            "--state-dir",
            str(daemon.state_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["ok"] and result["ended_as_started"]

    [hold] = daemon.wait_event("hold")
    assert hold["BONDD_BOND"] == "bond0"
    [released] = daemon.wait_event("hold_released")
    assert released["BONDD_BOND"] == "bond0"
    time.sleep(1.0)  # a repair would be scheduled within this after the release
    assert len(daemon.events("drift_repaired")) == repaired
    assert sysfs("bond0/bonding/active_slave") == active
    assert proc_ports()[active]["Link Failure Count"] == "1"
