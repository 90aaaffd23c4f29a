"""Takeover's file hand-off: what it changes in each manager's files, and the transaction seam
that installs those changes and restores them byte for byte on rollback."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bondd import handoff, importers
from bondd.engine.pending import StagedFile
from bondd.engine.transaction import Proposal, Status, begin, recover_now
from bondd.model import ProbeSpec
from tests.unit.fakekernel import FakeKernel
from tests.unit.test_engine_fakes import BASE, FakeClock, host, proposal

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).parent / "import_samples"


def test_networkd_files_of_the_bond_ports_and_vlan_are_moved_aside_and_no_others() -> None:
    staged = handoff.staged_files(importers.load("networkd", [SAMPLES / "networkd"]))
    removed = sorted(Path(s.path).name for s in staged if s.new is None)
    assert removed == [
        "10-bond0.netdev",
        "10-bond0.network",
        "20-eno1.network",
        "20-uplink-b.network",
        "30-bond0.100.netdev",
        "30-bond0.100.network",
    ]  # 90-dhcp.network (other links) stays
    aside = {s.path: s.new for s in staged if s.path.endswith(handoff.MOVED_SUFFIX)}
    assert len(aside) == len(removed)
    assert all(
        s.reload == () for s in staged
    )  # networkd is not reloaded: it lets go at its next start


def test_ifupdown_comments_out_exactly_the_stanzas_and_their_auto_lines() -> None:
    path = SAMPLES / "ifupdown" / "interfaces"
    staged = handoff.staged_files(importers.load("ifupdown", [path]))
    main = next(s for s in staged if s.path == str(path))
    assert main.new is not None and main.old == path.read_text()
    marked = [line for line in main.new.splitlines() if line.startswith(handoff.MARKER)]
    plain = [line for line in main.new.splitlines() if not line.startswith(handoff.MARKER)]
    assert f"{handoff.MARKER}auto bond0" in marked
    assert f"{handoff.MARKER}iface bond0 inet6 static" in marked
    assert f"{handoff.MARKER}    bond-master bond0" in marked
    assert "iface lo inet loopback" in plain and "iface eth9 inet dhcp" in plain
    assert "allow-hotplug eth9" in plain
    vlan = next(s for s in staged if s.path.endswith("vlan100"))
    assert vlan.new is not None and all(
        line.startswith(handoff.MARKER) for line in vlan.new.splitlines()
    )


def test_networkmanager_gets_one_dropin_naming_exactly_the_bond_interfaces(tmp_path: Path) -> None:
    dropin = tmp_path / "conf.d" / "90-bondd-takeover.conf"
    found = importers.load("networkmanager", [SAMPLES / "networkmanager"])
    (staged,) = handoff.staged_files(found, dropin, root=tmp_path)
    assert staged.old is None and staged.reload[:2] == ("/bin/sh", "-c")
    # Top down: the VLAN, the bond, then its ports; then the configuration is reloaded.
    assert "for d in bond0.100 bond0 eno1; do nmcli device set" in staged.reload[2]
    assert staged.reload[2].endswith("nmcli general reload")
    assert staged.new is not None
    line = next(x for x in staged.new.splitlines() if x.startswith("unmanaged-devices="))
    assert line == (
        "unmanaged-devices=interface-name:bond0;interface-name:bond0.100;"
        "interface-name:eno1;mac:52:54:00:12:34:02"
    )


def test_networkmanager_takeover_is_refused_where_ifenslave_would_delete_the_bond(
    tmp_path: Path,
) -> None:
    found = importers.load("networkmanager", [SAMPLES / "networkmanager"])
    dropin = tmp_path / "conf.d" / "90-bondd-takeover.conf"
    for hook in (handoff.NM_IFUPDOWN_DISPATCHER, handoff.IFENSLAVE_POST_DOWN):
        (tmp_path / hook).parent.mkdir(parents=True)
        (tmp_path / hook).write_text("#!/bin/sh\n")
    with pytest.raises(handoff.HandoffUnsupportedError) as caught:
        handoff.staged_files(found, dropin, root=tmp_path)
    assert "if-post-down.d/ifenslave" in caught.value.message
    assert caught.value.hint is not None and "apt-get purge ifenslave" in caught.value.hint
    # Without ifenslave's hook (NetworkManager's dispatcher alone) the hand-over goes ahead.
    (tmp_path / handoff.IFENSLAVE_POST_DOWN).unlink()
    assert len(handoff.staged_files(found, dropin, root=tmp_path)) == 1


def test_netplan_takeover_is_refused_with_what_to_do() -> None:
    with pytest.raises(handoff.HandoffUnsupportedError) as caught:
        handoff.staged_files(importers.load("netplan", [SAMPLES / "netplan"]))
    assert caught.value.hint is not None and "/etc/netplan" in caught.value.hint


class FlippingProber:
    """Passes the pre-check (so the probe gates), fails after the change."""

    def __init__(self) -> None:
        self.checks = 0

    def check(self, probe: ProbeSpec, timeout: float) -> FlippingProber:
        self.checks += 1
        self.ok = self.checks == 1
        return self

    @property
    def detail(self) -> str:
        return "fake"


def _other_manager_files(tmp_path: Path) -> tuple[list[StagedFile], dict[Path, tuple[bytes, int]]]:
    """A moved-aside file, a rewritten CRLF file with mode 0600, a new drop-in with a reload."""
    etc = tmp_path / "etc"
    etc.mkdir()
    netdev = etc / "10-bond0.netdev"
    netdev.write_bytes(b"[NetDev]\nName=bond0\nKind=bond\n")
    interfaces = etc / "interfaces"
    interfaces.write_bytes(b"auto bond0\r\niface bond0 inet manual\r\n")
    interfaces.chmod(0o600)
    log = tmp_path / "reloads"
    script = tmp_path / "reload.sh"
    script.write_text(f"#!/bin/sh\necho reload >> {log}\n")
    script.chmod(0o755)
    before = {p: (p.read_bytes(), stat.S_IMODE(p.stat().st_mode)) for p in (netdev, interfaces)}
    staged = [
        StagedFile(str(netdev), None, netdev.read_text(), 0o644),
        StagedFile(str(netdev) + handoff.MOVED_SUFFIX, netdev.read_text(), None, 0o644),
        StagedFile(
            str(interfaces),
            "#bondd-takeover# auto bond0\r\n#bondd-takeover# iface bond0 inet manual\r\n",
            interfaces.read_bytes().decode(),
            0o600,
        ),
        StagedFile(str(etc / "90-bondd.conf"), "[keyfile]\n", None, None, (str(script),)),
    ]
    return staged, before


def test_takeover_runs_a_full_transaction_with_an_empty_plan_and_a_rollback_restores_bytes(
    tmp_path: Path,
) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    begin(host(tmp_path, kernel, clock), proposal(BASE))
    writes = kernel.writes
    staged, before = _other_manager_files(tmp_path)
    adopt = proposal(BASE)
    result = begin(
        host(tmp_path, kernel, clock),
        Proposal(adopt.desired, adopt.hash + "t", tuple(staged), adopting=("bond0",)),
        confirm_timeout=60,
    )
    assert result.status is Status.WAITING  # not CONVERGED: the confirm window covers the files
    assert not Path(staged[0].path).exists() and Path(staged[1].path).exists()
    assert (tmp_path / "reloads").read_text() == "reload\n"
    clock.now += 61
    assert "not confirmed" in (recover_now(host(tmp_path, kernel, clock)) or "")
    for path, (data, mode) in before.items():
        assert path.read_bytes() == data and stat.S_IMODE(path.stat().st_mode) == mode
    assert not Path(staged[1].path).exists() and not Path(staged[3].path).exists()
    assert (tmp_path / "reloads").read_text() == "reload\nreload\n"  # the manager saw it back
    assert kernel.writes == writes  # adopted, never touched


def test_a_failed_probe_rolls_the_takeover_back(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    gated = BASE.replace(
        "bondd: {probes: []}", "bondd: {probes: [{type: ping, target: 192.0.2.1}]}"
    )
    begin(host(tmp_path, kernel, clock), proposal(gated))
    staged, before = _other_manager_files(tmp_path)
    adopt = proposal(gated)
    result = begin(
        host(tmp_path, kernel, clock, prober=FlippingProber()),  # type: ignore[arg-type]
        Proposal(adopt.desired, adopt.hash + "t", tuple(staged), adopting=("bond0",)),
    )
    assert result.status is Status.ROLLED_BACK
    for path, (data, mode) in before.items():
        assert path.read_bytes() == data and stat.S_IMODE(path.stat().st_mode) == mode


def test_a_failing_reload_rolls_back(tmp_path: Path) -> None:
    kernel, clock = FakeKernel(["p0", "p1"]), FakeClock()
    begin(host(tmp_path, kernel, clock), proposal(BASE))
    staged, before = _other_manager_files(tmp_path)
    failing = StagedFile(str(tmp_path / "x.conf"), "x\n", None, None, ("false",))
    adopt = proposal(BASE)
    result = begin(
        host(tmp_path, kernel, clock),
        Proposal(adopt.desired, adopt.hash + "t", (*staged, failing), adopting=("bond0",)),
    )
    assert result.status is Status.ROLLED_BACK and "`false` failed" in result.reason
    for path, (data, _) in before.items():
        assert path.read_bytes() == data
    assert not os.path.exists(failing.path)
