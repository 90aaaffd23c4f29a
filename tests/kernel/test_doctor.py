"""`bondctl doctor` on the real kernel: the traps it names are really there.

The lab kernel is shared by the whole session, so the stray bond0 that
`max_bonds=1` leaves is made the equivalent way: a round-robin bond0 with no
ports in no configuration. Other tools' files are read from an empty root
holding only bondd's own modprobe file, so the host's /etc cannot leak in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bondd.cli.main import main
from tests.kernel.harness import Bondd
from tests.lab.netlab import HOST_ADDRESS, PREFIX, Lab, ip, sysfs, wait_for

MODPROBE = "options bonding max_bonds=0\n"


def config(ports: tuple[str, ...] = ("p0", "p1")) -> str:
    ethernets = ", ".join(f"{p}: {{}}" for p in ports)
    return f"""
network:
  version: 2
  ethernets: {{{ethernets}}}
  bonds:
    bond1:
      interfaces: [{", ".join(ports)}]
      parameters: {{mode: active-backup, mii-monitor-interval: 100}}
      addresses: [{HOST_ADDRESS}/{PREFIX}]
bondd: {{probes: []}}
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root" / "etc" / "modprobe.d").mkdir(parents=True)
    (tmp_path / "root" / "etc" / "modprobe.d" / "bondd.conf").write_text(MODPROBE)
    return tmp_path / "root"


def doctor(
    bondd: Bondd, root: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(
        [
            "doctor",
            "--json",
            "--root",
            str(root),
            "--config-dir",
            str(bondd.config_dir),
            "--state-dir",
            str(bondd.state_dir),
        ]
    )
    return code, json.loads(capsys.readouterr().out)


def checks(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["severity"], f["check"], f["subject"]) for f in report["findings"]}


def make_bond(lab: Lab, bondd: Bondd, ports: tuple[str, ...] = ("p0", "p1")) -> None:
    for port in ports:
        lab.cable(port)
    lab.bridge_switch(list(ports))
    bondd.apply(config(ports))
    wait_for(lambda: sysfs("bond1/operstate") == "up", timeout=10)


def test_healthy_bond_gives_exit_0(
    lab: Lab, bondd: Bondd, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_bond(lab, bondd)
    code, report = doctor(bondd, root, capsys)
    assert (code, report["findings"]) == (0, [])


def test_stray_round_robin_bond0_is_a_problem(
    lab: Lab, bondd: Bondd, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_bond(lab, bondd)
    ip("link", "add", "bond0", "type", "bond")  # what max_bonds=1 leaves at module load
    assert sysfs("bond0/bonding/mode") == "balance-rr 0"
    assert sysfs("bond0/bonding/slaves") == ""
    code, report = doctor(bondd, root, capsys)
    assert code == 2
    assert ("problem", "stray-bond", "bond0") in checks(report)
    [stray] = [f for f in report["findings"] if f["check"] == "stray-bond"]
    assert "ip link del bond0" in stray["fix"] and "max_bonds=0" in stray["fix"]
    # bondd's own bond1 is not mistaken for one.
    assert not any(f["subject"] == "bond1" for f in report["findings"])


def test_module_option_missing_from_modprobe_files_is_a_warning(
    lab: Lab, bondd: Bondd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_bond(lab, bondd)
    empty = tmp_path / "empty-root"
    empty.mkdir()
    code, report = doctor(bondd, empty, capsys)
    assert code == 1
    assert checks(report) == {("warning", "max-bonds", "host")}


@pytest.mark.parametrize("same_as_bond", [True, False])
def test_port_carrying_an_address_is_a_problem(
    same_as_bond: bool,
    lab: Lab,
    bondd: Bondd,
    root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_bond(lab, bondd)
    address = f"{HOST_ADDRESS}/{PREFIX}" if same_as_bond else "192.0.2.9/24"
    ip("addr", "add", address, "dev", "p1")
    # The kernel's view: p1 is still a port of bond1 and carries the address.
    assert address.split("/", maxsplit=1)[0] in ip("-br", "addr", "show", "dev", "p1")
    assert Path("/sys/class/net/p1/master").resolve().name == "bond1"
    code, report = doctor(bondd, root, capsys)
    assert code == 2
    assert ("problem", "port-address", "p1") in checks(report)
    [finding] = [f for f in report["findings"] if f["check"] == "port-address"]
    assert ("same address as bond1" in finding["message"]) is same_as_bond


def test_single_port_bond_is_a_warning(
    lab: Lab, bondd: Bondd, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_bond(lab, bondd, ("p0",))
    assert sysfs("bond1/bonding/slaves") == "p0"
    code, report = doctor(bondd, root, capsys)
    assert code == 1
    assert checks(report) == {("warning", "single-port", "bond1")}
