"""The daemon on the real kernel: files in, bonds out; drift repaired; systemd and
journald spoken to over real sockets; the control socket guarded by SO_PEERCRED."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from pyroute2 import IPRoute

from bondd.protocol import request
from tests.kernel.daemon_harness import Daemon
from tests.lab import nsutil
from tests.lab.guard import venv_command
from tests.lab.netlab import HOST_ADDRESS, PREFIX, Lab, ip, sysfs, wait_for
from tests.unit.hostile import requests as hostile_requests

BONDCTL = venv_command("bondctl")
CLIENT = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"cmd": "rollback"}\\n')
print(s.recv(65536).decode())
"""


def bond_yaml(miimon: int = 100, mode: str = "active-backup") -> str:
    return f"""network:
  version: 2
  ethernets: {{p0: {{}}, p1: {{}}}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters: {{mode: {mode}, mii-monitor-interval: {miimon}}}
      addresses: [{HOST_ADDRESS}/{PREFIX}]
bondd: {{probes: []}}
"""


def write(daemon: Daemon, text: str, name: str = "10-bond.yaml") -> None:
    tmp = daemon.config_dir / f".{name}.tmp"
    tmp.write_text(text)
    os.replace(tmp, daemon.config_dir / name)  # atomic, as Ansible and editors do


# converged() runs `ip`, a process start each time: poll it slowly, or the test
# takes the lab's one CPU away from the daemon it is waiting for.
POLL = 0.5


def converged(miimon: int = 100) -> bool:
    try:
        return (
            sysfs("bond0/bonding/miimon") == str(miimon)
            and sysfs("bond0/bonding/slaves").split() == ["p0", "p1"]
            and int(sysfs("bond0/flags"), 16) & 1 == 1
            and f"{HOST_ADDRESS}/{PREFIX}" in ip("-br", "addr", "show", "dev", "bond0")
        )
    except (OSError, RuntimeError):
        return False


def back_to_config() -> bool:
    return converged() and int(sysfs("p0/flags"), 16) & 1 == 1


def started(lab: Lab, daemon: Daemon, *extra: str) -> None:
    lab.cable("p0")
    lab.cable("p1")
    lab.bridge_switch(["p0", "p1"])
    daemon.start(*extra)


def test_yaml_dropped_in_converges_without_any_command(lab: Lab, daemon: Daemon) -> None:
    started(lab, daemon)
    write(daemon, bond_yaml())
    wait_for(converged, timeout=30, interval=POLL)
    [applied] = daemon.wait_event("applied")
    assert applied["BONDD_BOND"] == "bond0"
    assert applied["BONDD_TXN"] and applied["PRIORITY"] == "6"
    assert "bond0" in applied["MESSAGE"]
    daemon.wait_note("STATUS=1 bond converged")


def test_every_drift_kind_is_repaired(lab: Lab, daemon: Daemon) -> None:
    started(lab, daemon)
    write(daemon, bond_yaml())
    wait_for(converged, timeout=30, interval=POLL)
    daemon.wait_event("applied")
    ipr = IPRoute()

    def has_address() -> bool:
        index = ipr.link_lookup(ifname="bond0")
        return bool(index) and any(
            a.get_attr("IFA_ADDRESS") == HOST_ADDRESS for a in ipr.get_addr(index=index[0])
        )

    def index(name: str) -> int:
        return int(ipr.link_lookup(ifname=name)[0])

    def exists() -> bool:
        return Path("/sys/class/net/bond0/bonding/slaves").exists()

    # Each drift: how to make it, and the cheap in-process check that it is undone
    # (the test must not steal the lab's one CPU from the daemon it is timing, so
    # no `ip` process per drift or per poll).
    drifts: dict[str, tuple[Callable[[], object], Callable[[], bool]]] = {
        "option": (
            lambda: Path("/sys/class/net/bond0/bonding/miimon").write_text("50"),
            lambda: sysfs("bond0/bonding/miimon") == "100",
        ),
        "membership": (
            lambda: ipr.link("set", index=index("p1"), master=0),
            lambda: sysfs("bond0/bonding/slaves").split() == ["p0", "p1"],
        ),
        "port down": (
            lambda: ipr.link("set", index=index("p0"), state="down"),
            lambda: int(sysfs("p0/flags"), 16) & 1 == 1,
        ),
        "address removed": (
            lambda: ipr.addr("del", index=index("bond0"), address=HOST_ADDRESS, prefixlen=PREFIX),
            has_address,
        ),
        "bond deleted": (
            lambda: ipr.link("del", index=index("bond0")),
            lambda: exists() and sysfs("bond0/bonding/slaves").split() == ["p0", "p1"],
        ),
    }
    times: dict[str, list[float]] = {}
    for name, (make, undone) in drifts.items():
        samples = []
        for _ in range(20 if name == "option" else 3):
            before = len(daemon.events("drift_repaired"))
            start = time.monotonic()
            make()
            wait_for(undone, timeout=30, interval=0.002)
            samples.append(time.monotonic() - start)
            wait_for(back_to_config, timeout=30)
            daemon.wait_event("drift_repaired", before + 1)
        times[name] = samples
    ipr.close()
    for name, samples in times.items():
        ordered = sorted(samples)
        p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
        print(
            f"\nLAB-FIGURE drift '{name}' event->verified repair: p50 "
            f"{statistics.median(samples) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
            f" over {len(samples)}"
        )
    repaired = daemon.events("drift_repaired")[-1]
    assert repaired["BONDD_BOND"] == "bond0" and "BONDD_DIFF" in repaired


