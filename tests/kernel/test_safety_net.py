"""The 2 a.m. cases, on the real kernel, judged on the kernel's own view.

- a standalone `bondctl apply` that cuts the host off its gateway, hit by
  SIGHUP (a dying SSH session) or SIGKILL while its probes run: the old
  state comes back by itself, nobody runs anything;
- a daemon whose valid config names a port the host lacks keeps running,
  manages the bond on the present port and enslaves the missing one, with
  no flap, when it appears; a port deleted under it does not stop repairs;
- a daemon stopped inside a confirm window leaves nothing unguarded.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from bondd.engine.store import Store
from tests.kernel.daemon_harness import Daemon, parse_journal
from tests.kernel.harness import kernel_state
from tests.lab.events import LinkEvents
from tests.lab.guard import venv_command
from tests.lab.netlab import (
    HOST_ADDRESS,
    PREFIX,
    SWITCH_ADDRESS,
    Lab,
    ip,
    settle,
    state_changes,
    sysfs,
    wait_for,
)

BONDCTL = venv_command("bondctl")
CUT_ADDRESS = "203.0.113.2"
NAMES = ["bond0", "p0", "p1"]
DEAD_MAN_BOUND = 10.0  # bondctl(8), THE DEAD-MAN TIMER


def config(address: str = HOST_ADDRESS, ports: str = "p0, p1", probe: bool = True) -> str:
    probes = f"[{{type: ping, target: {SWITCH_ADDRESS}, timeout: 20}}]" if probe else "[]"
    return f"""network:
  version: 2
  ethernets: {{p0: {{}}, p1: {{}}, ghost0: {{}}}}
  bonds:
    bond0:
      interfaces: [{ports}]
      parameters: {{mode: active-backup, mii-monitor-interval: 100}}
      addresses: [{address}/{PREFIX}]
bondd: {{probes: {probes}}}
"""


class Journal:
    """A journald native-protocol socket, as BONDD_JOURNAL_SOCKET."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setblocking(False)
        self.records: list[dict[str, str]] = []

    def read(self) -> list[dict[str, str]]:
        while True:
            try:
                self.records.append(parse_journal(self.sock.recv(1 << 20)))
            except BlockingIOError:
                return self.records

    def close(self) -> None:
        self.sock.close()


def bondctl(state: Path, conf: Path, journal: Journal, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [BONDCTL, "--config-dir", str(conf), "--state-dir", str(state), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, BONDD_JOURNAL_SOCKET=str(journal.path)),
    )


def has_address(name: str, address: str) -> bool:
    out = subprocess.run(
        ["ip", "-j", "addr", "show", "dev", name], capture_output=True, text=True, check=False
    )
    if out.returncode:
        return False
    return any(
        a.get("local") == address for link in json.loads(out.stdout) for a in link["addr_info"]
    )


def two_port_lab(lab: Lab) -> None:
    lab.cable("p0")
    lab.cable("p1")
    lab.bridge_switch(["p0", "p1"])


def cut_off_then(
    lab: Lab, tmp_path: Path, signum: int
) -> tuple[subprocess.Popen[str], float, Journal]:
    """Apply a change that cuts the gateway; send `signum` while its probes run.

    Returns bondctl, the seconds from the signal until the kernel shows the
    old state again (nobody else running anything), and the journal.
    """
    two_port_lab(lab)
    conf, state = tmp_path / "bondd.d", tmp_path / "state"
    conf.mkdir()
    journal = Journal(tmp_path / "journal.sock")
    (conf / "10-bond.yaml").write_text(config())
    first = bondctl(state, conf, journal, "apply", "--yes")
    assert first.wait(timeout=120) == 0, first.stdout.read() if first.stdout else ""
    wait_for(lambda: lab.ping(SWITCH_ADDRESS, count=1, interval=0.2).received > 0, 20, 0.2)
    before = kernel_state(NAMES)
    change = tmp_path / "10-bond.yaml"
    change.write_text(config(CUT_ADDRESS))
    proc = bondctl(state, conf, journal, "apply", "--yes", str(change))
    wait_for(lambda: has_address("bond0", CUT_ADDRESS), timeout=60, interval=0.05)
    time.sleep(0.5)  # inside the probes: the ping gets no answer for 20 s
    assert Store(state).pending() is not None, "the change should still be probing"
    os.kill(proc.pid, signum)
    signalled = time.monotonic()
    wait_for(lambda: kernel_state(NAMES) == before, timeout=30, interval=0.1)
    restored = time.monotonic() - signalled
    wait_for(lambda: Store(state).pending() is None, timeout=10, interval=0.1)
    proc.wait(timeout=30)
    assert (conf / "10-bond.yaml").read_text() == config()  # the installed file, restored
    return proc, restored, journal


