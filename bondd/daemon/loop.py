"""The daemon's single loop: wake on events, decide, act, feed the watchdog.

Wake-ups: config-directory changes (debounced), netlink events on managed
interfaces, SIGHUP/SIGTERM, control-socket requests, a slow resync timer, the
confirm-window deadline. Everything that changes the kernel runs here, one
thing at a time.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bondd import config
from bondd.daemon import control, queries
from bondd.daemon.metrics import MetricsWriter
from bondd.daemon.notify import Notifier
from bondd.daemon.watch import ConfigWatcher
from bondd.deadman import guard_outlives_us
from bondd.engine.converge import run_plan
from bondd.engine.pending import Phase
from bondd.engine.proposal import build as build_proposal
from bondd.engine.transaction import (
    Host,
    Proposal,
    Result,
    Status,
    begin,
    confirm,
    recover_now,
    rollback_pending,
)
from bondd.engine.window import ConfirmWindow
from bondd.errors import BonddError, ConfigError
from bondd.interrupt import rollback_on
from bondd.kernel.bondview import BondViewReader
from bondd.kernel.events import EventSocket, KernelEvent
from bondd.kernel.sysfs import active_port
from bondd.log import event
from bondd.metrics.collect import Collector
from bondd.model import ActualState
from bondd.plan.planner import Plan, plan
from bondd.plan.target import Targets
from bondd.render.plan import result_json

DEBOUNCE = 0.3  # config writes come in bursts (editors, ConfigMap swaps, Ansible)
REPAIR_DELAY = 0.02  # collapse an event burst into one pass
MIN_PASS_INTERVAL = 0.1  # an event storm costs at most ten reads a second
RESYNC_INTERVAL = 300.0  # safety net; normal work is event-driven
BACKOFF_START = 1.0
BACKOFF_MAX = 300.0
FAILOVER_LOG_INTERVAL = 1.0
RETRY_TEMPORARY = 5.0  # a busy lock or a passing kernel refusal


@dataclass
class Managed:
    """What the loop watches: managed bonds and everything hanging off them."""

    names: set[str] = field(default_factory=set)
    indexes: set[int] = field(default_factory=set)
    bonds: set[str] = field(default_factory=set)
    seen: dict[int, tuple[bool, int]] = field(default_factory=dict)  # up, master
    # Configured ports not present, per bond: any new link (or a rename) may be one.
    absent: dict[str, tuple[str, ...]] = field(default_factory=dict)
    link_names: frozenset[str] = frozenset()


class Daemon:
    def __init__(
        self,
        host: Host,
        dirs: list[Path],
        *,
        explicit: bool,
        run_dir: Path,
        logger: logging.Logger,
        notifier: Notifier,
        socket_group: str | None = None,
        metrics_textfile: Path | None = None,
    ) -> None:
        self.host = host
        self.dirs = dirs
        self.explicit = explicit
        self.run_dir = run_dir
        self.log = logger
        self.notify = notifier
        self.socket_group = socket_group
        self.timers: dict[str, float] = {}
        self.holds: dict[str, float] = {}
        self.managed = Managed()
        self.backoff = 0.0
        self.degraded = ""
        self.proposal_note = ""
        self.last_pass = 0.0
        self.stopping = False
        self.reported: set[str] = set()
        self.failed: dict[str, str] = {}  # proposal hash -> permanent error, until files change
        self.problem = ""
        self.failovers: dict[str, tuple[float, int]] = {}  # bond -> last logged, folded
        self.stats: Counter[str] = Counter()  # wake-ups and passes, for status and tuning
        self.metrics = MetricsWriter(
            BondViewReader(), Collector(dirs, explicit, host.store.dir, metrics_textfile), logger
        )
        self.server: control.ControlServer | None = None
        self.last_read = queries.LastRead()  # what `bondctl status` is answered from

    # -- the loop ----------------------------------------------------------

    def run(self) -> int:
        selector = selectors.DefaultSelector()
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        sig_r, sig_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(sig_w)
        for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: None)  # the wake-up fd carries the number
        events = EventSocket()
        server = control.ControlServer(self.run_dir, self.socket_group)
        watcher = ConfigWatcher(self.dirs, wake_w)
        watcher.start()
        selector.register(events.sock, selectors.EVENT_READ, "netlink")
        self.server = server
        server.watch(selector, "control")  # its connections too, each non-blocking
        selector.register(sig_r, selectors.EVENT_READ, "signal")
        selector.register(wake_r, selectors.EVENT_READ, "config")
        try:
            with self.routine("startup"):
                self.startup()
            self.notify.ready(self.status_line())
            self.arm_watchdog()
            self.timers["resync"] = time.monotonic() + RESYNC_INTERVAL
            while not self.stopping:
                due = min([*self.timers.values(), self.metrics.due()])
                for key, _ in selector.select(max(0.0, due - time.monotonic())):
                    self.stats[f"wake:{key.data}"] += 1
                    self.metrics.changed()
                    with self.routine(f"wake:{key.data}"):
                        if key.data == "netlink":
                            self.on_kernel_events(*events.read())
                        elif key.data == "control":
                            self.on_control(server)
                        elif key.data == "signal":
                            self.on_signals(os.read(sig_r, 64))
                        elif key.data == "config":
                            os.read(wake_r, 4096)
                            self.timers["config"] = time.monotonic() + DEBOUNCE
                with self.routine("timers"):
                    self.run_timers()
                self.metrics.tick()
                self.notify.status(self.status_line())
            self.leave_nothing_unguarded()
        finally:
            self.notify.stopping()
            self.metrics.close()
            watcher.stop()
            server.close()
            events.close()
            signal.set_wakeup_fd(-1)
            for fd in (wake_r, wake_w, sig_r, sig_w):
                os.close(fd)
        event(self.log, "stopped", "bondd stopped; bonds left as they are")
        return 0

    @contextmanager
    def routine(self, where: str) -> Iterator[None]:
        """A routine error (a busy lock, a kernel refusal, an unreadable file) is
        logged once and served around: the daemon keeps running and retries."""
        try:
            yield
        except (BonddError, OSError) as exc:
            message = exc.message if isinstance(exc, BonddError) else str(exc)
            self.problem = message
            if message not in self.reported:
                self.reported.add(message)
                event(
                    self.log,
                    "error",
                    f"{where}: {message}; still serving, will retry",
                    level=logging.ERROR,
                )
            if not (isinstance(exc, BonddError) and exc.permanent):
                self.timers.setdefault("resync", time.monotonic() + RETRY_TEMPORARY)
                if where == "startup":
                    self.timers["startup"] = time.monotonic() + RETRY_TEMPORARY

    def leave_nothing_unguarded(self) -> None:
        """Stopping: a transaction waiting for confirmation is handed to its guard,
        if one runs outside this service, else rolled back now; the journal says which."""
        pending = self.host.store.pending()
        if pending is None:
            return
        guard = pending.guard
        if guard is not None and guard.alive() and guard_outlives_us(guard):
            event(
                self.log,
                "handed_over",
                f"stopping with transaction {pending.txn} waiting for confirmation:"
                f" its deadline {time.strftime('%H:%M:%S', time.localtime(pending.deadline))}"
                f" is held by the {guard.describe()}",
                level=logging.WARNING,
                txn=pending.txn,
            )
            return
        reason = "bondd stopped during the confirm window and no guard outlives it"
        try:
            done = rollback_pending(self.host, reason, pending.txn)
        except BonddError as exc:
            event(self.log, "error", f"stopping: rollback failed: {exc.message}", level=50)
            return
        if done is not None:
            event(
                self.log,
                "rolled_back",
                f"stopping: rolled back transaction {done.txn}: {reason}",
                level=logging.WARNING,
                txn=done.txn,
                proposal=done.proposal_hash,
            )

    def run_timers(self) -> None:
        now = time.monotonic()
        for name, due in sorted(self.timers.items(), key=lambda item: item[1]):
            if due > now:
                continue
            del self.timers[name]
            self.stats[f"timer:{name.split(':')[0]}"] += 1
            if name == "config":
                self.consider_proposal()
            elif name == "repair":
                self.repair()
            elif name == "resync":
                self.consider_proposal()
                self.repair()
                self.timers["resync"] = time.monotonic() + RESYNC_INTERVAL
            elif name == "watchdog":
                self.notify.watchdog()
                self.arm_watchdog()
            elif name == "confirm":
                self.confirm_deadline()
            elif name == "startup":
                self.startup()
            elif name == "control" and self.server is not None:
                self.on_control(self.server)  # a client's request deadline
            elif name.startswith("hold:"):
                self.holds.pop(name[5:], None)
                event(
                    self.log, "hold_released", f"drift repair of {name[5:]} resumed", bond=name[5:]
                )
                self.schedule_repair()

    def arm_watchdog(self) -> None:
        if self.notify.watchdog_interval:
            self.timers["watchdog"] = time.monotonic() + self.notify.watchdog_interval

    def on_signals(self, data: bytes) -> None:
        for signum in data:
            if signum in (signal.SIGTERM, signal.SIGINT):
                event(self.log, "stopping", f"received {signal.Signals(signum).name}")
                self.stopping = True
            elif signum == signal.SIGHUP:
                self.notify.reloading()
                event(self.log, "reload", "reloading the configuration (SIGHUP)")
                self.consider_proposal(force=True)
                self.repair()
                self.notify.ready(self.status_line())

    # -- startup, proposals, drift -----------------------------------------

    def startup(self) -> None:
        done = recover_now(self.host)
        if done:
            event(self.log, "recovered", done, level=logging.WARNING)
        pending = self.host.store.pending()
        if pending is not None and pending.phase is Phase.WAITING:
            self.arm_confirm(pending.deadline)
        self.repair()
        self.consider_proposal()

    def consider_proposal(self, force: bool = False) -> None:
        """Read the config directories; apply a new, valid proposal if asked to."""
        try:
            result = config.check(self.dirs, explicit=self.explicit)
        except BonddError as exc:
            self.proposal_note = f"configuration unreadable: {exc.message}"
            event(self.log, "proposal_invalid", self.proposal_note, level=logging.ERROR)
            return
        digest = result.digest  # of the bytes checked, not a second read
        committed = self.host.store.committed()
        if committed is not None and committed[0] == digest:
            self.proposal_note = ""
            return
        if not result.ok:
            errors = [d.format() for d in result.diagnostics if d.severity.value == "error"]
            self.proposal_note = f"proposal invalid ({len(errors)} errors); running state kept"
            if force or digest not in self.reported:
                self.reported.add(digest)
                event(
                    self.log,
                    "proposal_invalid",
                    self.proposal_note + ": " + "; ".join(errors[:5]),
                    level=logging.ERROR,
                    proposal=digest,
                )
            return
        rejected = self.host.store.rejected()
        if digest in rejected and not force:
            self.proposal_note = f"proposal {digest} was rolled back: {rejected[digest]}"
            if digest not in self.reported:
                self.reported.add(digest)
                event(
                    self.log,
                    "proposal_rejected",
                    self.proposal_note,
                    level=logging.WARNING,
                    proposal=digest,
                )
            return
        if not result.state.settings.apply_on_change:
            self.proposal_note = f"proposal {digest} pending: run `bondctl apply` to apply it"
            if digest not in self.reported:
                self.reported.add(digest)
                event(self.log, "proposal_pending", self.proposal_note, proposal=digest)
            return
        if self.host.store.pending() is not None:
            self.timers["config"] = time.monotonic() + 1.0  # after the confirm window
            return
        if digest in self.failed and not force:
            self.proposal_note = f"proposal {digest} cannot be applied: {self.failed[digest]}"
            return
        try:
            self.transaction(Proposal(result.state, digest))
        except BonddError as exc:
            if exc.permanent:  # until the files change: no retry
                self.failed[digest] = exc.message
                self.proposal_note = f"proposal {digest} cannot be applied: {exc.message}"
            else:  # a lock, EBUSY, a race with a link coming or going: try again
                self.proposal_note = f"proposal {digest} not applied yet: {exc.message}"
                self.timers["config"] = time.monotonic() + RETRY_TEMPORARY

    def transaction(
        self, proposal: Proposal, confirm_timeout: float = 0.0, probes: bool = True
    ) -> Result:
        try:
            # SIGTERM or SIGINT in the middle (`systemctl stop`): roll back now,
            # then stop; never left for systemd's SIGKILL.
            with rollback_on((signal.SIGTERM, signal.SIGINT)):
                result = begin(self.host, proposal, confirm_timeout=confirm_timeout, probes=probes)
        except BonddError as exc:
            if exc.message not in self.reported:
                self.reported.add(exc.message)
                event(
                    self.log,
                    "apply_failed",
                    exc.message,
                    level=logging.ERROR,
                    proposal=proposal.hash,
                )
            raise
        if result.reason.startswith("interrupted by"):
            event(
                self.log,
                "stopping",
                f"{result.reason} inside transaction {result.txn}: rolled back before stopping",
                level=logging.WARNING,
                txn=result.txn,
            )
        fields: dict[str, Any] = {"proposal": proposal.hash, "txn": result.txn}
        bonds = ",".join(sorted(result.plan.disruption())) if result.plan else ""
        if result.status is Status.ROLLED_BACK:
            event(
                self.log,
                "rolled_back",
                f"rolled back: {result.reason}",
                level=logging.ERROR,
                bond=bonds,
                **fields,
            )
        elif result.status is Status.WAITING:
            assert result.deadline is not None
            self.arm_confirm(result.deadline)
            event(
                self.log,
                "waiting",
                f"applied; waiting for confirmation until"
                f" {time.strftime('%H:%M:%S', time.localtime(result.deadline))}",
                bond=bonds,
                **fields,
            )
        elif result.status is Status.COMMITTED:
            assert result.plan is not None
            event(
                self.log,
                "applied",
                f"applied {len(result.plan.ops)} operations to {bonds}",
                bond=bonds,
                ops=len(result.plan.ops),
                **fields,
            )
        self.proposal_note = ""
        self.refresh_managed()
        return result

    def arm_confirm(self, deadline: float) -> None:
        self.timers["confirm"] = time.monotonic() + max(0.0, deadline - self.host.wall())

    def confirm_deadline(self) -> None:
        pending = self.host.store.pending()
        if pending is None:
            return
        if not ConfirmWindow(pending.deadline, self.host.wall, self.host.clock.sleep).expired():
            self.arm_confirm(pending.deadline)
            return
        reason = f"not confirmed within {pending.confirm_timeout:g}s"
        if rollback_pending(self.host, reason, pending.txn, only_if_due=True) is not None:
            event(
                self.log,
                "rolled_back",
                f"rolled back: {reason}",
                level=logging.ERROR,
                txn=pending.txn,
                proposal=pending.proposal_hash,
            )
        self.refresh_managed()

    def schedule_repair(self) -> None:
        due = max(time.monotonic() + REPAIR_DELAY, self.last_pass + MIN_PASS_INTERVAL)
        if self.backoff:
            due = max(due, self.last_pass + self.backoff)
        self.timers["repair"] = min(self.timers.get("repair", due), due)

    def repair(self) -> None:
        """Put managed interfaces back to the committed config (drift repair)."""
        self.last_pass = time.monotonic()
        self.stats["repair-pass"] += 1
        committed = self.host.store.committed()
        if committed is None or self.host.store.pending() is not None:
            self.refresh_managed()
            return
        started = time.monotonic()
        try:
            actual = self.host.reader.read()
            the_plan = without_bonds(
                plan(committed[1], actual, self.host.store.ownership()), set(self.holds)
            )
            self.refresh_managed(actual, the_plan.targets)
            if the_plan.empty:
                self.recovered()
                return
            diff = "; ".join(d.describe() for d in the_plan.differences)
            outcome = run_plan(
                the_plan, self.host.writer, self.host.reader, self.host.store, self.host.clock
            )
        except BonddError as exc:
            self.failed_repair(exc.message)
            return
        bonds = ",".join(sorted(the_plan.disruption()))
        self.metrics.repaired(the_plan.disruption())
        event(
            self.log,
            "drift_repaired",
            f"repaired drift on {bonds} in {time.monotonic() - started:.3f}s: {diff}",
            bond=bonds,
            ops=len(the_plan.ops),
            diff=diff,
            seconds=f"{time.monotonic() - started:.3f}",
        )
        self.recovered()
        self.refresh_managed(outcome.actual, the_plan.targets)  # verify's read: no third one

    def recovered(self) -> None:
        self.problem = ""
        if self.degraded:
            event(self.log, "healthy", "drift repair works again")
        self.backoff = 0.0
        self.degraded = ""

    def failed_repair(self, why: str) -> None:
        self.backoff = min(BACKOFF_MAX, self.backoff * 2 if self.backoff else BACKOFF_START)
        self.degraded = why
        event(
            self.log,
            "repair_failed",
            f"drift repair failed (next try in {self.backoff:g}s): {why}",
            level=logging.ERROR,
        )
        self.timers["repair"] = time.monotonic() + self.backoff

    def refresh_managed(
        self, actual: ActualState | None = None, targets: Targets | None = None
    ) -> None:
        if actual is None:
            try:
                actual = self.host.reader.read()
            except BonddError:
                return
        self.last_read.keep(actual, time.monotonic())
        ownership = self.host.store.ownership()
        bonds = set(ownership.owned | ownership.adopted)
        if targets is not None:
            bonds |= {t.name for t in targets.bonds}
        names = set(bonds)
        for name in bonds:
            bond = actual.bond(name)
            if bond is not None:
                names |= {p.name for p in bond.ports} | {v.name for v in bond.vlans}
        indexes = {b.ifindex for b in actual.bonds if b.name in names}
        indexes |= {link.ifindex for link in actual.links if link.name in names}
        seen = {b.ifindex: (b.up, 0) for b in actual.bonds}
        for link in actual.links:
            master = actual.bond(link.master) if link.master else None
            seen[link.ifindex] = (link.up, master.ifindex if master else 0)
        absent = (
            {t.name: t.absent for t in targets.bonds if t.absent}
            if targets is not None
            else self.managed.absent
        )
        self.report_absent(absent)
        self.managed = Managed(
            names=names,
            indexes=indexes,
            bonds=bonds,
            seen=seen,
            absent=absent,
            link_names=frozenset(link.name for link in actual.links),
        )

    def report_absent(self, absent: dict[str, tuple[str, ...]]) -> None:
        """Once per port: "configured, not present", and again when it comes back."""
        for bond, ports in absent.items():
            for port in ports:
                if port not in self.managed.absent.get(bond, ()):
                    event(
                        self.log,
                        "port_absent",
                        f"{bond}: port {port}: configured, not present;"
                        " the bond is kept with the other ports",
                        level=logging.WARNING,
                        bond=bond,
                        port=port,
                    )
        for bond, ports in self.managed.absent.items():
            for port in ports:
                if port not in absent.get(bond, ()):
                    event(
                        self.log,
                        "port_present",
                        f"{bond}: port {port} is present: enslaved",
                        bond=bond,
                        port=port,
                    )
        self.metrics.changed()

    def on_kernel_events(self, events: list[KernelEvent], lost: bool) -> None:
        self.last_read.forget()
        wanted = lost
        for ev in events:
            relevant = ev.ifindex in self.managed.indexes or ev.ifname in self.managed.names
            if not relevant:
                if (
                    self.managed.absent
                    and ev.kind == "link"
                    and ev.ifname not in self.managed.link_names
                ):
                    wanted = True  # a new NIC, or one renamed by udev: maybe an absent port
                continue
            if ev.failover and ev.ifname in self.managed.bonds:
                self.log_failover(ev.ifname)
            if ev.kind in ("address", "route", "link-deleted"):
                wanted = True
            elif ev.kind == "link":
                before = self.managed.seen.get(ev.ifindex)
                now = (ev.up, ev.master)
                # Carrier comes and goes with cables: not drift. Admin state,
                # membership and options are.
                if before != now or ev.options_changed or before is None:
                    self.managed.seen[ev.ifindex] = now
                    wanted = True
        if wanted:
            self.schedule_repair()

    def log_failover(self, bond: str) -> None:
        # A flapping cable fails over many times a second: log at most one a
        # second per bond, with how many were folded into it.
        self.metrics.failover(bond)
        now = time.monotonic()
        last, folded = self.failovers.get(bond, (0.0, 0))
        if now - last < FAILOVER_LOG_INTERVAL:
            self.failovers[bond] = (last, folded + 1)
            return
        self.failovers[bond] = (now, 0)
        active = active_port(bond)
        extra = f" ({folded} more failovers since the last entry)" if folded else ""
        event(
            self.log,
            "failover",
            f"{bond}: failover, active port now {active}{extra}",
            bond=bond,
            active_port=active,
        )

    # -- control socket ----------------------------------------------------

    def on_control(self, server: control.ControlServer) -> None:
        # Requests arrive checked (control.poll): malformed, oversized, late or
        # not root's to make were answered there.
        for conn, _uid, req in server.poll():
            self.answer(conn, req)
        for refusal in server.refusals:
            event(self.log, "refused", refusal, level=logging.WARNING)
        server.refusals.clear()
        due = server.next_deadline()
        if due is not None:
            self.timers["control"] = due
        else:
            self.timers.pop("control", None)

    def answer(self, conn: Any, req: control.Request) -> None:
        try:
            answer = self.handle(req.cmd, req.fields)
        except BonddError as exc:
            answer = error_answer(exc)
        except Exception as exc:  # every request gets an answer; the loop goes on
            event(self.log, "request_failed", f"`{req.cmd}` failed: {exc!r}", level=logging.ERROR)
            answer = {"ok": False, "error": f"`{req.cmd}` failed: {exc!r}"[:300], "exit_code": 70}
        control.reply(conn, answer)

    def handle(self, cmd: str, req: dict[str, Any]) -> dict[str, Any]:
        if cmd == "status" and "report" in req:  # bondctl status, rendered here
            sources = queries.Sources(
                self.host.reader.read,
                self.host.store,
                self.dirs,
                lambda: config.load_desired(self.dirs, explicit=self.explicit),
            )
            return queries.status_report(req, self.last_read, sources, time.monotonic())
        if cmd == "plan":
            return queries.plan(self.host, self.dirs, self.explicit, req)
        if cmd == "status":
            pending = self.host.store.pending()
            return {
                "ok": True,
                "stats": dict(self.stats),
                "status": self.status_line(),
                "config_dirs": [str(d) for d in self.dirs],
                "explicit": self.explicit,
                "state_dir": str(self.host.store.dir),
                "degraded": self.degraded,
                "proposal": self.proposal_note,
                "problem": self.problem,
                "holds": {b: round(t - time.monotonic(), 1) for b, t in self.holds.items()},
                "pending": None
                if pending is None
                else {
                    "txn": pending.txn,
                    "phase": pending.phase.value,
                    "deadline": pending.deadline,
                },
            }
        if cmd == "apply":
            return self.handle_apply(req)
        if cmd == "txn":
            return self.txn_state(str(req.get("txn", "")), str(req.get("proposal", "")))
        if cmd == "confirm":
            pending = confirm(self.host, req.get("txn"))
            if pending is None:
                return {
                    "ok": False,
                    "error": "no change is waiting for confirmation",
                    "exit_code": 1,
                }
            self.timers.pop("confirm", None)
            event(
                self.log,
                "applied",
                f"transaction {pending.txn} confirmed",
                txn=pending.txn,
                proposal=pending.proposal_hash,
            )
            return {"ok": True, "txn": pending.txn}
        if cmd == "rollback":
            pending = rollback_pending(
                self.host, "rolled back by `bondctl rollback`", req.get("txn")
            )
            if pending is None:
                return {"ok": False, "error": "no transaction is pending", "exit_code": 1}
            self.timers.pop("confirm", None)
            event(
                self.log,
                "rolled_back",
                "rolled back by request",
                level=logging.WARNING,
                txn=pending.txn,
                proposal=pending.proposal_hash,
            )
            self.refresh_managed()
            return {"ok": True, "txn": pending.txn}
        if cmd == "hold":
            bond = str(req["bond"])
            seconds = min(float(req.get("seconds", 60)), 3600.0)
            self.holds[bond] = time.monotonic() + seconds
            self.timers[f"hold:{bond}"] = self.holds[bond]
            event(self.log, "hold", f"drift repair of {bond} paused for {seconds:g}s", bond=bond)
            return {"ok": True, "bond": bond, "seconds": seconds}
        if cmd == "release":
            bond = str(req["bond"])
            self.holds.pop(bond, None)
            self.timers[f"hold:{bond}"] = time.monotonic()
            return {"ok": True, "bond": bond}
        return {"ok": False, "error": f"unknown command {cmd!r}", "exit_code": 64}

    def handle_apply(self, req: dict[str, Any]) -> dict[str, Any]:
        # `req` was checked by control.requests: names the loader reads, sizes, the span.
        files = [(name, content.encode("utf-8", "replace")) for name, content in req["files"]]
        proposal = build_proposal(self.dirs, explicit=self.explicit, files=files)
        result = self.transaction(proposal, req["confirm_timeout"], req["probes"])
        return {"ok": True, **result_json(result), "proposal": proposal.hash}

    def txn_state(self, txn: str, proposal: str) -> dict[str, Any]:
        pending = self.host.store.pending()
        if pending is not None and pending.txn == txn:
            return {"ok": True, "state": pending.phase.value, "deadline": pending.deadline}
        committed = self.host.store.committed()
        if committed is not None and committed[0] == proposal:
            return {"ok": True, "state": "committed"}
        reason = self.host.store.rejected().get(proposal, "rolled back")
        return {"ok": True, "state": "rolled-back", "reason": reason}

    def status_line(self) -> str:
        pending = self.host.store.pending()
        if pending is not None and pending.phase is Phase.WAITING:
            try:
                until = time.strftime("%H:%M:%S", time.localtime(pending.deadline))
            except (OverflowError, OSError, ValueError):  # a record from before spans had bounds
                until = "an unreadable deadline"
            return "waiting for confirmation until " + until
        if self.degraded:
            return f"degraded: {self.degraded}"[:200]
        bonds = len(self.managed.bonds)
        line = f"{bonds} bond{'s' if bonds != 1 else ''} converged"
        if self.holds:
            line += f"; repair paused for {', '.join(sorted(self.holds))}"
        if self.proposal_note:
            line += f"; {self.proposal_note}"
        if self.problem:
            line += f"; error: {self.problem}"
        return line[:200]


def error_answer(exc: BonddError) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "ok": False,
        "error": exc.message,
        "hint": exc.hint,
        "exit_code": exc.exit_code,
    }
    if isinstance(exc, ConfigError):
        answer["diagnostics"] = [d.format() for d in exc.diagnostics]
    return answer


def without_bonds(the_plan: Plan, held: set[str]) -> Plan:
    """The plan minus everything about held bonds (a failover drill is running on them)."""
    if not held:
        return the_plan
    targets = Targets(
        tuple(t for t in the_plan.targets.bonds if t.name not in held), the_plan.targets.warnings
    )
    return Plan(
        ops=tuple(op for op in the_plan.ops if op.bond not in held),
        ownership=the_plan.ownership,
        targets=targets,
        differences=tuple(d for d in the_plan.differences if d.bond not in held),
        warnings=the_plan.warnings,
    )
