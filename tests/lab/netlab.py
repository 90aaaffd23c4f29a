"""The lab's network: a host namespace for bondd, a switch namespace, cables.

Every kernel test gets a fresh pair of namespaces. "host" is where bondd runs
(the test process is inside it for the whole test); "switch" holds the far end
of each cable, either in a bridge (an ordinary switch) or in a partner bond
(an LACP switch). Pulling a cable sets its far end down, so the host side
loses carrier the way it does when a real cable is pulled.
Switch-side commands go through iproute2, the tool an admin would use.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.lab.events import LinkEvent, LinkEvents

SWITCH_ADDRESS = "198.51.100.1"
HOST_ADDRESS = "198.51.100.2"
PREFIX = 24

_serial = itertools.count()


def sh(*argv: str, netns: str | None = None) -> str:
    """Run an iproute2-style command (optionally in a namespace); raise with its stderr."""
    full = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    proc = subprocess.run(full, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(full)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def ip(*args: str, netns: str | None = None) -> str:
    return sh("ip", *(["-n", netns] if netns else []), *args)


@dataclass(frozen=True)
class PingResult:
    sent: int
    received: int

    @property
    def lost(self) -> int:
        return self.sent - self.received


@dataclass
class Lab:
    """One test's pair of namespaces and the cables between them."""

    host: str
    switch: str
    cables: list[str] = field(default_factory=list)

    @classmethod
    def create(cls) -> Lab:
        n = f"{os.getpid()}x{next(_serial)}"
        lab = cls(host=f"host{n}", switch=f"sw{n}")
        for ns in (lab.host, lab.switch):
            ip("netns", "add", ns)
            ip("link", "set", "lo", "up", netns=ns)
        return lab

    @property
    def host_path(self) -> str:
        return f"/run/netns/{self.host}"

    def destroy(self) -> None:
        for ns in (self.host, self.switch):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)

    def far_end(self, port: str) -> str:
        return f"sw-{port}"

    def cable(self, port: str, mac: str | None = None) -> str:
        """A veth pair: `port` in the host namespace, its far end in the switch, far end up."""
        far = self.far_end(port)
        extra = ["address", mac] if mac else []
        ip(
            "link",
            "add",
            port,
            "netns",
            self.host,
            *extra,
            "type",
            "veth",
            "peer",
            "name",
            far,
            "netns",
            self.switch,
        )
        ip("link", "set", far, "up", netns=self.switch)
        self.cables.append(port)
        return port

    def bridge_switch(self, ports: list[str], address: str = SWITCH_ADDRESS) -> str:
        """Put the far ends of `ports` in a bridge that answers on `address`."""
        ip(
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
            netns=self.switch,
        )
        for port in ports:
            ip("link", "set", self.far_end(port), "master", "br0", netns=self.switch)
        ip("addr", "add", f"{address}/{PREFIX}", "dev", "br0", netns=self.switch)
        ip("link", "set", "br0", "up", netns=self.switch)
        return "br0"

    def partner_bond(
        self,
        ports: list[str],
        name: str = "pbond0",
        address: str | None = SWITCH_ADDRESS,
        mode: str = "802.3ad",
        *options: str,
    ) -> str:
        """Put the far ends of `ports` in a bond of the switch: an LACP partner."""
        ip(
            "link",
            "add",
            name,
            "type",
            "bond",
            "mode",
            mode,
            "miimon",
            "100",
            *options,
            netns=self.switch,
        )
        for port in ports:
            far = self.far_end(port)
            ip("link", "set", far, "down", netns=self.switch)
            ip("link", "set", far, "master", name, netns=self.switch)
        if address:
            ip("addr", "add", f"{address}/{PREFIX}", "dev", name, netns=self.switch)
        ip("link", "set", name, "up", netns=self.switch)
        return name

    def pull_cable(self, port: str) -> None:
        ip("link", "set", self.far_end(port), "down", netns=self.switch)

    def plug_cable(self, port: str) -> None:
        ip("link", "set", self.far_end(port), "up", netns=self.switch)

    def ping(
        self, target: str, count: int, interval: float = 0.01, deadline: float | None = None
    ) -> PingResult:
        """Ping from the host namespace; returns packets sent and answered."""
        return parse_ping(self.start_ping(target, count, interval, deadline).communicate()[0])

    def start_ping(
        self, target: str, count: int, interval: float = 0.01, deadline: float | None = None
    ) -> subprocess.Popen[str]:
        wait = deadline if deadline is not None else count * interval + 2
        return subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.host,
                "ping",
                "-n",
                "-q",
                "-i",
                str(interval),
                "-c",
                str(count),
                "-w",
                str(int(wait) + 1),
                target,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def parse_ping(output: str) -> PingResult:
    m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", output)
    if m is None:
        raise RuntimeError(f"unexpected ping output: {output!r}")
    return PingResult(sent=int(m.group(1)), received=int(m.group(2)))


def wait_for(predicate: object, timeout: float, interval: float = 0.02) -> float:
    """Poll `predicate()` until true; return seconds taken, raise on timeout."""
    assert callable(predicate)
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(interval)


def sysfs(path: str) -> str:
    """Read a sysfs file of the current namespace (the test's host namespace)."""
    return Path("/sys/class/net", path).read_text().strip()


def proc_bonding(bond: str) -> str:
    return Path("/proc/net/bonding", bond).read_text()


def settle(
    events: LinkEvents, bond: str = "bond0", quiet: float = 0.5, limit: float = 10
) -> dict[str, tuple[bool, bool]]:
    """Wait for the bond to come up and the kernel's follow-up events to stop.

    Returns each link's last seen (up, lower up), for `state_changes`.
    """
    wait_for(lambda: sysfs(f"{bond}/operstate") == "up", timeout=limit)
    deadline = time.monotonic() + limit
    seen: dict[str, tuple[bool, bool]] = {}
    while batch := events.drain(quiet):
        seen.update((e.ifname, (e.up, e.lower_up)) for e in batch)
        assert time.monotonic() < deadline, "link events never stopped"
    return seen


def state_changes(before: dict[str, tuple[bool, bool]], events: list[LinkEvent]) -> list[str]:
    """Links whose admin or carrier state an event shows changed (or that went away)."""
    changed = []
    for event in events:
        now = (event.up, event.lower_up)
        if event.kind == "del" or before.get(event.ifname, now) != now:
            changed.append(f"{event.ifname}: {before.get(event.ifname)} -> {now} ({event.kind})")
        before[event.ifname] = now
    return changed


# LACP port state bits (IEEE 802.1AX) that say a port is in service, and the
# two that say its partner information is not real.
IN_SERVICE = 0x08 | 0x10 | 0x20  # sync, collecting, distributing
NOT_REAL = 0x40 | 0x80  # defaulted, expired


def lacp_negotiated(bond: str, ports: tuple[str, ...]) -> bool:
    """The field notes' rule, read from sysfs: the kernel's view, independent of bondd."""
    aggregator = sysfs(f"{bond}/bonding/ad_aggregator")
    for port in ports:
        for side in ("actor", "partner"):
            state = int(sysfs(f"{port}/bonding_slave/ad_{side}_oper_port_state"))
            if state & IN_SERVICE != IN_SERVICE or state & NOT_REAL:
                return False
        if sysfs(f"{port}/bonding_slave/ad_aggregator_id") != aggregator:
            return False
    return sysfs(f"{bond}/bonding/ad_num_ports") == str(len(ports))