def test_notify_protocol_ready_status_watchdog_reloading_stopping(lab: Lab, daemon: Daemon) -> None:
    started(lab, daemon)
    daemon.wait_note("READY=1")
    daemon.wait_note("STATUS=")

    def pinged() -> bool:
        daemon.pump()
        return sum(1 for _, n in daemon.notes if n == "WATCHDOG=1") >= 3

    wait_for(pinged, timeout=10)
    pings = [t for t, n in daemon.notes if n == "WATCHDOG=1"]
    assert len(pings) >= 3 and max(b - a for a, b in itertools.pairwise(pings)) < 1.0
    daemon.signal(signal.SIGHUP)
    daemon.wait_note("RELOADING=1")
    assert any(n.startswith("MONOTONIC_USEC=") for _, n in daemon.notes)
    assert daemon.stop() == 0
    daemon.wait_note("STOPPING=1")


def test_burst_of_config_writes_ends_in_the_last_config_applied_a_few_times(
    lab: Lab, daemon: Daemon
) -> None:
    started(lab, daemon)
    for i in range(1000):
        write(daemon, bond_yaml(miimon=100 + (i % 50) * 2 if i < 999 else 250))
    wait_for(lambda: converged(250), timeout=60, interval=POLL)
    time.sleep(2)
    applied = len(daemon.events("applied"))
    print(f"\nLAB-FIGURE 1000 config writes -> {applied} applies")
    assert converged(250)
    assert 1 <= applied <= 5


def test_link_flapping_100_times_a_second_costs_no_repair_pass(lab: Lab, daemon: Daemon) -> None:
    started(lab, daemon)
    write(daemon, bond_yaml())
    wait_for(converged, timeout=30, interval=POLL)
    daemon.wait_event("applied")
    with nsutil.netns_only(f"/run/netns/{lab.switch}"):
        switch = IPRoute()
    far = switch.link_lookup(ifname=lab.far_end("p1"))[0]
    passes_before = request(daemon.run_dir, {"cmd": "status"})["stats"].get("repair-pass", 0)
    cpu_before = daemon.cpu_seconds()
    end = time.monotonic() + 10
    flaps = 0
    while time.monotonic() < end:
        switch.link("set", index=far, state="down")
        switch.link("set", index=far, state="up")
        flaps += 1
        time.sleep(0.008)
    switch.close()
    used = daemon.cpu_seconds() - cpu_before
    stats = request(daemon.run_dir, {"cmd": "status"})["stats"]
    print(
        f"\nLAB-FIGURE {flaps} flaps in 10 s: daemon CPU {used:.2f} s,"
        f" RSS {daemon.rss_kib()} KiB, wake-ups {stats.get('wake:netlink', 0)}"
    )
    # Carrier coming and going is not drift: no pass per event. (A burst can
    # overrun the event socket; the daemon then resyncs once, as it should.)
    assert stats.get("repair-pass", 0) - passes_before <= 3 < flaps
    wait_for(converged, timeout=10, interval=POLL)


