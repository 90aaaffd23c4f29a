"""The fault campaign: every way a transaction can be cut short must end in the old
state or the new one, verified on the kernel, never in between.

For each bond mode, one change (mode switch, option, a new bond, MTU) is
applied with a fault injected:

- `kernel-error@N`: the kernel refuses op N (EIO, through FaultyWriter);
- `sigkill@N`, `sigterm@N`, `sighup@N`: a standalone bondctl's transaction
  gets the signal just before its Nth step (a store write, a kernel read, a
  kernel op). Nobody recovers anything: SIGKILL is the guard's to undo,
  SIGTERM and SIGHUP bondctl's own (it rolls back and exits 3);
- `daemon-sigterm@N`, `daemon-sigkill@N`: the same for the daemon's
  transaction (its loop's `transaction`, with its signal handling);
- `port-gone@N`: a port the change adds is unplugged (its veth deleted)
  just before op N;
- `probe-timeout`: the change makes the gateway unreachable without an
  error anywhere (a route through a host that does not exist), so the ping
  probe times out.

The host is then compared, as `ip -j -d` and the sysfs bonding files show
it (tests/kernel/harness.py's kernel_state, not bondd's reader), with the state before
the change and the state a clean apply produces; a signal case must get
there by itself within the dead-man bound. The signal needs no hook in
bondd: the transaction runs in a forked child whose store, reader and
writer are wrapped to count steps and signal the process at the chosen one.
Used by tests/kernel/test_faults.py (a sample, in CI) and bench/faults.py
(everything).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bondd.daemon.loop import Daemon
from bondd.daemon.notify import Notifier
from bondd.engine.transaction import Host, Proposal, Status, begin, rollback_mine
from bondd.errors import BonddError, Interrupted
from bondd.interrupt import rollback_on
from bondd.plan.ops import Op
from tests.kernel.harness import Bondd, FaultyWriter, kernel_state
from tests.lab import nsutil
from tests.lab.netlab import HOST_ADDRESS, PREFIX, SWITCH_ADDRESS, Lab, ip, wait_for

MODES = (
    "balance-rr",
    "active-backup",
    "balance-xor",
    "broadcast",
    "802.3ad",
    "balance-tlb",
    "balance-alb",
)
PORTS = ["p0", "p1", "p2", "p3", "q0", "q1"]
BONDS = ["bond0", "bond1", "bond2"]
NEW_PORT = "q1"  # the port `port-gone` unplugs: added by the change, absent before


def _next(mode: str) -> str:
    return MODES[(MODES.index(mode) + 1) % len(MODES)]


def old_config(mode: str, probe: bool = False) -> str:
    probes = f"[{{type: ping, target: {SWITCH_ADDRESS}, timeout: 1}}]" if probe else "[]"
    return f"""
