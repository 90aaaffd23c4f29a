"""`bondctl lacp` against the kernel's own view while cables move between switches.

A port whose far end moves from the LACP partner bond to a plain bridge must
show its partner lost within the bond's timeout (lacp_rate fast: 3 s), and
back when it returns; a port moved to a second LACP partner shows a
partner different from its sibling's. Each claim is checked against
/proc/net/bonding and sysfs.
"""

from __future__ import annotations

import json
import re
import selectors
import subprocess
import time
from typing import Any

import pytest

from bondd.cli.main import main
from tests.kernel.harness import Bondd
from tests.lab.guard import venv_command
from tests.lab.netlab import HOST_ADDRESS, SWITCH_ADDRESS, Lab, ip, proc_bonding, sysfs, wait_for

BONDCTL = venv_command("bondctl")
DEFAULTED = 0x40
CONFIG = f"""
network:
  version: 2
  ethernets: {{p0: {{}}, p1: {{}}}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters: {{mode: 802.3ad, mii-monitor-interval: 100, lacp-rate: fast,
                    transmit-hash-policy: layer3+4}}
      addresses: [{HOST_ADDRESS}/24]
bondd: {{probes: [], lacp-gate: false}}
"""


def negotiated() -> bool:
    for port in ("p0", "p1"):
        for side in ("actor", "partner"):
            text = sysfs(f"{port}/bonding_slave/ad_{side}_oper_port_state")
            if not text.isdigit():
                return False  # "N/A": the port has no aggregator yet
            state = int(text)
            if state & 0x38 != 0x38 or state & 0xC0:
                return False
    return sysfs("bond0/bonding/ad_num_ports") == "2"


def proc_partner_mac(port: str) -> str:
    """The partner system MAC in the port's "details partner lacp pdu" block."""
    text = proc_bonding("bond0")
    block = text.split(f"Slave Interface: {port}\n", 1)[1].split("details partner lacp pdu:", 1)[1]
    m = re.search(r"system mac address: (\S+)", block)
    assert m is not None
    return m.group(1)


def switch_mac(name: str, lab: Lab) -> str:
    return str(json.loads(ip("-j", "link", "show", "dev", name, netns=lab.switch))[0]["address"])


def setup(lab: Lab, bondd: Bondd) -> None:
    lab.cable("p0")
    lab.cable("p1")
    lab.partner_bond(["p0", "p1"], "pbond0", SWITCH_ADDRESS, "802.3ad", "lacp_rate", "fast")
    bondd.apply(CONFIG)
    wait_for(negotiated, timeout=20)


def move_far_end(lab: Lab, port: str, master: str) -> None:
    """Re-plug the cable of `port` into another device of the switch."""
    far = lab.far_end(port)
    ip("link", "set", far, "down", netns=lab.switch)
    ip("link", "set", far, "nomaster", netns=lab.switch)
    ip("link", "set", far, "master", master, netns=lab.switch)
    ip("link", "set", far, "up", netns=lab.switch)


class Watch:
    """`bondctl lacp bond0 --watch --json` running alongside the test."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [BONDCTL, "lacp", "bond0", "--watch", "--json", "--interval", "0.2"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.seen: list[dict[str, Any]] = []
        self.snapshot = self.next_line(60)

    def next_line(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        if not self.selector.select(timeout):
            raise TimeoutError("bondctl lacp --watch printed nothing")
        line = self.proc.stdout.readline()
        assert line, "bondctl lacp --watch ended"
        found: dict[str, Any] = json.loads(line)
        return found

    def wait_change(self, port: str, field: str, new: object, timeout: float) -> float:
        """Seconds until the watch reports `port`'s `field` becoming `new`."""
        start = time.monotonic()
        while True:
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                raise TimeoutError(f"no {field} -> {new} for {port}; saw {self.seen}")
            change = self.next_line(left)
            self.seen.append(change)
            if change.get("port") == port and change["field"] == field and change["new"] == new:
                return time.monotonic() - start

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def watch(lab: Lab, bondd: Bondd) -> Any:
    setup(lab, bondd)
    handle = Watch()
    try:
        yield handle
    finally:
        handle.close()


def test_port_moved_to_a_bridge_shows_partner_lost_within_the_timeout_and_back(
    lab: Lab, watch: Watch
) -> None:
    [bond] = watch.snapshot["snapshot"]["bonds"]
    assert bond["verdict"] == "negotiated" and bond["timeout_seconds"] == 3
    partner = switch_mac("pbond0", lab)
    assert {p["partner_mac"] for p in bond["ports"]} == {partner}

    ip("link", "add", "br1", "type", "bridge", netns=lab.switch)
    ip("link", "set", "br1", "up", netns=lab.switch)
    move_far_end(lab, "p1", "br1")
    lost_after = watch.wait_change("p1", "partner", "lost", timeout=10)
    print(f"\npartner lost reported {lost_after:.2f}s after the re-plug")
    # Re-plugging restarts the port's receive machine; then 3 s without LACPDUs.
    assert lost_after <= 3 + 1.5
    assert proc_partner_mac("p1") == "00:00:00:00:00:00"
    assert int(sysfs("p1/bonding_slave/ad_actor_oper_port_state")) & DEFAULTED
    assert proc_partner_mac("p0") == partner

    move_far_end(lab, "p1", "pbond0")
    back_after = watch.wait_change("p1", "partner", "ok", timeout=15)
    wait_for(negotiated, timeout=15)
    print(f"partner back {back_after:.2f}s after the re-plug")
    assert proc_partner_mac("p1") == partner
    assert not int(sysfs("p1/bonding_slave/ad_actor_oper_port_state")) & DEFAULTED


def test_port_cabled_to_another_partner_shows_a_different_partner(
    lab: Lab, bondd: Bondd, capsys: pytest.CaptureFixture[str]
) -> None:
    setup(lab, bondd)
    ip(
        "link",
        "add",
        "pbond1",
        "type",
        "bond",
        "mode",
        "802.3ad",
        "lacp_rate",
        "fast",
        netns=lab.switch,
    )
    ip("link", "set", "pbond1", "up", netns=lab.switch)
    move_far_end(lab, "p1", "pbond1")
    other = switch_mac("pbond1", lab)
    wait_for(lambda: proc_partner_mac("p1") == other, timeout=15)

    capsys.readouterr()
    assert main(["lacp", "bond0", "--json"]) == 0
    [bond] = json.loads(capsys.readouterr().out)["bonds"]
    ports = {p["name"]: p for p in bond["ports"]}
    assert ports["p1"]["partner_mac"] == other == proc_partner_mac("p1")
    assert ports["p0"]["partner_mac"] == switch_mac("pbond0", lab) == proc_partner_mac("p0")
    assert bond["different_partner"] in (["p1"], ["p0"])
    assert bond["verdict"] != "negotiated"
    assert main(["lacp", "bond0"]) == 0
    assert "differs from the other ports" in capsys.readouterr().out
