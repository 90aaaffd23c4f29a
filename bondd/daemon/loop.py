"""The daemon's single loop: wake on events, decide, act, feed the watchdog.

Wake-ups (the event sources): config-directory changes (debounced), netlink
events on managed interfaces, SIGHUP/SIGTERM, control-socket requests, a
slow resync timer, the confirm-window deadline. Everything that changes the
kernel runs here, one thing at a time. This module holds only the sources
and the timers; what each wake-up decides lives in the layers under it
(bondd.daemon.state names them), which the unit tests drive over fakes.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bondd.daemon import control
from bondd.daemon.answers import Answers
from bondd.daemon.proposals import RETRY_TEMPORARY
from bondd.daemon.watch import ConfigWatcher
from bondd.engine.pending import Phase
from bondd.engine.transaction import recover_now
from bondd.errors import BonddError
from bondd.kernel.events import EventSocket
from bondd.log import event

__all__ = ["Daemon"]

DEBOUNCE = 0.3  # config writes come in bursts (editors, ConfigMap swaps, Ansible)
RESYNC_INTERVAL = 300.0  # safety net; normal work is event-driven


@dataclass
class Sources:
    """The loop's file descriptors: netlink, control socket, signals, config watcher."""

    selector: selectors.BaseSelector
    events: EventSocket
    server: control.ControlServer
    watcher: ConfigWatcher
    wake: tuple[int, int]
    sig: tuple[int, int]

    def close(self) -> None:
        self.watcher.stop()
        self.server.close()
        self.events.close()
        signal.set_wakeup_fd(-1)
        for fd in (*self.wake, *self.sig):
            os.close(fd)


class Daemon(Answers):
    def run(self) -> int:
        sources = self.open_sources()
        try:
            with self.routine("startup"):
                self.startup()
            with self.routine("startup"):
                self.drain(sources)
            self.notify.ready(self.status_line())
            self.arm_watchdog()
            self.timers["resync"] = self.now() + RESYNC_INTERVAL
            while not self.stopping:
                self.once(sources)
            self.leave_nothing_unguarded()
        finally:
            self.notify.stopping()
            self.metrics.close()
            sources.close()
        event(self.log, "stopped", "bondd stopped; bonds left as they are")
        return 0

    def open_sources(self) -> Sources:
        selector = selectors.DefaultSelector()
        wake = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        sig = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(sig[1])
        for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: None)  # the wake-up fd carries the number
        events = EventSocket()
        server = control.ControlServer(self.run_dir, self.socket_group)
        watcher = ConfigWatcher(self.dirs, wake[1])
        watcher.start()
        selector.register(events.sock, selectors.EVENT_READ, "netlink")
        self.server = server
        server.watch(selector, "control")  # its connections too, each non-blocking
        selector.register(sig[0], selectors.EVENT_READ, "signal")
        selector.register(wake[0], selectors.EVENT_READ, "config")
        return Sources(selector, events, server, watcher, wake, sig)

    def once(self, sources: Sources) -> None:
        """One wait on the sources, what woke it, then the timers that are due."""
        due = min([*self.timers.values(), self.metrics.due()])
        for key, _ in sources.selector.select(max(0.0, due - self.now())):
            self.stats[f"wake:{key.data}"] += 1
            self.metrics.changed()
            with self.routine(f"wake:{key.data}"):
                if key.data == "netlink":
                    self.drain(sources)
                elif key.data == "control":
                    self.writing(sources, lambda: self.on_control(sources.server))
                elif key.data == "signal":
                    self.writing(sources, lambda: self.on_signals(os.read(sources.sig[0], 64)))
                elif key.data == "config":
                    os.read(sources.wake[0], 4096)
                    self.timers["config"] = self.now() + DEBOUNCE
        with self.routine("timers"):
            self.writing(sources, self.run_timers)
        self.metrics.tick()
        self.notify.status(self.status_line())

    def drain(self, sources: Sources) -> None:
        """Every kernel event queued, with the bonds the daemon wrote to since the last
        drain: the kernel queues a write's announcements within the write itself."""
        own = self.writer.take()
        events, lost = sources.events.read()
        if events or lost:
            self.on_kernel_events(events, lost, own)

    def writing(self, sources: Sources, action: Callable[[], None]) -> None:
        """An action that may write to the kernel, between two drains: what was queued
        before it is the world's doing, what it queued is its own."""
        self.drain(sources)
        try:
            action()
        finally:
            self.drain(sources)

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
                # Sooner than the periodic resync, which is always scheduled: a
                # failed pass (its dirty scopes already taken) is retried soon.
                retry = self.now() + RETRY_TEMPORARY
                self.timers["resync"] = min(self.timers.get("resync", retry), retry)
                if where == "startup":
                    self.timers["startup"] = self.now() + RETRY_TEMPORARY

    def run_timers(self) -> None:
        now = self.now()
        actions: dict[str, Callable[[], None]] = {
            "config": self.consider_proposal,
            "repair": lambda: self.repair(full=False),
            "resync": self.resync,
            "watchdog": self.on_watchdog,
            "confirm": self.confirm_deadline,
            "startup": self.startup,
            "control": self.on_control_deadline,
        }
        for name, due in sorted(self.timers.items(), key=lambda item: item[1]):
            if due > now:
                continue
            del self.timers[name]
            self.stats[f"timer:{name.split(':')[0]}"] += 1
            if name.startswith("hold:"):
                self.release_hold(name[5:])
            elif name in actions:
                actions[name]()

    def resync(self) -> None:
        self.consider_proposal()
        self.repair()
        self.timers["resync"] = self.now() + RESYNC_INTERVAL

    def on_watchdog(self) -> None:
        self.notify.watchdog()
        self.arm_watchdog()

    def on_control_deadline(self) -> None:
        if self.server is not None:
            self.on_control(self.server)  # a client's request deadline

    def release_hold(self, bond: str) -> None:
        self.holds.pop(bond, None)
        event(self.log, "hold_released", f"drift repair of {bond} resumed", bond=bond)
        self.dirty.full = True  # what drifted during the hold was not looked at
        self.schedule_repair()

    def arm_watchdog(self) -> None:
        if self.notify.watchdog_interval:
            self.timers["watchdog"] = self.now() + self.notify.watchdog_interval

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

    def startup(self) -> None:
        done = recover_now(self.host)
        if done:
            event(self.log, "recovered", done, level=logging.WARNING)
        pending = self.host.store.pending()
        if pending is not None and pending.phase is Phase.WAITING:
            self.arm_confirm(pending.deadline)
        self.repair()
        self.consider_proposal()