network:
  version: 2
  ethernets: {{p0: {{}}, p1: {{}}, p2: {{}}, p3: {{}}, q0: {{}}, q1: {{}}}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters: {{mode: {mode}, mii-monitor-interval: 100}}
      addresses: [{HOST_ADDRESS}/{PREFIX}]
    bond1:
      interfaces: [p2, p3]
      parameters: {{mode: {mode}}}
      addresses: [192.0.2.2/24]
      mtu: 1500  # said, not left to the kernel: the change sets 9000
bondd: {{lacp-gate: false, probes: {probes}}}
"""


def new_config(mode: str) -> str:
    """The change: bond0's mode and miimon, bond1's MTU, a new bond2 on q0 and q1."""
    return f"""
network:
  version: 2
  ethernets: {{p0: {{}}, p1: {{}}, p2: {{}}, p3: {{}}, q0: {{}}, q1: {{}}}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters: {{mode: {_next(mode)}, mii-monitor-interval: 50}}
      addresses: [{HOST_ADDRESS}/{PREFIX}]
    bond1:
      interfaces: [p2, p3]
      parameters: {{mode: {mode}}}
      addresses: [192.0.2.2/24]
      mtu: 9000
    bond2:
      interfaces: [q0, q1]
      parameters: {{mode: {mode}}}
      addresses: [203.0.113.2/24]
bondd: {{lacp-gate: false, probes: []}}
"""


def unreachable_config(mode: str) -> str:
    """A change the kernel accepts but after which the gateway never answers."""
    return old_config(mode, probe=True).replace(
        f"addresses: [{HOST_ADDRESS}/{PREFIX}]",
        f"addresses: [{HOST_ADDRESS}/{PREFIX}]\n"
        f"      routes: [{{to: {SWITCH_ADDRESS}/32, via: 198.51.100.99}}]\n"
        "      mtu: 1400",
        1,
    )


@dataclass(frozen=True)
class Case:
    mode: str
    kind: str  # kernel-error, sigkill, port-gone, probe-timeout
    at: int = 0

    @property
    def name(self) -> str:
        return f"{self.mode} {self.kind}" + (f"@{self.at}" if self.kind != "probe-timeout" else "")


@dataclass(frozen=True)
class Outcome:
    case: Case
    ended: str  # "old", "new" or "NEITHER"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.ended in ("old", "new")


SIGNALS = {
    "sigkill": signal.SIGKILL,
    "sigterm": signal.SIGTERM,
    "sighup": signal.SIGHUP,
    "daemon-sigterm": signal.SIGTERM,
    "daemon-sigkill": signal.SIGKILL,
}
DEAD_MAN_BOUND = 10.0  # bondctl(8), THE DEAD-MAN TIMER


class Killer:
    """Wraps the Host's store, reader and writer: a signal before step `at` (or just count)."""

    def __init__(self, at: int | None, signum: int = signal.SIGKILL) -> None:
        self.at = at
        self.signum = signum
        self.steps: list[str] = []

    def step(self, name: str) -> None:
        if self.at is not None and len(self.steps) == self.at:
            os.kill(os.getpid(), self.signum)  # handled (or fatal) right here
        self.steps.append(name)

    def wrap(self, target: Any, methods: tuple[str, ...], label: str) -> Any:
        killer = self

        class Wrapped:
            def __getattr__(self, name: str) -> Any:
                value = getattr(target, name)
                if name not in methods:
                    return value

                def call(*args: Any, **kwargs: Any) -> Any:
                    what = type(args[0]).__name__ if name == "apply" and args else name
                    killer.step(f"{label}.{what}")
                    return value(*args, **kwargs)

                return call

        return Wrapped()


STORE_STEPS = ("save_pending", "save_ownership", "save_committed", "drop_pending", "reject")


def killable_host(host: Host, killer: Killer) -> Host:
    return Host(
        killer.wrap(host.reader, ("read",), "read"),
        killer.wrap(host.writer, ("apply",), "op"),
        killer.wrap(host.store, STORE_STEPS, "store"),
        host.clock,
        host.prober,
        host.boot_id,
        deadman=host.deadman,
        role=host.role,
    )


class Campaign:
    """One lab (host and switch namespaces, six cables); cases run one after another."""

    def __init__(self, lab: Lab, root: Path) -> None:
        self.lab = lab
        self.root = root
        self.bondd = Bondd(root / "bondd.d", root / "state")
        self.old: dict[str, dict[str, object]] = {}
        self.new: dict[str, dict[str, object]] = {}
        self.steps: dict[str, list[str]] = {}
        self.ops: dict[str, tuple[Op, ...]] = {}
        self.ended_in: dict[str, list[float]] = {kind: [] for kind in SIGNALS}

    def close(self) -> None:
        self.bondd.close()

    # -- states ---------------------------------------------------------

    def view(self, without: str | None = None) -> dict[str, object]:
        return kernel_state(BONDS + [p for p in PORTS if p != without])

    def begin(self, text: str, host: Host | None = None) -> Status:
        return begin(host or self.bondd.host(), self.bondd.proposal(text)).status

    def to_old(self, mode: str, probe: bool = False) -> None:
        """Put the host in the mode's old state (a committed transaction)."""
        status = self.begin(old_config(mode, probe))
        assert status in (Status.COMMITTED, Status.CONVERGED), status

    def learn(self, mode: str) -> None:
        """The mode's old and new states, the change's ops and its steps, from clean runs."""
        self.to_old(mode)
        self.old[mode] = self.view()
        self.ops[mode] = self.bondd.plan(new_config(mode)).ops
        killer = Killer(None)
        status = self.begin(new_config(mode), killable_host(self.bondd.host(guarded=True), killer))
        assert status is Status.COMMITTED, status
        self.steps[mode] = killer.steps
        self.new[mode] = self.view()
        self.to_old(mode)
        back = self.view()
        assert back == self.old[mode], "the old state did not come back: " + "; ".join(
            f"{k}: {self.old[mode].get(k)} -> {v}"
            for k, v in back.items()
            if v != self.old[mode].get(k)
        )

    def judge(self, case: Case, without: str | None = None) -> Outcome:
        if self.bondd.store.pending() is not None:
            return Outcome(case, "NEITHER", "a pending transaction was left behind")
        now = self.view(without=without)
        strip = (
            (lambda v: {k: x for k, x in v.items() if k != without}) if without else (lambda v: v)
        )
        if now == strip(self.old[case.mode]):
            return Outcome(case, "old")
        if now == strip(self.new[case.mode]):
            return Outcome(case, "new")
        changed = sorted(k for k in now if now[k] != strip(self.old[case.mode]).get(k))
        return Outcome(case, "NEITHER", f"differs from the old state in {', '.join(changed)}")

    # -- cases ----------------------------------------------------------

    def run(self, case: Case) -> Outcome:
        try:
            if case.kind == "kernel-error":
                return self.kernel_error(case)
            if case.kind in SIGNALS:
                return self.signalled(case)
            if case.kind == "port-gone":
                return self.port_gone(case)
            if case.kind == "probe-timeout":
                return self.probe_timeout(case)
        except (BonddError, AssertionError, OSError, RuntimeError, TimeoutError) as exc:
            return Outcome(case, "NEITHER", f"{type(exc).__name__}: {exc}")
        raise ValueError(case.kind)

    def kernel_error(self, case: Case) -> Outcome:
        self.to_old(case.mode)
        writer = FaultyWriter(self.bondd.writer, case.at)
        status = self.begin(new_config(case.mode), self.bondd.host(writer))
        if status is not Status.ROLLED_BACK:
            return Outcome(case, "NEITHER", f"ended {status.value}, expected a rollback")
        return self.judge(case)

    def signalled(self, case: Case) -> Outcome:
        """The signal before step `at`; then nobody runs anything: it must end by itself."""
        self.to_old(case.mode)
        proposal = self.bondd.proposal(new_config(case.mode))
        signum = SIGNALS[case.kind]
        pid = os.fork()
        if pid == 0:  # the child: its own netlink sockets, signalled at step `at`
            code = 1
            try:
                child = Bondd(self.bondd.config_dir, self.bondd.state_dir)
                host = killable_host(child.host(guarded=True), Killer(case.at, signum))
                code = run_signalled(case.kind, host, proposal)
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        died = time.monotonic()
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signum
        exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        # A pending record still there after the bound is judged NEITHER below.
        with contextlib.suppress(TimeoutError, AssertionError):
            wait_for(lambda: self.bondd.store.pending() is None, DEAD_MAN_BOUND, 0.05)
        took = time.monotonic() - died
        self.ended_in[case.kind].append(took)
        outcome = self.judge(case)
        step = self.steps[case.mode][case.at] if case.at < len(self.steps[case.mode]) else "end"
        if killed:
            detail = f"killed before {step}; settled {took:.2f}s after"
        elif exit_code == 3:
            detail = f"rolled back by itself at {step} (exit 3); {took:.2f}s"
        else:
            detail = f"exit {exit_code} (signal before {step})"
        return Outcome(case, outcome.ended, f"{detail}. {outcome.detail}".strip(". "))

    def port_gone(self, case: Case) -> Outcome:
        self.to_old(case.mode)
        mac = Path(f"/sys/class/net/{NEW_PORT}/address").read_text().strip()
        writer = Unplugging(self.bondd.writer, case.at, self.lab, NEW_PORT)
        try:
            status = self.begin(new_config(case.mode), self.bondd.host(writer))
            outcome = self.judge(case, without=NEW_PORT)
            detail = f"ended {status.value}. {outcome.detail}".strip(". ")
            return Outcome(case, outcome.ended, detail)
        finally:
            if not Path(f"/sys/class/net/{NEW_PORT}").exists():  # plug a new one in
                self.lab.cable(NEW_PORT, mac)
                ip(
                    "link",
                    "set",
                    self.lab.far_end(NEW_PORT),
                    "master",
                    "br0",
                    netns=self.lab.switch,
                )

    def probe_timeout(self, case: Case) -> Outcome:
        self.to_old(case.mode, probe=True)
        wait_for(lambda: self.lab.ping(SWITCH_ADDRESS, count=1, interval=0.2).received > 0, 20, 0.2)
        result = begin(self.bondd.host(), self.bondd.proposal(unreachable_config(case.mode)))
        if result.status is not Status.ROLLED_BACK:
            gates = "; ".join(g.describe() for g in result.gates)
            return Outcome(case, "NEITHER", f"ended {result.status.value}: {gates}")
        outcome = self.judge(case)
        return Outcome(case, outcome.ended, result.reason)


class Unplugging:
    """The real writer; just before op `at`, the port's cable (veth pair) is deleted."""

    def __init__(self, inner: Any, at: int, lab: Lab, port: str) -> None:
        self.inner = inner
        self.at = at
        self.calls = 0
        self.lab = lab
        self.port = port

    @property
    def writes(self) -> int:
        return int(self.inner.writes)

    def apply(self, op: Op) -> None:
        if self.calls == self.at:
            ip("link", "del", self.port)
            self.lab.cables.remove(self.port)
        self.calls += 1
        self.inner.apply(op)

    def ports_of(self, bond: str) -> list[str]:
        return list(self.inner.ports_of(bond))


@contextmanager
def campaign() -> Iterator[Campaign]:
    """A lab for the campaign: six cables to a bridge that answers on SWITCH_ADDRESS."""
    lab = Lab.create()
    try:
        for port in PORTS:
            lab.cable(port)
        lab.bridge_switch(PORTS)
        with nsutil.entered(lab.host_path), tempfile.TemporaryDirectory() as tmp:
            run = Campaign(lab, Path(tmp))
            try:
                yield run
            finally:
                run.close()
    finally:
        lab.destroy()


def cases(run: Campaign, mode: str, sample: Callable[[str, int], list[int]]) -> list[Case]:
    """The mode's cases; `sample(kind, count)` picks which op or step indexes to run."""
    run.learn(mode)
    found = [Case(mode, "kernel-error", i) for i in sample("kernel-error", len(run.ops[mode]))]
    # One index past the last step: the signal comes too late, the change stands.
    for kind in SIGNALS:
        found += [Case(mode, kind, i) for i in sample(kind, len(run.steps[mode]) + 1)]
    found += [Case(mode, "port-gone", i) for i in sample("port-gone", len(run.ops[mode]))]
    found.append(Case(mode, "probe-timeout"))
    return found


def every(kind: str, count: int) -> list[int]:
    return list(range(count))


def matrix(outcomes: list[Outcome]) -> str:
    """Per mode and fault kind: cases, how many ended old / new / neither."""
    rows = ["mode           fault           cases  old  new  NEITHER"]
    keys = sorted(
        {(o.case.mode, o.case.kind) for o in outcomes}, key=lambda k: (MODES.index(k[0]), k[1])
    )
    for mode, kind in keys:
        group = [o for o in outcomes if (o.case.mode, o.case.kind) == (mode, kind)]
        count = {e: sum(1 for o in group if o.ended == e) for e in ("old", "new", "NEITHER")}
        rows.append(
            f"{mode:<14} {kind:<15} {len(group):>5} {count['old']:>4} {count['new']:>4}"
            f" {count['NEITHER']:>8}"
        )
    bad = [o for o in outcomes if not o.ok]
    rows.append(f"total: {len(outcomes)} cases, {len(outcomes) - len(bad)} ended old or new")
    rows += [f"  NEITHER: {o.case.name}: {o.detail}" for o in bad]
    return "\n".join(rows)


def run_signalled(kind: str, host: Host, proposal: Proposal) -> int:
    """In the forked child: the transaction as bondctl (or the daemon) runs it."""
    if kind.startswith("daemon-"):
        daemon = Daemon(
            host,
            [],
            explicit=True,
            run_dir=Path("/nonexistent"),
            logger=logging.getLogger("bondd.faults"),
            notifier=Notifier(),
        )
        result = daemon.transaction(proposal)
        return 3 if result.status is Status.ROLLED_BACK else 0
    with rollback_on():  # bondctl apply's signal handling
        try:
            result = begin(host, proposal)
        except Interrupted as exc:
            rollback_mine(host, str(exc))
            return 3
    return 3 if result.status is Status.ROLLED_BACK else 0


def signal_figures(run: Campaign) -> str:
    rows = []
    for kind, times in run.ended_in.items():
        if times:
            rows.append(
                f"{kind:<15} {len(times):>3} cases: settled in {min(times):.2f}-{max(times):.2f}s"
                f" (median {sorted(times)[len(times) // 2]:.2f}s)"
            )
    return "\n".join(rows)