def test_sighup_during_the_probes_rolls_back_and_exits_3(lab: Lab, tmp_path: Path) -> None:
    proc, restored, journal = cut_off_then(lab, tmp_path, signal.SIGHUP)
    out = proc.stdout.read() if proc.stdout else ""
    print(f"\nLAB-FIGURE SIGHUP during probes -> old state in {restored:.2f}s")
    assert proc.returncode == 3, out
    assert "interrupted by SIGHUP" in out
    messages = [r.get("MESSAGE", "") for r in journal.read()]
    assert any("rolled back: interrupted by SIGHUP" in m for m in messages), messages
    journal.close()


def test_sigkill_during_the_probes_is_rolled_back_by_the_guard(lab: Lab, tmp_path: Path) -> None:
    proc, restored, journal = cut_off_then(lab, tmp_path, signal.SIGKILL)
    print(f"\nLAB-FIGURE SIGKILL during probes -> old state in {restored:.2f}s (guard)")
    assert proc.returncode == -signal.SIGKILL
    assert restored < DEAD_MAN_BOUND
    messages = [r.get("MESSAGE", "") for r in journal.read()]
    assert any("guard: rolled back" in m and "died while applying" in m for m in messages), messages
    journal.close()


def master_of(name: str) -> str | None:
    out = subprocess.run(
        ["ip", "-j", "link", "show", "dev", name], capture_output=True, text=True, check=False
    )
    if out.returncode:
        return None
    master = json.loads(out.stdout)[0].get("master")
    return str(master) if master else None


