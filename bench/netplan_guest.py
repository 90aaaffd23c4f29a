"""Guest side of bench/netplan.py: one bond change through `netplan apply`, then through bondd.

Runs as root in the system tier's booted Debian 12 guest (systemd as PID 1,
netplan.io 0.106 with its networkd backend, the bondd .deb installed), never
on a real host: it creates and deletes dummy links and bond0, and starts and
stops systemd-networkd. Only the standard library (the guest's python3).

For 1 and then 16 bonds (two dummy ports each: bondN on dNa and dNb), with
the same YAML file for both tools:

    a. create the bonds: active-backup, miimon 100, one address each
    b. change miimon to 50 on every bond
    c. apply again with no change

first with the file in /etc/netplan and `netplan apply` (systemd-networkd
running, as on a netplan host), then, after stopping networkd and deleting
what it made, with bondd's daemon running (started, then waited for until
its spare guard listens, as on a host where it has run since boot) and
`bondctl apply --yes FILE` (which installs FILE into /etc/bondd.d as part of
the transaction).

Each step is timed from the command's start to the moment the kernel shows
the configured state (read from sysfs and an rtnetlink address dump, polled
after the command returns) and its links have stopped changing state (a netlink
listener on RTMGRP_LINK, with a 5 s quiet window after the match); a step
whose result never appears (within 60 s) is timed to the command's return
or its last link state change, whichever is later. The links that
went down (up -> not up, or deleted) during each step come from the same
listener, which also counts every link message the kernel sent (each one a
change someone made or the kernel announced). Prints one Markdown table per
size.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SIZES = (1, 16)
FILE = "60-bench.yaml"
QUIET = 5.0  # seconds without a link state change after the kernel matches
TIMEOUT = 60.0  # seconds to wait for the kernel after the command returns
WORK = Path("/tmp/bench")

RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_GETADDR = 20, 22
IFA_LOCAL, IFA_LABEL = 2, 3
NLMSG_DONE, NLMSG_ERROR = 3, 2
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
IFLA_IFNAME = 3
IFF_UP, IFF_LOWER_UP = 0x1, 0x10000
RTMGRP_LINK = 0x1
SO_RCVBUFFORCE = 33
_NLMSGHDR = struct.Struct("=IHHII")
_IFINFOMSG = struct.Struct("=BxHiII")
_IFADDRMSG = struct.Struct("=BBBBI")
_RTATTR = struct.Struct("=HH")


def ports(bond: int) -> tuple[str, str]:
    return (f"d{bond}a", f"d{bond}b")


def address(bond: int) -> str:
    return f"198.18.{bond}.10/24"


def yaml(miimon: int, bonds: int) -> str:
    """The one configuration both tools get (netplan's format, which bondd reads)."""
    lines = ["network:", "  version: 2", "  ethernets:"]
    lines += [f"    {port}: {{}}" for b in range(bonds) for port in ports(b)]
    lines.append("  bonds:")
    for b in range(bonds):
        lines += [
            f"    bond{b}:",
            f"      interfaces: [{', '.join(ports(b))}]",
            "      parameters:",
            "        mode: active-backup",
            f"        mii-monitor-interval: {miimon}",
            f"      addresses: [{address(b)}]",
        ]
    return "\n".join(lines) + "\n"


# --- link state from rtnetlink ------------------------------------------------


def _messages(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(type, start of its body, its end) for each netlink message in DATA."""
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, _, _, _ = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size:
            return
        yield kind, offset + _NLMSGHDR.size, offset + length
        offset += (length + 3) & ~3


def _attrs(data: bytes, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    while start + _RTATTR.size <= end:
        alen, atype = _RTATTR.unpack_from(data, start)
        if alen < _RTATTR.size:
            return
        yield atype, data[start + _RTATTR.size : start + alen]
        start += (alen + 3) & ~3


def _links(data: bytes) -> list[tuple[str, bool]]:
    """(name, up) for each RTM_NEWLINK/RTM_DELLINK in DATA; a deleted link is down."""
    out: list[tuple[str, bool]] = []
    for kind, body, end in _messages(data):
        if kind in (RTM_NEWLINK, RTM_DELLINK):
            _, _, _, flags, _ = _IFINFOMSG.unpack_from(data, body)
            name = ""
            for atype, value in _attrs(data, body + _IFINFOMSG.size, end):
                if atype == IFLA_IFNAME:
                    name = value.split(b"\0")[0].decode()
            up = kind == RTM_NEWLINK and bool(flags & IFF_UP) and bool(flags & IFF_LOWER_UP)
            out.append((name, up))
    return out


def _addresses(data: bytes) -> list[tuple[str, str]]:
    """(link name, ADDR/PREFIX) for each IPv4 RTM_NEWADDR in DATA (its label is the link's name)."""
    out: list[tuple[str, str]] = []
    for kind, body, end in _messages(data):
        if kind == RTM_NEWADDR:
            family, prefix, _, _, _ = _IFADDRMSG.unpack_from(data, body)
            if family != socket.AF_INET:
                continue
            found = dict(_attrs(data, body + _IFADDRMSG.size, end))
            local, label = found.get(IFA_LOCAL), found.get(IFA_LABEL)
            if local is not None and label is not None:
                name = label.split(b"\0")[0].decode()
                out.append((name, f"{socket.inet_ntoa(local[:4])}/{prefix}"))
    return out


def _dump(kind: int, request: bytes) -> bytes:
    """A whole rtnetlink dump of KIND, every reply concatenated."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        header = _NLMSGHDR.pack(
            _NLMSGHDR.size + len(request), kind, NLM_F_REQUEST | NLM_F_DUMP, 1, 0
        )
        sock.send(header + request)
        replies = b""
        while True:
            data = sock.recv(1 << 16)
            replies += data
            if any(k in (NLMSG_DONE, NLMSG_ERROR) for k, _, _ in _messages(data)):
                return replies


def dump_links() -> dict[str, bool]:
    """Every link's name and whether it is up (administratively and with carrier)."""
    return dict(_links(_dump(RTM_GETLINK, _IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0))))


@dataclass
class Monitor:
    """Link state changes, as the kernel announces them, from start() to stop()."""

    before: dict[str, bool] = field(default_factory=dict)
    events: list[tuple[float, str, bool]] = field(default_factory=list)
    overruns: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        try:  # past net.core.rmem_max (root): a netplan apply of 16 bonds is a burst
            self._sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 24)
        except OSError:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
        self._sock.bind((0, RTMGRP_LINK))
        self._sock.settimeout(0.1)
        self.before = dump_links()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(1 << 16)
            except TimeoutError:
                continue
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                self.overruns += 1  # the kernel dropped messages: the counts are a floor
                continue
            now = time.monotonic()
            self.events.extend((now, name, up) for name, up in _links(data))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sock.close()

    def transitions(self) -> list[tuple[float, str, bool]]:
        """The events that changed a link between up and not up (a deletion is a down)."""
        state = dict(self.before)
        out = []
        for when, name, up in self.events:
            if state.get(name, False) != up:
                out.append((when, name, up))
            state[name] = up
        return out

    def went_down(self) -> dict[str, int]:
        """Each link that went down during the step, with how many times."""
        downs: dict[str, int] = {}
        for _, name, up in self.transitions():
            if not up:
                downs[name] = downs.get(name, 0) + 1
        return downs


# --- the kernel's view --------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def kernel_matches(miimon: int, bonds: int) -> bool:
    """Every bond as asked: mode, miimon, its two ports, up, its address."""
    addrs = addresses()
    for b in range(bonds):
        sysfs = f"/sys/class/net/bond{b}"
        if not _read(f"{sysfs}/bonding/mode").startswith("active-backup"):
            return False
        if _read(f"{sysfs}/bonding/miimon") != str(miimon):
            return False
        if sorted(_read(f"{sysfs}/bonding/slaves").split()) != sorted(ports(b)):
            return False
        if _read(f"{sysfs}/operstate") != "up":
            return False
        if address(b) not in addrs.get(f"bond{b}", ()):
            return False
    return True


def addresses() -> dict[str, set[str]]:
    """Each link's IPv4 addresses, ADDR/PREFIX, from one netlink dump: milliseconds, so
    polling for the result adds no start of a program to the time measured."""
    found: dict[str, set[str]] = {}
    for name, address in _addresses(
        _dump(RTM_GETADDR, _IFADDRMSG.pack(socket.AF_INET, 0, 0, 0, 0))
    ):
        found.setdefault(name, set()).add(address)
    return found


def kernel_view(bonds: int) -> str:
    """The first bond as the kernel has it, and how many of them match."""
    sysfs = "/sys/class/net/bond0"
    if not os.path.isdir(sysfs):
        return "no bond0"
    present = sum(os.path.isdir(f"/sys/class/net/bond{b}") for b in range(bonds))
    addrs = sorted(addresses().get("bond0", ())) or ["none"]
    return (
        f"{present} of {bonds} bonds; bond0: {_read(sysfs + '/bonding/mode')},"
        f" miimon {_read(sysfs + '/bonding/miimon')},"
        f" ports {_read(sysfs + '/bonding/slaves') or 'none'}, {_read(sysfs + '/operstate')},"
        f" addr {addrs[0]}"
    )


# --- the steps ----------------------------------------------------------------


def run(argv: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {done.returncode}\n{done.stdout}{done.stderr}")
    return done


@dataclass
class Step:
    tool: str
    name: str
    miimon: int
    bonds: int = 1
    seconds: float = 0.0
    command_seconds: float = 0.0
    matched: bool = False
    downs: dict[str, int] = field(default_factory=dict)
    rc: int = 0
    view: str = ""
    link_messages: int = 0  # every RTM_NEWLINK/RTM_DELLINK the kernel sent during the step
    overruns: int = 0  # times the listener's buffer overflowed: then the counts are a floor


def measure(tool: str, name: str, miimon: int, bonds: int, command: Callable[[], int]) -> Step:
    step = Step(tool, name, miimon, bonds)
    monitor = Monitor()
    monitor.start()
    started = time.monotonic()
    step.rc = command()
    returned = time.monotonic()
    step.command_seconds = returned - started
    matched_at: float | None = None
    while time.monotonic() < returned + TIMEOUT:
        if kernel_matches(miimon, bonds):
            matched_at = time.monotonic()
            break
        time.sleep(0.05)
    if matched_at is not None:
        # Quiet window: links still changing state are part of the step.
        while time.monotonic() < returned + TIMEOUT:
            last = max((when for when, _, _ in monitor.transitions()), default=started)
            if time.monotonic() - max(last, matched_at) >= QUIET:
                break
            time.sleep(0.2)
    else:
        time.sleep(QUIET)
    monitor.stop()
    step.matched = kernel_matches(miimon, bonds)
    step.downs = monitor.went_down()
    step.view = kernel_view(bonds)
    step.link_messages = len(monitor.events)
    step.overruns = monitor.overruns
    transitions = monitor.transitions()
    last = max((when for when, _, _ in transitions), default=started)
    step.seconds = max(returned, matched_at or returned, last) - started
    timeline = " ".join(
        f"{when - started:.2f}:{name}:{'up' if up else 'down'}" for when, name, up in transitions
    )
    print(
        f"{tool} {name}, {bonds} bond(s): rc {step.rc}, command {step.command_seconds:.2f} s,"
        f" timed {step.seconds:.2f} s, kernel as asked: {step.matched} ({step.view});"
        f" went down: {fmt_downs(step.downs)}; {messages(step)} link messages"
        "\n  link state changes (s from start):"
        f" {timeline or 'none'}",
        flush=True,
    )
    return step


def fmt_downs(downs: dict[str, int]) -> str:
    if not downs:
        return "none"
    return ", ".join(f"{n} x{c}" if c > 1 else n for n, c in sorted(downs.items()))


def fresh_ports(bonds: int) -> None:
    """Delete the bonds and ports if present; make the ports again, up (NICs with carrier)."""
    for b in range(max(SIZES)):
        for name in (f"bond{b}", *ports(b)):
            if os.path.isdir(f"/sys/class/net/{name}"):
                run(["ip", "link", "del", name])
    every = [port for b in range(bonds) for port in ports(b)]
    batch = [f"link add {port} type dummy" for port in every]
    batch += [f"link set {port} up" for port in every]
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "ports.ip").write_text("\n".join(batch) + "\n")
    run(["ip", "-batch", str(WORK / "ports.ip")])


def command(argv: Sequence[str]) -> Callable[[], int]:
    def go() -> int:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        out = (done.stdout + done.stderr).strip()
        if out:
            print(f"$ {' '.join(argv)}\n{out}", flush=True)
        return done.returncode

    return go


def then(write: Callable[[], None], go: Callable[[], int]) -> Callable[[], int]:
    def both() -> int:
        write()
        return go()

    return both


def write_file(path: Path, text: str) -> Callable[[], None]:
    def go() -> None:
        path.write_text(text)
        path.chmod(0o600)  # netplan warns about world-readable files

    return go


def netplan_half(bonds: int) -> list[Step]:
    systemctl("stop", "bondd.service")
    systemctl("start", "systemd-networkd.service")  # running, as on any netplan host
    fresh_ports(bonds)
    target = Path("/etc/netplan") / FILE
    apply = command(["netplan", "apply"])
    steps = [
        measure("netplan", "create", 100, bonds, then(write_file(target, yaml(100, bonds)), apply)),
        measure("netplan", "miimon", 50, bonds, then(write_file(target, yaml(50, bonds)), apply)),
        measure("netplan", "no-op", 50, bonds, apply),
    ]
    # networkd off, and nothing of netplan's left for it, before bondd's turn.
    target.unlink()
    run(["netplan", "generate"])
    systemctl("stop", "systemd-networkd.socket", "systemd-networkd.service")
    if systemctl_ok("is-active", "systemd-networkd.service"):
        raise RuntimeError("systemd-networkd is still running")
    return steps


def bondd_half(bonds: int) -> list[Step]:
    fresh_ports(bonds)
    systemctl("start", "bondd.service")
    daemon_settled()
    WORK.mkdir(parents=True, exist_ok=True)
    source = WORK / FILE
    apply = command(["bondctl", "apply", "--yes", str(source)])
    steps = [
        measure("bondd", "create", 100, bonds, then(write_file(source, yaml(100, bonds)), apply)),
        measure("bondd", "miimon", 50, bonds, then(write_file(source, yaml(50, bonds)), apply)),
        measure("bondd", "no-op", 50, bonds, apply),
    ]
    # bondd removes the bonds it made (and forgets them) before the next size.
    write_file(source, "network: {version: 2}\n")()
    if apply() != 0:
        raise RuntimeError("bondctl apply of the empty configuration failed")
    systemctl("stop", "bondd.service")
    return steps


def daemon_settled(state_dir: Path = Path("/var/lib/bondd"), timeout: float = 30.0) -> None:
    """Wait, as on a host whose daemon has run since boot, for its spare guard to listen.

    networkd, too, runs before netplan's first step. Started just now, the
    daemon would hand its first transaction a spare still starting up."""
    deadline = time.monotonic() + timeout
    while not any(state_dir.glob("guard-spare-*.sock")):
        if time.monotonic() > deadline:
            print(f"bondd: no spare guard listening after {timeout:g} s", flush=True)
            return
        time.sleep(0.1)


def python_start() -> float:
    """The median of five `python3 -c pass`: the floor under any bondctl command here."""
    times = []
    for _ in range(5):
        started = time.monotonic()
        run(["python3", "-c", "pass"])
        times.append(time.monotonic() - started)
    return sorted(times)[2]


def systemctl(*args: str) -> None:
    run(["systemctl", *args])


def systemctl_ok(*args: str) -> bool:
    return run(["systemctl", *args], check=False).returncode == 0


STEP_TEXT = {
    "create": "create (active-backup, miimon 100, an address each; 2 dummy ports each)",
    "miimon": "change miimon 100 -> 50 on every bond",
    "no-op": "apply again, no change",
}


def as_asked(step: Step) -> str:
    return "yes" if step.matched else f"NO ({step.view})"


def table(netplan: list[Step], bondd: list[Step]) -> str:
    lines = [
        "| bonds | step | netplan apply | bondd | ratio (netplan / bondd) | links down: netplan"
        " | links down: bondd | link messages: netplan / bondd"
        " | kernel as asked: netplan | kernel as asked: bondd |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, b in zip(netplan, bondd, strict=True):
        ratio = f"{n.seconds / b.seconds:.1f}x" if b.seconds > 0 else "-"
        lines.append(
            f"| {n.bonds} | {STEP_TEXT[n.name]} | {n.seconds:.2f} s | {b.seconds:.2f} s | {ratio}"
            f" | {fmt_downs(n.downs)} | {fmt_downs(b.downs)}"
            f" | {messages(n)} / {messages(b)} | {as_asked(n)} | {as_asked(b)} |"
        )
    return "\n".join(lines)


def messages(step: Step) -> str:
    return f"{step.link_messages}" + (" or more (overrun)" if step.overruns else "")


def versions() -> str:
    query = ["dpkg-query", "-W", "-f=${Package} ${Version}\n"]
    packages = run([*query, "netplan.io", "systemd", "bondd", "python3-pyroute2"]).stdout
    return "; ".join(packages.split("\n")[:-1]) + f"; kernel {os.uname().release} (UML)"


def main() -> int:
    if os.geteuid() != 0 or not Path("/lab").is_dir() or shutil.which("netplan") is None:
        print("netplan_guest: runs only inside the system-tier guest (bench/netplan.py)")
        return 2
    run(["modprobe", "bonding"])  # with the .deb's max_bonds=0: no stray bond0
    netplan: list[Step] = []
    bondd: list[Step] = []
    for bonds in SIZES:
        netplan += netplan_half(bonds)
        bondd += bondd_half(bonds)
    print(f"\nguest: {versions()}; python3 -c pass: {python_start():.2f} s")
    print(table(netplan, bondd))
    return 0 if all(s.rc == 0 and s.matched for s in bondd) else 1


if __name__ == "__main__":
    sys.exit(main())
