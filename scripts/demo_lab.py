"""The bondd demo, run inside the lab kernel by scripts/demo.sh.

A newcomer's first look: two classic bonds from one YAML file, `bondctl
status`, a pulled cable and the packets it cost, a live option change that
flaps nothing, a mode change whose disruption the plan announced, and two
rollbacks: a change whose probe fails, and a change nobody confirms. Every
step checks the kernel's own view (sysfs, /proc/net/bonding, netlink link
events, ping) and the demo exits 1 if any step did not do what it printed.

It runs only inside the lab (User-Mode Linux), in network namespaces it
creates, so no host interface is ever touched. bondctl's entry point runs
in-process (the same `bondd.cli.main:main` the console script calls) so
pyroute2 is imported once, not once per command.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bondd.cli.main import main as bondctl  # noqa: E402
from tests.lab import nsutil  # noqa: E402
from tests.lab.events import LinkEvent, LinkEvents  # noqa: E402
from tests.lab.guard import REFUSAL, in_lab  # noqa: E402
from tests.lab.netlab import (  # noqa: E402
    Lab,
    PingResult,
    ip,
    lacp_negotiated,
    parse_ping,
    proc_bonding,
    sysfs,
    wait_for,
)

GATEWAY = "198.51.100.1"
HOST = "198.51.100.2"
LACP_PARTNER = "203.0.113.1"
LACP_HOST = "203.0.113.2"
WATCHED = ("bond0", "p0", "p1")

CONFIG = f"""\
network:
  version: 2
  ethernets:
    p0: {{}}
    p1: {{}}
    p2: {{}}
    p3: {{}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters:
        mode: active-backup
        mii-monitor-interval: 100
        primary: p0
      addresses: [{HOST}/24]
      routes: [{{to: default, via: {GATEWAY}}}]
    bond1:
      interfaces: [p2, p3]
      parameters:
        mode: 802.3ad
        lacp-rate: fast
        transmit-hash-policy: layer3+4
      addresses: [{LACP_HOST}/24]
"""


@dataclass
class Measured:
    """What a ping every 10 ms and the link events saw while a step ran."""

    ping: PingResult = field(default_factory=lambda: PingResult(0, 0))
    events: list[LinkEvent] = field(default_factory=list)


class Demo:
    def __init__(self, lab: Lab, workdir: Path) -> None:
        self.lab = lab
        self.config_dir = workdir / "bondd.d"
        self.state_dir = workdir / "state"
        self.config_dir.mkdir()
        self.checks = 0
        self.failed: list[str] = []

    # -- output -----------------------------------------------------------

    def step(self, title: str) -> None:
        print(f"\n=== {title}", flush=True)

    def say(self, text: str) -> None:
        print(textwrap.indent(text, "    "), flush=True)

    def check(self, ok: bool, claim: str) -> bool:
        self.checks += 1
        print(f"  {'ok' if ok else 'FAILED'}: {claim}", flush=True)
        if not ok:
            self.failed.append(claim)
        return ok

    # -- bondctl ----------------------------------------------------------

    def bondctl(self, *args: str) -> int:
        print(f"$ bondctl {' '.join(args)}", flush=True)
        code = bondctl([*args, *self._dirs()])
        sys.stdout.flush()
        return code

    def bondctl_json(self, *args: str) -> dict[str, object]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            bondctl([*args, "--json", *self._dirs()])
        result: dict[str, object] = json.loads(out.getvalue())
        return result

    def _dirs(self) -> list[str]:
        return ["--config-dir", str(self.config_dir), "--state-dir", str(self.state_dir)]

    def write_config(self, text: str) -> None:
        (self.config_dir / "10-demo.yaml").write_text(text)

    # -- measuring --------------------------------------------------------

    @contextlib.contextmanager
    def measured(self, count: int = 300) -> Iterator[Measured]:
        """Ping the gateway every 10 ms and watch link events while the body runs."""
        found = Measured()
        watcher = LinkEvents()
        pinger = self.lab.start_ping(GATEWAY, count=count, interval=0.01)
        time.sleep(0.5)
        try:
            yield found
        finally:
            result = parse_ping(pinger.communicate()[0])
            found.ping = result
            found.events = [e for e in watcher.drain(0.3) if e.ifname in WATCHED]
            watcher.close()
        self.say(
            f"ping every 10 ms: {result.sent} sent, {result.lost} lost"
            f" (about {result.lost * 10} ms without traffic)"
        )


def went_down(events: list[LinkEvent], ifname: str) -> bool:
    return any(e.ifname == ifname and (not e.up or not e.lower_up) for e in events)


def within(predicate: Callable[[], bool], timeout: float) -> float | None:
    try:
        return wait_for(predicate, timeout=timeout)
    except TimeoutError:
        return None


def run(demo: Demo) -> None:
    lab = demo.lab
    demo.step("0. The lab: a host and a switch, four cables")
    for port in ("p0", "p1", "p2", "p3"):
        lab.cable(port)
    lab.bridge_switch(["p0", "p1"], GATEWAY)
    lab.partner_bond(["p2", "p3"], "pbond0", LACP_PARTNER, "802.3ad", "lacp_rate", "fast")
    demo.say(
        f"p0, p1 -> a plain switch (bridge), gateway {GATEWAY}\n"
        f"p2, p3 -> an LACP switch (a partner bond, lacp_rate fast), {LACP_PARTNER}\n"
        f"bondctl's --config-dir and --state-dir point into {demo.config_dir.parent}"
    )

    demo.step("1. Two classic bonds from one YAML file")
    demo.write_config(CONFIG)
    demo.say(f"# {demo.config_dir}/10-demo.yaml\n{CONFIG}")
    demo.bondctl("validate")
    code = demo.bondctl("apply", "--yes")
    bond0 = proc_bonding("bond0")
    demo.check(code == 0, "apply exited 0 after reading the kernel back")
    demo.check(
        "Bonding Mode: fault-tolerance (active-backup)" in bond0
        and "Primary Slave: p0 (primary_reselect always)" in bond0
        and "MII Polling Interval (ms): 100" in bond0,
        "/proc/net/bonding/bond0: active-backup, primary p0, miimon 100",
    )
    demo.check(
        f"default via {GATEWAY} dev bond0" in ip("route", "show", "default"),
        f"the default route goes via {GATEWAY} on bond0",
    )
    demo.check(
        sysfs("bond1/bonding/mode").startswith("802.3ad")
        and sysfs("bond1/bonding/lacp_rate").startswith("fast")
        and sysfs("bond1/bonding/xmit_hash_policy").startswith("layer3+4"),
        "sysfs: bond1 is 802.3ad, lacp_rate fast, xmit_hash_policy layer3+4",
    )
    reached = within(lambda: lab.ping(GATEWAY, count=1, interval=0.05).received == 1, 10)
    demo.check(reached is not None, f"the gateway {GATEWAY} answers through bond0")

    demo.step("2. bondctl status: is LACP really up?")
    took = within(lambda: lacp_negotiated("bond1", ("p2", "p3")), 15)
    if took is not None:
        demo.say(f"(LACP negotiated {took:.1f} s after the apply)")
    demo.bondctl("status")
    status = demo.bondctl_json("status", "bond1")
    verdict = status["bonds"][0]["lacp"]["verdict"]  # type: ignore[index]
    demo.check(
        took is not None and verdict == "negotiated",
        "bond1 negotiated: every port in sync, collecting, distributing, one aggregator",
    )
    answered = within(lambda: lab.ping(LACP_PARTNER, count=1, interval=0.05).received == 1, 5)
    demo.check(answered is not None, f"the LACP partner {LACP_PARTNER} answers through bond1")

    demo.step("3. Pull the active cable of bond0")
    before = sysfs("bond0/bonding/active_slave")
    with demo.measured() as seen:
        demo.say(f"active port: {before}; pulling its cable (the switch end goes down)")
        lab.pull_cable(before)
    after = sysfs("bond0/bonding/active_slave")
    demo.bondctl("status", "bond0")
    ping = seen.ping
    demo.check(before == "p0" and after == "p1", f"bond0 failed over from {before} to {after}")
    demo.check(sysfs("p0/bonding_slave/mii_status") == "down", "the kernel marks p0's MII down")
    demo.check(
        ping.received > 0 and ping.lost <= 50,
        "traffic came back within half a second (miimon 100)",
    )
    lab.plug_cable("p0")
    back = within(lambda: sysfs("bond0/bonding/active_slave") == "p0", 5)
    demo.check(back is not None, "cable back in: the primary p0 is active again")

    demo.step("4. Change an option live: miimon 100 -> 50")
    demo.write_config(CONFIG.replace("mii-monitor-interval: 100", "mii-monitor-interval: 50"))
    demo.say("(apply prints its plan, each bond with the disruption it will cause)")
    plan = demo.bondctl_json("plan")
    failures = {p: sysfs(f"{p}/bonding_slave/link_failure_count") for p in ("p0", "p1")}
    with demo.measured() as seen:
        code = demo.bondctl("apply", "--yes")
    events = seen.events
    demo.check(plan["bonds"] == {"bond0": "live change"}, "the plan announced a live change")
    demo.check(code == 0 and sysfs("bond0/bonding/miimon") == "50", "the kernel runs miimon 50 now")
    flapped = [name for name in WATCHED if went_down(events, name)]
    demo.say(
        f"link events on bond0, p0, p1 during the apply: {len(events)},"
        f" links that went down: {', '.join(flapped) or 'none'}"
    )
    demo.check(
        not flapped
        and failures == {p: sysfs(f"{p}/bonding_slave/link_failure_count") for p in failures},
        "nothing flapped: no link went down, no link failure counted",
    )
    demo.check(seen.ping.lost == 0, "no packet lost")

    demo.step("5. Change the mode: active-backup -> balance-xor")
    demo.write_config(
        CONFIG.replace("mii-monitor-interval: 100", "mii-monitor-interval: 50")
        .replace("mode: active-backup", "mode: balance-xor")
        .replace("        primary: p0\n", "        transmit-hash-policy: layer3+4\n")
    )
    plan = demo.bondctl_json("plan")
    with demo.measured() as seen:
        code = demo.bondctl("apply", "--yes")
    events = seen.events
    demo.check(
        plan["bonds"] == {"bond0": "ports released"},
        "the plan announced: bond0 down, ports released and re-added",
    )
    downs = ", ".join(sorted({e.ifname for e in events if not e.up or not e.lower_up}))
    demo.say(f"links seen going down during the apply: {downs or 'none'}")
    demo.check(
        code == 0 and went_down(events, "bond0"),
        "the kernel took bond0 down, as announced, and bondctl verified the result",
    )
    demo.check(
        "Bonding Mode: load balancing (xor)" in proc_bonding("bond0"),
        "/proc/net/bonding/bond0: balance-xor",
    )
    reached = within(lambda: lab.ping(GATEWAY, count=1, interval=0.05).received == 1, 10)
    demo.check(reached is not None, "the gateway answers again")

    demo.step("6. A change that cuts the host off undoes itself")
    current = (demo.config_dir / "10-demo.yaml").read_text()
    broken = (
        current.replace(f"addresses: [{HOST}/24]", "addresses: [10.99.0.2/24]").replace(
            f"      routes: [{{to: default, via: {GATEWAY}}}]\n", ""
        )
        + f"bondd:\n  probes: [{{type: ping, target: {GATEWAY}}}]\n"
    )
    proposal = demo.config_dir.parent / "10-demo.yaml"
    proposal.write_text(broken)
    demo.say(
        "the new file moves bond0 to 10.99.0.2/24, where the gateway is out of reach;"
        f" probe: ping {GATEWAY}"
    )
    code = demo.bondctl("apply", "--yes", str(proposal))
    demo.check(code == 3, "apply exited 3: rolled back, the probe failed after the change")
    demo.check(
        f"{HOST}/24" in ip("-br", "addr", "show", "dev", "bond0"),
        f"bond0 has {HOST}/24 again (kernel view)",
    )
    demo.check(
        (demo.config_dir / "10-demo.yaml").read_text() == current,
        "the config directory holds the old file again",
    )
    reached = within(lambda: lab.ping(GATEWAY, count=1, interval=0.05).received == 1, 10)
    demo.check(reached is not None, "the gateway answers again")

    demo.step("7. Nobody confirms: bondctl apply --confirm-timeout 3")
    proposal.write_text(current.replace("mii-monitor-interval: 50", "mii-monitor-interval: 200"))
    started = time.monotonic()
    code = demo.bondctl("apply", "--yes", "--confirm-timeout", "3", str(proposal))
    demo.check(
        code == 3 and sysfs("bond0/bonding/miimon") == "50",
        f"rolled back after {time.monotonic() - started:.1f} s: miimon 50 again"
        " (a detached guard holds the timer, not this terminal)",
    )

    demo.step("8. Converged: a second plan is empty")
    code = demo.bondctl("plan", "--detailed-exitcode")
    demo.check(code == 0, "nothing left to do")


def main() -> int:
    if not in_lab():
        print(f"demo: {REFUSAL}", file=sys.stderr)
        return 2
    lab = Lab.create()
    started = time.monotonic()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bondd-demo-") as workdir,
            nsutil.entered(lab.host_path),
        ):
            demo = Demo(lab, Path(workdir))
            run(demo)
    finally:
        lab.destroy()
    took = time.monotonic() - started
    if demo.failed:
        print(f"\ndemo: {len(demo.failed)} of {demo.checks} checks FAILED in {took:.0f}s:")
        for claim in demo.failed:
            print(f"  - {claim}")
        return 1
    print(f"\ndemo: all {demo.checks} checks passed in {took:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