def status_text(daemon: Daemon) -> str:
    out = subprocess.run(
        [
            BONDCTL,
            "--config-dir",
            str(daemon.config_dir),
            "--state-dir",
            str(daemon.state_dir),
            "--run-dir",
            str(daemon.run_dir),
            "status",
            "bond0",
        ],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_daemon_manages_a_bond_whose_port_is_missing_and_enslaves_it_without_a_flap(
    lab: Lab, daemon: Daemon
) -> None:
    two_port_lab(lab)
    (daemon.config_dir / "10-bond.yaml").write_text(config(ports="p0, ghost0", probe=False))
    daemon.start()
    wait_for(lambda: master_of("p0") == "bond0", timeout=60, interval=0.2)
    assert has_address("bond0", HOST_ADDRESS)
    assert daemon.proc is not None and daemon.proc.poll() is None
    assert "port ghost0: configured, not present" in status_text(daemon)
    absent = daemon.wait_event("port_absent")
    assert "ghost0" in absent[0]["MESSAGE"]
    events = LinkEvents()
    try:
        before = settle(events)
        lab.cable("ghost0")
        ip("link", "set", lab.far_end("ghost0"), "master", "br0", netns=lab.switch)
        wait_for(lambda: master_of("ghost0") == "bond0", timeout=30, interval=0.1)
        daemon.wait_event("port_present")
        changes = [
            c
            for c in state_changes(before, events.drain(1.0))
            if c.split(":")[0] in ("bond0", "p0")
        ]
    finally:
        events.close()
    assert changes == [], changes
    assert sysfs("bond0/bonding/slaves").split() == ["p0", "ghost0"]
    assert daemon.proc.poll() is None


def test_a_deleted_port_does_not_stop_drift_repair(lab: Lab, daemon: Daemon) -> None:
    two_port_lab(lab)
    (daemon.config_dir / "10-bond.yaml").write_text(config(probe=False))
    daemon.start()
    wait_for(lambda: sysfs("bond0/bonding/slaves").split() == ["p0", "p1"], timeout=60)
    ip("link", "del", "p1")
    lab.cables.remove("p1")
    daemon.wait_event("port_absent")
    Path("/sys/class/net/bond0/bonding/miimon").write_text("250")
    wait_for(lambda: sysfs("bond0/bonding/miimon") == "100", timeout=30, interval=0.1)
    assert "port p1: configured, not present" in status_text(daemon)
    assert daemon.proc is not None and daemon.proc.poll() is None


def test_daemon_stopped_in_a_confirm_window_hands_the_deadline_to_the_guard(
    lab: Lab, daemon: Daemon, tmp_path: Path
) -> None:
    two_port_lab(lab)
    quiet = config(probe=False)
    (daemon.config_dir / "10-bond.yaml").write_text(quiet)
    daemon.start()
    wait_for(lambda: master_of("p1") == "bond0", timeout=60, interval=0.2)
    before = kernel_state(NAMES)
    change = tmp_path / "10-bond.yaml"
    change.write_text(quiet.replace("mii-monitor-interval: 100", "mii-monitor-interval: 40"))
    client = subprocess.Popen(
        [BONDCTL, *daemon.client_dirs, "apply", "--yes", "--confirm-timeout", "8", str(change)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: (
                (p := Store(daemon.state_dir).pending()) is not None and p.phase.value == "waiting"
            ),
            timeout=60,
            interval=0.1,
        )
        assert sysfs("bond0/bonding/miimon") == "40"
        stopping = time.monotonic()
        assert daemon.stop() == 0
        print(
            f"\nLAB-FIGURE daemon stopped in a confirm window in {time.monotonic() - stopping:.2f}s"
        )
        handed = daemon.events("handed_over")
        assert handed and "held by the guard" in handed[0]["MESSAGE"], daemon.journal[-5:]
        wait_for(lambda: kernel_state(NAMES) == before, timeout=30, interval=0.2)
        assert Store(daemon.state_dir).pending() is None
        assert (daemon.config_dir / "10-bond.yaml").read_text() == quiet
    finally:
        client.kill()
        client.wait()


def spare_guards() -> set[int]:
    """PIDs of the daemon's spare guards (`bondd.cli.guard --spare`), from /proc."""
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"bondd.cli.guard" in argv and b"--spare" in argv:
            found.add(int(proc.name))
    return found


def test_daemon_sigkilled_during_the_probes_is_rolled_back_by_the_spare_it_handed_them(
    lab: Lab, daemon: Daemon, tmp_path: Path
) -> None:
    two_port_lab(lab)
    (daemon.config_dir / "10-bond.yaml").write_text(config())
    daemon.start()
    wait_for(lambda: master_of("p1") == "bond0", timeout=60, interval=0.2)
    wait_for(lambda: lab.ping(SWITCH_ADDRESS, count=1, interval=0.2).received > 0, 20, 0.2)
    wait_for(lambda: bool(spare_guards()), timeout=60, interval=0.2)
    spares = spare_guards()  # started ahead, before this change was asked for
    before = kernel_state(NAMES)
    change = tmp_path / "10-bond.yaml"
    change.write_text(config(CUT_ADDRESS))
    client = subprocess.Popen(
        [BONDCTL, *daemon.client_dirs, "apply", "--yes", str(change)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: has_address("bond0", CUT_ADDRESS), timeout=60, interval=0.05)
        time.sleep(0.5)  # inside the probes: the ping gets no answer for 20 s
        pending = Store(daemon.state_dir).pending()
        assert pending is not None and pending.guard is not None, "should still be probing"
        assert pending.guard.pid in spares, (pending.guard, spares)  # no new guard process
        daemon.signal(signal.SIGKILL)
        killed = time.monotonic()
        wait_for(lambda: kernel_state(NAMES) == before, timeout=30, interval=0.1)
        restored = time.monotonic() - killed
        print(f"\nLAB-FIGURE daemon SIGKILLed during probes -> old state in {restored:.2f}s")
        assert restored < DEAD_MAN_BOUND
        wait_for(lambda: Store(daemon.state_dir).pending() is None, timeout=10, interval=0.1)
        assert (daemon.config_dir / "10-bond.yaml").read_text() == config()
        rolled = [e.get("MESSAGE", "") for e in daemon.events("rolled_back")]
        assert any("guard: rolled back" in m and "died while applying" in m for m in rolled)
        wait_for(lambda: not spare_guards(), timeout=30, interval=0.2)  # none left behind
    finally:
        client.kill()
        client.wait()
