"""A fleet in the lab kernel: hosts with their own bondd and sshd, a switch, a controller.

Each host is a network namespace and a mount namespace of its own: /etc,
/var/lib and /run/bondd are private to it (a tmpfs over /etc and /var/lib
whose entries link back to the real ones, plus the host's own bondd.d,
state and run directories), so its bondd daemon, its sshd and every SSH
session into it see only that host's configuration and state. Its two ports
are cabled to one bridge in the switch namespace, which also carries the
gateway address and the controller's cable. The controller namespace runs
ansible-playbook over real SSH with a key made for the test. Everything is
inside the lab kernel; the host machine's interfaces are never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.lab import nsutil
from tests.lab.guard import venv_command
from tests.lab.netlab import ip, wait_for

REPO = Path(__file__).resolve().parents[2]
SUBNET = "198.51.100"
GATEWAY = f"{SUBNET}.1"
CONTROLLER = f"{SUBNET}.100"
PREFIX = 24
BONDD = venv_command("bondd")
BONDCTL = venv_command("bondctl")
ANSIBLE_PLAYBOOK = "/usr/bin/ansible-playbook"  # Debian 12's ansible-core

# Runs inside `ip netns exec HOST unshare -m`: make this host's private files,
# then the daemon in the background and sshd in the foreground (same namespaces).
HOST_INIT = r"""
set -eu
d=$1
mount --make-rprivate /
for top in etc var/lib; do
  real=$d/real-$(echo "$top" | tr / -)
  mkdir -p "$real"
  mount --bind "/$top" "$real"
  mount -t tmpfs -o mode=755 tmpfs "/$top"
  for entry in "$real"/* "$real"/.[!.]*; do
    if [ -e "$entry" ] || [ -L "$entry" ]; then ln -s "$entry" "/$top/"; fi
  done
done
# A home of its own for root: the machine's /root may hold shell start-up files
# (a version manager's hooks) that every SSH session of this host would run.
mount -t tmpfs -o mode=700 tmpfs /root
# No name service: nothing on a host needs one, and the machine's resolver is
# not reachable from the lab's network (each lookup would wait for a timeout).
rm -f /etc/resolv.conf
printf 'options timeout:1 attempts:1\n' > /etc/resolv.conf
mkdir -p /etc/bondd.d /var/lib/bondd /run/bondd /run/sshd
mount --bind "$d/bondd.d" /etc/bondd.d
mount --bind "$d/state" /var/lib/bondd
mount --bind "$d/run" /run/bondd
"$BONDD" </dev/null >"$d/bondd.log" 2>&1 &
echo $! > "$d/bondd.pid"
exec /usr/sbin/sshd -D -e -f "$d/sshd_config" </dev/null >"$d/sshd.log" 2>&1
"""


def host_address(index: int) -> str:
    return f"{SUBNET}.{10 + index}"


def bond_yaml(address: str, miimon: int = 100, mode: str = "active-backup", extra: str = "") -> str:
    return textwrap.dedent(
        f"""\
        network:
          version: 2
          ethernets: {{p0: {{}}, p1: {{}}}}
          bonds:
            bond0:
              interfaces: [p0, p1]
              parameters: {{mode: {mode}, mii-monitor-interval: {miimon}{extra}}}
              addresses: [{address}/{PREFIX}]
              routes: [{{to: default, via: {GATEWAY}}}]
        """
    )


@dataclass
class Host:
    name: str  # the inventory's name
    ns: str  # the network namespace's
    address: str
    dir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def netns(self) -> str:
        return f"/run/netns/{self.ns}"

    def sysfs(self, path: str) -> str:
        """A sysfs file as this host's kernel namespace shows it."""
        with nsutil.entered(self.netns):
            return Path("/sys/class/net", path).read_text().strip()

    def addresses(self, dev: str = "bond0") -> list[str]:
        """IPv4 addresses on `dev`, from `ip -j` in the host's namespace."""
        try:
            links = json.loads(ip("-j", "-4", "addr", "show", "dev", dev, netns=self.ns))
        except RuntimeError:  # no such device (yet)
            return []
        return [f"{a['local']}/{a['prefixlen']}" for link in links for a in link["addr_info"]]

    def mode(self) -> str:
        return self.sysfs("bond0/bonding/mode").split()[0]

    def miimon(self) -> int:
        return int(self.sysfs("bond0/bonding/miimon"))

    def config(self, name: str = "10-bond0.yaml") -> str:
        return (self.dir / "bondd.d" / name).read_text()

    def pending(self) -> bool:
        return any((self.dir / "state").glob("pending*"))

    def log(self) -> str:
        return "".join(
            (self.dir / f).read_text(errors="replace")[-3000:] for f in ("bondd.log", "sshd.log")
        )


@dataclass
class Fleet:
    base: Path
    switch: str
    controller: str
    hosts: list[Host] = field(default_factory=list)
    host_vars: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def create(cls, base: Path, size: int = 4) -> Fleet:
        tag = f"{os.getpid() % 10000}"
        fleet = cls(base=base, switch=f"fsw{tag}", controller=f"fctl{tag}")
        for ns in (fleet.switch, fleet.controller):
            ip("netns", "add", ns)
            ip("link", "set", "lo", "up", netns=ns)
        ip("link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0",
           netns=fleet.switch)  # fmt: skip
        ip("addr", "add", f"{GATEWAY}/{PREFIX}", "dev", "br0", netns=fleet.switch)
        ip("link", "set", "br0", "up", netns=fleet.switch)
        fleet._cable(fleet.controller, "eth0", "ctl")
        ip("addr", "add", f"{CONTROLLER}/{PREFIX}", "dev", "eth0", netns=fleet.controller)
        ip("link", "set", "eth0", "up", netns=fleet.controller)
        fleet._keys()
        for index in range(1, size + 1):
            fleet.hosts.append(fleet._host(index, tag))
        for host in fleet.hosts:
            fleet._wait_ready(host)
        return fleet

    def _cable(self, netns: str, name: str, far: str) -> None:
        ip("link", "add", name, "netns", netns, "type", "veth", "peer", "name", far,
           "netns", self.switch)  # fmt: skip
        ip("link", "set", far, "master", "br0", netns=self.switch)
        ip("link", "set", far, "up", netns=self.switch)

    def _keys(self) -> None:
        ssh = self.base / "controller"
        ssh.mkdir(parents=True)
        keygen("-f", str(ssh / "id_ed25519"), "-C", "bondd-fleet-test")
        (self.base / "authorized_keys").write_text((ssh / "id_ed25519.pub").read_text())

    def _host(self, index: int, tag: str) -> Host:
        name = f"fh{index}x{tag}"
        host = Host(f"h{index}", name, host_address(index), self.base / f"h{index}")
        for sub in ("bondd.d", "state", "run"):
            (host.dir / sub).mkdir(parents=True)
        ip("netns", "add", name)
        ip("link", "set", "lo", "up", netns=name)
        for port in ("p0", "p1"):
            self._cable(name, port, f"h{index}{port}")
        # sshd listens on the bond's address; it may come and go with the bond.
        run_in(name, "sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1")
        # promote_secondaries stays at the kernel's default (off): moving an
        # address within its subnet must work without it (bondd deletes the old
        # primary before adding the new one).
        (host.dir / "bondd.d" / "10-bond0.yaml").write_text(bond_yaml(host.address))
        keygen("-f", str(host.dir / "host_key"), "-C", name)
        (host.dir / "sshd_config").write_text(
            textwrap.dedent(
                f"""\
                ListenAddress {host.address}:22
                HostKey {host.dir}/host_key
                AuthorizedKeysFile {self.base}/authorized_keys
                PermitRootLogin prohibit-password
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                UsePAM no
                StrictModes no
                PidFile none
                MaxStartups 50
                Subsystem sftp internal-sftp
                """
            )
        )
        init = host.dir / "init.sh"
        init.write_text(HOST_INIT)
        host.proc = subprocess.Popen(
            ["ip", "netns", "exec", name, "unshare", "-m", "sh", str(init), str(host.dir)],
            env=dict(os.environ, BONDD=BONDD),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        return host

    def _wait_ready(self, host: Host) -> None:
        try:
            wait_for(lambda: f"{host.address}/{PREFIX}" in host.addresses(), timeout=90)
            wait_for(lambda: self.can_connect(host), timeout=30)
        except (TimeoutError, RuntimeError) as exc:
            raise AssertionError(f"{host.name} never came up: {exc}\n{host.log()}") from exc

    def can_connect(self, host: Host, address: str | None = None, timeout: float = 1.0) -> bool:
        """A TCP connection to the host's sshd from the controller's namespace."""
        with nsutil.netns_only(f"/run/netns/{self.controller}"):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect((address or host.address, 22))
            return sock.recv(64).startswith(b"SSH-")
        except OSError:
            return False
        finally:
            sock.close()

    def inventory(self) -> Path:
        hosts = {
            h.name: {"ansible_host": h.address, **self.host_vars.get(h.name, {})}
            for h in self.hosts
        }
        data = {
            "all": {
                "hosts": hosts,
                "vars": {
                    "ansible_user": "root",
                    "ansible_python_interpreter": "/usr/bin/python3",
                    "ansible_ssh_private_key_file": str(self.base / "controller" / "id_ed25519"),
                    "bondctl": BONDCTL,
                },
            }
        }
        path = self.base / "inventory.json"
        path.write_text(json.dumps(data))
        known = [f"{h.address} {(h.dir / 'host_key.pub').read_text()}" for h in self.hosts]
        (self.base / "controller" / "known_hosts").write_text("".join(known))
        return path

    def playbook(
        self, text: str, *args: str, alive: tuple[int, int] = (1, 3), timeout: float = 400
    ) -> PlayRun:
        """Run a playbook from the controller namespace over SSH; the json callback's result."""
        book = self.base / f"play{time.monotonic_ns()}.yml"
        book.write_text(textwrap.dedent(text))
        record = book.with_suffix(".json")
        home = self.base / "controller" / "home"
        home.mkdir(exist_ok=True)
        ssh_args = (
            "-o ControlMaster=auto -o ControlPersist=60s"
            f" -o UserKnownHostsFile={self.base}/controller/known_hosts"
            " -o StrictHostKeyChecking=yes -o ConnectTimeout=20"
            f" -o ServerAliveInterval={alive[0]} -o ServerAliveCountMax={alive[1]}"
        )
        env = dict(
            os.environ,
            HOME=str(home),
            ANSIBLE_COLLECTIONS_PATH=str(REPO),
            ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).parent / "ansible_plugins"),
            ANSIBLE_CALLBACKS_ENABLED="bondd_record",
            BONDD_RECORD=str(record),
            ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
            ANSIBLE_REMOTE_TEMP="/tmp/.ansible-remote",
            ANSIBLE_SSH_CONTROL_PATH_DIR=str(home / "cp"),
            ANSIBLE_SSH_ARGS=ssh_args,
            ANSIBLE_PIPELINING="1",
            ANSIBLE_GATHERING="explicit",
            ANSIBLE_FORKS="4",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_NOCOLOR="1",
        )
        command = [
            "ip", "netns", "exec", self.controller, ANSIBLE_PLAYBOOK,
            "-i", str(self.inventory()), str(book), *args,
        ]  # fmt: skip
        started = time.monotonic()
        proc = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        elapsed = time.monotonic() - started
        try:
            result = json.loads(record.read_text())
        except (OSError, ValueError) as exc:
            raise AssertionError(f"no record of the run:\n{proc.stdout}\n{proc.stderr}") from exc
        run = PlayRun(proc.returncode, result, elapsed, proc.stdout + proc.stderr)
        keep = os.environ.get("BONDD_FLEET_LOG")
        if keep:  # where the time went, kept outside the lab's private /tmp
            with open(keep, "a") as log:
                log.write(f"=== {book.name} {' '.join(args)} rc={run.rc}\n{run.profile()}\n")
                log.write(run.stderr[-20000:] + "\n")
        return run

    def destroy(self) -> None:
        for host in self.hosts:
            pidfile = host.dir / "bondd.pid"
            if pidfile.exists():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pidfile.read_text()), signal.SIGTERM)
            if host.proc is not None and host.proc.poll() is None:
                host.proc.terminate()  # sshd; its sessions end with it
                host.proc.wait(timeout=10)
        for ns in [h.ns for h in self.hosts] + [self.switch, self.controller]:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


@dataclass
class PlayRun:
    rc: int
    result: dict[str, Any]
    seconds: float
    stderr: str

    def stats(self, host: str) -> dict[str, int]:
        stats: dict[str, int] = self.result["stats"].get(host, {})
        return stats

    def changed_hosts(self) -> set[str]:
        return {h for h, s in self.result["stats"].items() if s.get("changed")}

    def task_results(self, task: str) -> dict[str, dict[str, Any]]:
        """Each host's result of the task named `task` (over every play)."""
        found: dict[str, dict[str, Any]] = {}
        for item in self.result["tasks"]:
            if item["name"] == task:
                found.update(item["hosts"])
        return found

    def hosts_that_ran(self, task: str) -> set[str]:
        return {h for h, r in self.task_results(task).items() if not r.get("skipped")}

    def explain(self) -> str:
        return json.dumps(self.result, indent=1)[-8000:] + "\n" + self.stderr[-3000:]

    def profile(self) -> str:
        """Where the run's time went: each task's start and its slowest host."""
        lines = [f"playbook {self.seconds:.1f}s (ansible's own count {self.result['seconds']}s)"]
        for task in self.result["tasks"]:
            seconds = task.get("seconds") or {}
            slowest = max(seconds.values(), default=0.0)
            hosts = " ".join(f"{h}={s:.1f}" for h, s in sorted(seconds.items()))
            lines.append(f"  {task['at']:7.1f}s +{slowest:5.1f}s {task['name']}: {hosts}")
        return "\n".join(lines)


def keygen(*args: str) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", *args], check=True, capture_output=True
    )


def run_in(netns: str, *argv: str) -> str:
    proc = subprocess.run(
        ["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, check=True
    )
    return proc.stdout
