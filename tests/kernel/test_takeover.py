"""`bondctl import` and `bondctl takeover` on a bond made by hand, as networkd or ifupdown left it.

The bond is built with `ip` the way the source's files describe it; the
import of those files must plan empty against the kernel, and a takeover
must adopt it with zero link events (watched on a netlink socket) and hand
the files over, or, rolled back, leave them byte-identical.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.kernel.harness import Bondd
from tests.lab.events import LinkEvents
from tests.lab.guard import venv_command
from tests.lab.netlab import HOST_ADDRESS, PREFIX, SWITCH_ADDRESS, Lab, ip, settle, sysfs

BONDCTL = venv_command("bondctl")
WATCHED = ("bond0", "p0", "p1", "bond0.7")

NETWORKD = {
    "10-bond0.netdev": "[NetDev]\nName=bond0\nKind=bond\n\n[Bond]\nMode=active-backup\n"
    "MIIMonitorSec=100ms\nUpDelaySec=200ms\n",
    "10-bond0.network": f"[Match]\nName=bond0\n\n[Network]\nAddress={HOST_ADDRESS}/{PREFIX}\n"
    f"Gateway={SWITCH_ADDRESS}\nDNS={SWITCH_ADDRESS}\nVLAN=bond0.7\n",
    "20-p0.network": "[Match]\nName=p0\n\n[Network]\nBond=bond0\nPrimarySlave=yes\n",
    "20-p1.network": "[Match]\nName=p1\n\n[Network]\nBond=bond0\n",
    "30-vlan.netdev": "[NetDev]\nName=bond0.7\nKind=vlan\n\n[VLAN]\nId=7\n",
    "30-vlan.network": "[Match]\nName=bond0.7\n\n[Network]\nAddress=10.7.0.2/24\n",
    "90-other.network": "[Match]\nName=eth*\n\n[Network]\nDHCP=yes\n",
}
IFUPDOWN = f"""auto lo
iface lo inet loopback

auto p0
iface p0 inet manual
    bond-master bond0

iface p1 inet manual
    bond-master bond0

auto bond0
iface bond0 inet static
    address {HOST_ADDRESS}/{PREFIX}
    gateway {SWITCH_ADDRESS}
    dns-nameservers {SWITCH_ADDRESS}
    bond-slaves p0 p1
    bond-mode active-backup
    bond-miimon 100
    bond-updelay 200
    bond-primary p0

auto bond0.7
iface bond0.7 inet static
    address 10.7.0.2/24

allow-hotplug eth9
iface eth9 inet dhcp
"""


def build_by_hand(lab: Lab, source: str) -> None:
    """What networkd (or ifup with ifenslave) leaves in the kernel for the files above."""
    lab.cable("p0")
    lab.cable("p1")
    lab.bridge_switch(["p0", "p1"])
    ip("link", "add", "bond0", "type", "bond", "mode", "active-backup", "miimon", "100")
    ip("link", "set", "bond0", "type", "bond", "updelay", "200")
    for port in ("p0", "p1"):
        ip("link", "set", port, "master", "bond0")
    ip("link", "set", "bond0", "type", "bond", "primary", "p0")
    ip("link", "set", "bond0", "up")
    ip("addr", "add", f"{HOST_ADDRESS}/{PREFIX}", "dev", "bond0")
    # ifupdown 0.8 (Debian 12) adds its gateway route on-link; networkd does not.
    onlink = ["onlink"] if source == "ifupdown" else []
    ip("route", "add", "default", "via", SWITCH_ADDRESS, "dev", "bond0", "proto", "static", *onlink)
    ip("link", "add", "link", "bond0", "name", "bond0.7", "type", "vlan", "id", "7")
    ip("addr", "add", "10.7.0.2/24", "dev", "bond0.7")
    ip("link", "set", "bond0.7", "up")


def write_source(source: str, root: Path) -> tuple[Path, dict[Path, bytes]]:
    root.mkdir()
    if source == "networkd":
        for name, text in NETWORKD.items():
            (root / name).write_text(text)
    else:
        (root / "interfaces").write_text(IFUPDOWN)
    return root, {p: p.read_bytes() for p in root.iterdir()}


def bondctl(bondd: Bondd, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            BONDCTL,
            "--config-dir",
            str(bondd.config_dir),
            "--state-dir",
            str(bondd.state_dir),
            *args,
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def watched(events: LinkEvents) -> list[str]:
    return [f"{e.kind} {e.ifname}" for e in events.drain(0.5) if e.ifname in WATCHED]


@pytest.mark.parametrize("source", ["networkd", "ifupdown"])
def test_takeover_adopts_with_zero_link_events_and_hands_the_files_over(
    source: str, lab: Lab, bondd: Bondd, tmp_path: Path, events: LinkEvents
) -> None:
    build_by_hand(lab, source)
    root, before = write_source(source, tmp_path / source)
    settle(events)
    done = bondctl(bondd, "takeover", "--from", source, str(root))
    # Exit 0 without --yes: the import of the files planned empty against this kernel.
    assert done.returncode == 0, done.stdout + done.stderr
    assert watched(events) == []  # adopted, not recreated: not one link event
    assert (bondd.config_dir / f"60-takeover-{source}.yaml").exists()
    assert bondd.store.ownership().adopted == frozenset({"bond0"})
    if source == "networkd":
        left = sorted(p.name for p in root.iterdir() if not p.name.endswith(".bondd-takeover"))
        assert left == ["90-other.network"]  # the other links' file stays
        for path, data in before.items():
            if path.name != "90-other.network":
                assert Path(f"{path}.bondd-takeover").read_bytes() == data
    else:
        text = (root / "interfaces").read_text()
        assert "#bondd-takeover# iface bond0 inet static" in text
        assert "\niface eth9 inet dhcp\n" in text and "\niface lo inet loopback\n" in text
    assert f"{root}" in done.stdout  # every changed file is printed
    # bondd alone now: an apply after the takeover is still a no-op.
    assert bondd.plan().empty
    assert sysfs("bond0/bonding/primary") == "p0" and int(sysfs("bond0/bonding/updelay")) == 200


def test_an_unconfirmed_takeover_restores_the_files_byte_identical(
    lab: Lab, bondd: Bondd, tmp_path: Path, events: LinkEvents
) -> None:
    # networkd's hand-over is the one that removes files; ifupdown's rewrite is in the unit tier.
    source = "networkd"
    build_by_hand(lab, source)
    root, before = write_source(source, tmp_path / source)
    settle(events)
    done = bondctl(bondd, "takeover", "--from", source, str(root), "--confirm-timeout", "2")
    assert done.returncode == 3, done.stdout + done.stderr
    assert {p: p.read_bytes() for p in root.iterdir()} == before
    assert not (bondd.config_dir / f"60-takeover-{source}.yaml").exists()
    assert watched(events) == []
    assert sysfs("bond0/bonding/slaves").split() == ["p0", "p1"]