def test_socket_changes_need_root_and_a_killed_client_still_gets_its_rollback(
    lab: Lab, daemon: Daemon, tmp_path: Path
) -> None:
    # pytest's tmp dirs are private to root: put the socket where others can reach it.
    daemon.run_dir = Path(f"/run/bondd-test-{os.getpid()}")
    started(lab, daemon, "--socket-group", "nogroup")
    write(daemon, bond_yaml())
    wait_for(converged, timeout=30, interval=POLL)
    daemon.wait_event("applied")
    base = [BONDCTL, *daemon.client_dirs]
    # A client as an unprivileged user, speaking the socket protocol directly.
    nobody = subprocess.run(
        ["/usr/bin/python3", "-c", CLIENT, str(daemon.run_dir / "control.sock")],
        capture_output=True,
        text=True,
        check=False,
        user="nobody",
        group="nogroup",
    )
    assert nobody.returncode == 0, nobody.stderr
    assert '"ok": false' in nobody.stdout and "needs root" in nobody.stdout
    assert daemon.events("refused")
    new = tmp_path / "10-bond.yaml"
    new.write_text(bond_yaml(miimon=300))
    client = subprocess.Popen(
        [*base, "apply", "--yes", "--confirm-timeout", "4", str(new)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: converged(300), timeout=60, interval=POLL)
    client.send_signal(signal.SIGKILL)
    client.wait()
    wait_for(converged, timeout=30, interval=POLL)  # back to miimon 100 at the deadline
    assert (daemon.config_dir / "10-bond.yaml").read_text() == bond_yaml()
    [rolled] = daemon.wait_event("rolled_back")
    assert "not confirmed within 4s" in rolled["MESSAGE"]


def test_kernel_failover_of_a_managed_bond_is_logged_with_the_new_active_port(
    lab: Lab, daemon: Daemon
) -> None:
    started(lab, daemon)
    write(daemon, bond_yaml().replace("mii-monitor-interval: 100", "mii-monitor-interval: 50"))
    wait_for(lambda: converged(50), timeout=30, interval=POLL)
    daemon.wait_event("applied")
    wait_for(lambda: sysfs("bond0/bonding/active_slave") in ("p0", "p1"), timeout=10)
    active = sysfs("bond0/bonding/active_slave")
    other = "p1" if active == "p0" else "p0"
    time.sleep(1.5)  # failovers are logged at most once a second per bond
    # Its first port's activation was the daemon's own doing (the kernel
    # announces it as a failover): not logged, not counted.
    assert daemon.events("failover") == []
    seen = 0
    lab.pull_cable(active)
    wait_for(lambda: sysfs("bond0/bonding/active_slave") == other, timeout=10)
    failover = daemon.wait_event("failover", seen + 1)[-1]
    assert failover["BONDD_BOND"] == "bond0"
    assert failover["BONDD_ACTIVE_PORT"] == other
    assert not daemon.events("drift_repaired")  # a lost carrier is not drift


def test_hostile_requests_get_errors_and_a_trickling_client_does_not_stall_others(
    lab: Lab, daemon: Daemon
) -> None:
    started(lab, daemon)
    write(daemon, bond_yaml())
    wait_for(converged, timeout=30, interval=POLL)
    daemon.wait_event("applied")
    path = str(daemon.run_dir / "control.sock")
    trickler = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    trickler.connect(path)
    trickler.settimeout(10)
    started_at = time.monotonic()
    served = 0
    for byte in b'{"cmd": "status", "x": "' + b"x" * 100:  # a byte every 0.2 s or so
        try:
            trickler.sendall(bytes([byte]))
        except BrokenPipeError:
            break  # the daemon cut it off at the whole-request deadline
        asked = time.monotonic()
        assert request(daemon.run_dir, {"cmd": "status"}, timeout=5)["ok"] is True
        assert time.monotonic() - asked < 1.0, "a second client waited on the trickler"
        served += 1
        time.sleep(0.2)
    answer = trickler.recv(65536)
    assert b"deadline" in answer, answer
    assert served >= 3 and time.monotonic() - started_at < 5
    for name, data, uid, expected in hostile_requests.CASES:
        if uid != 0 or len(data) > 1 << 20:
            continue  # unprivileged: test_socket_changes_need_root...; sizes: the unit tests
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(path)
            sock.sendall(data)
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        assert b'"ok": false' in reply and expected.encode() in reply, (name, reply[:300])
    assert daemon.proc is not None and daemon.proc.poll() is None
    # Files the loader cannot use keep the running state, and the log names them.
    os.symlink(daemon.config_dir / "missing", daemon.config_dir / "20-gone.yaml")
    (daemon.config_dir / "30-deep.yaml").write_text("network: " + "[" * 100_000)
    [invalid] = daemon.wait_event("proposal_invalid")
    assert "20-gone.yaml:1:1" in invalid["MESSAGE"] and "30-deep.yaml:1:" in invalid["MESSAGE"]
    assert converged()
    assert daemon.proc.poll() is None
    assert request(daemon.run_dir, {"cmd": "status"})["ok"] is True


def test_apply_with_other_directories_than_the_running_daemons_is_refused(
    lab: Lab, daemon: Daemon, tmp_path: Path
) -> None:
    started(lab, daemon)
    write(daemon, bond_yaml())
    wait_for(converged, timeout=30, interval=POLL)
    other = tmp_path / "other"
    other.mkdir()
    new = tmp_path / "10-bond.yaml"
    new.write_text(bond_yaml(miimon=300))
    command = [BONDCTL, "--config-dir", str(other), "--run-dir", str(daemon.run_dir)]
    run = subprocess.run(
        [*command, "apply", "--yes", str(new)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 64, run.stderr
    assert "applies with its own directories" in run.stderr
    assert list(other.iterdir()) == [] and converged(100)  # nothing installed, nothing changed


def test_bondctl_through_the_daemon_imports_only_the_protocol_and_says_what_bondctl_reads(
    lab: Lab, daemon: Daemon, tmp_path: Path
) -> None:
    started(lab, daemon)
    write(daemon, bond_yaml())
    wait_for(converged, timeout=30, interval=POLL)
    daemon.wait_event("applied")
    dirs = ["--config-dir", str(daemon.config_dir), "--state-dir", str(daemon.state_dir)]
    via = [BONDCTL, *dirs, "--run-dir", str(daemon.run_dir)]
    alone = [BONDCTL, *dirs, "--run-dir", str(tmp_path / "no-daemon")]
    # Import timing on stderr: every module the process loaded, by name.
    timed = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")

    def bondctl(*argv: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, env=timed)
        assert done.returncode == code, done.stderr[-2000:]
        return done

    def heavy(done: subprocess.CompletedProcess[str]) -> list[str]:
        names = (line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines())
        return [n for n in names if n.startswith(("pyroute2", "bondd.engine", "bondd.kernel"))]

    # status: the daemon's report is the one bondctl makes reading the kernel itself.
    daemons = bondctl(*via, "status", "--json")
    assert not heavy(daemons)
    own = bondctl(*alone, "status", "--json")
    assert heavy(own)  # the same command without a daemon does read the kernel
    assert json.loads(daemons.stdout) == json.loads(own.stdout)
    assert "bond0" in bondctl(*via, "status").stdout
    missing = bondctl(*via, "status", "bond7", code=1)
    assert "no bond named bond7" in missing.stderr
    # plan: the daemon's, for the file named; nothing changes.
    new = tmp_path / "10-bond.yaml"
    new.write_text(bond_yaml(miimon=300))
    plan = bondctl(*via, "plan", "--detailed-exitcode", str(new), code=2)
    assert "miimon" in plan.stdout and not heavy(plan)
    assert converged(100) and (daemon.config_dir / "10-bond.yaml").read_text() == bond_yaml()
    # apply: the daemon's transaction; the kernel shows the new value.
    applied = bondctl(*via, "apply", "--yes", str(new))
    assert not heavy(applied), heavy(applied)
    assert converged(300)
    assert (daemon.config_dir / "10-bond.yaml").read_text() == bond_yaml(miimon=300)
    # Changed behind the daemon's back (repair held off): status shows the kernel's
    # new value, not the daemon's last read.
    assert request(daemon.run_dir, {"cmd": "hold", "bond": "bond0", "seconds": 60})["ok"]
    bondctl(*via, "status")  # the daemon's read is fresh now
    Path("/sys/class/net/bond0/bonding/miimon").write_text("200")
    time.sleep(0.5)  # the kernel's event reaches the daemon
    shown = json.loads(bondctl(*via, "status", "--json").stdout)
    assert [b["options"]["miimon"] for b in shown["bonds"]] == [200], shown["bonds"]
    assert sysfs("bond0/bonding/miimon") == "200"
