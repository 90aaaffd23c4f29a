"""`bondctl failover-test BOND`: pull the cable on purpose, and measure what it costs.

"Never trust a redundancy setup you haven't tested." The drill refuses a bond
that is not healthy with at least two working ports (it would become the
outage it rehearses), asks a running daemon to hold drift repair of the bond
(a downed port is drift, and repairing it mid-drill would spoil the
measurement), sends its own ICMP echo probes at a fixed interval, fails the
active port, and measures: probes lost, the gap from the first lost to the
first answered probe, and when the kernel's failover event came. Then it
restores the port, waits for it to rejoin, optionally drills the other
direction, leaves the bond as it found it, releases the hold and records
the result for `bondctl status`.

Whatever ends the drill (an error, Ctrl-C, SIGTERM, SIGHUP from a dying SSH
session) the port is brought back and the hold released. If bondctl itself
is killed outright, the hold runs out on its own and the daemon repairs the
downed port.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from types import FrameType
from typing import TYPE_CHECKING, Any

from bondd.cli import context, output
from bondd.engine.drills import DrillRecords
from bondd.errors import BonddError
from bondd.failover import (
    ACTIVE_PORT_MODES,
    DrillResult,
    Leg,
    Method,
    Probe,
    default_target,
    first_answer_after,
    measure,
    parse_interval,
    port_to_fail,
    probe_device,
    refusals,
    report_text,
)
from bondd.model import BondMode, BondState
from bondd.protocol import daemon_running, request

if TYPE_CHECKING:
    from bondd.echo import EchoStream
    from bondd.kernel.drill import DrillKernel

WARM_UP = 0.3  # seconds of probes before the first failure: the target must answer
SETTLE = 0.2  # seconds of probes kept after each step, so recovery is seen in the numbers
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "failover-test",
        parents=[parent],
        help="force a failover of a bond while probing, and measure the gap",
        description="Fail the bond's active port on purpose while sending ICMP echo probes,"
        " measure the traffic gap, restore the port and leave the bond as it was."
        " Needs root. Refuses a bond that is not healthy with two ports up.",
    )
    parser.add_argument("bond", metavar="BOND")
    parser.add_argument(
        "--target",
        metavar="IP",
        help="address to probe (default: the gateway of the bond's default route)",
    )
    parser.add_argument(
        "--interval",
        metavar="TIME",
        default="10ms",
        help="time between probes, e.g. 10ms (default), 1ms..1s",
    )
    parser.add_argument(
        "--port",
        metavar="PORT",
        help="port to fail (default: the active port; required in modes without one)",
    )
    parser.add_argument(
        "--method",
        choices=Method.ALL,
        default=Method.ADMIN,
        help="admin: set the port down (default, works on every NIC); carrier: drop its"
        " carrier, which only some virtual drivers can do on request",
    )
    parser.add_argument(
        "--both-ways",
        action="store_true",
        help="after the port rejoins, fail the port that took over, so traffic moves back",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    context.require_root("failover-test")
    try:
        interval = parse_interval(args.interval)
    except ValueError as exc:
        output.die(str(exc), "e.g. --interval 10ms")
    with context.kernel(args) as host:
        bond = host.reader.read().bond(args.bond)
    if bond is None:
        output.die(f"no bond named {args.bond} in the kernel", "see bondctl status")
    found = refusals(bond, args.port, args.method)
    if found:
        output.die(
            f"{bond.name} is not ready for a failover drill: {'; '.join(found)}",
            "nothing was changed; fix this and run the drill again",
        )
    target = args.target or default_target(bond)
    if target is None:
        output.die(
            f"no address to probe: {bond.name} has no default route with a gateway",
            "name one with --target IP (the gateway, or a host reached through the bond)",
        )
    try:
        ipaddress.ip_address(target)
    except ValueError:
        output.die(f"--target {target!r} is not an IP address")
    plan = DrillPlan(
        bond=bond,
        target=target,
        device=probe_device(bond, target),
        interval=interval,
        method=args.method,
        both_ways=args.both_ways,
        first_port=port_to_fail(bond, args.port),
    )
    with _signals_interrupt(), _hold(args, bond.name, plan.hold_seconds):
        result = execute(plan)
    try:
        DrillRecords(args.state_dir).save(result)
    except (OSError, BonddError) as exc:
        result = _with_problem(result, f"the result could not be recorded: {exc}")
    if args.json:
        output.print_json(result.to_json())
    else:
        print(report_text(result))
    return 0 if result.ok else 1


def _with_problem(result: DrillResult, problem: str) -> DrillResult:
    return replace(result, problems=(*result.problems, problem))


# --- safety around the drill ---------------------------------------------------------


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP end the drill like Ctrl-C: through the `finally` that restores."""
    previous = {s: signal.signal(s, _interrupt) for s in HANDLED_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def _signals_blocked() -> Iterator[None]:
    """Cleanup must not itself be cut short: signals wait until the port is back."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def _hold(args: argparse.Namespace, bond: str, seconds: float) -> Iterator[None]:
    """Ask a running daemon not to repair `bond` during the drill; release it after."""
    if not daemon_running(args.run_dir):
        yield
        return
    try:
        answer = request(args.run_dir, {"cmd": "hold", "bond": bond, "seconds": seconds})
    except OSError as exc:
        output.die(f"the daemon did not answer the request to hold {bond}: {exc}")
    if not answer.get("ok"):
        output.die(
            f"the daemon refused to hold drift repair of {bond}: {answer.get('error')}",
            "without the hold it would undo the drill's failure mid-measurement",
        )
    try:
        yield
    finally:
        with _signals_blocked():
            try:
                request(args.run_dir, {"cmd": "release", "bond": bond}, timeout=10)
            except OSError as exc:
                output.print_error(
                    f"could not release the hold on {bond}: {exc}",
                    f"it runs out by itself within {seconds:.0f}s",
                )


# --- the drill -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrillPlan:
    bond: BondState
    target: str
    device: str
    interval: float
    method: str
    both_ways: bool
    first_port: str

    def _ms_option(self, name: str, default: int = 0) -> float:
        value = self.bond.options.get(name, default)
        return float(value) if isinstance(value, int) else float(default)

    @property
    def monitor_seconds(self) -> float:
        """How long the kernel may take to notice a dead link, at most."""
        miimon = self._ms_option("miimon")
        if miimon:
            return miimon / 1000.0
        return self._ms_option("arp_interval") * self._ms_option("arp_missed_max", 2) / 1000.0

    @property
    def fail_timeout(self) -> float:
        return self._ms_option("downdelay") / 1000.0 + 10 * self.monitor_seconds + 2.0

    @property
    def rejoin_timeout(self) -> float:
        timeout = self._ms_option("updelay") / 1000.0 + 10 * self.monitor_seconds + 5.0
        if self.bond.mode is BondMode.IEEE_802_3AD:
            # LACP must converge again: three LACPDU periods and some.
            timeout += 5.0 if self.bond.options.get("lacp_rate") == "fast" else 95.0
        return timeout

    @property
    def hold_seconds(self) -> float:
        legs = 2 if self.both_ways else 1
        return round(WARM_UP + legs * (self.fail_timeout + self.rejoin_timeout + 5.0) + 10.0)


@dataclass
class _LegTimes:
    failed: str
    trigger: float
    to: str | None = None
    failover_seen: float | None = None
    restored: float | None = None
    rejoined: float | None = None
    window_end: float | None = None


def execute(plan: DrillPlan) -> DrillResult:
    """Run the drill; whatever happens, every port it failed is restored before returning."""
    # Imported here: only the drill pays for pyroute2 and raw sockets.
    from bondd.echo import EchoStream  # noqa: PLC0415
    from bondd.kernel.drill import DrillKernel  # noqa: PLC0415

    at = dt.datetime.now(dt.UTC)
    kernel = DrillKernel()
    try:
        stream = EchoStream(plan.target, plan.interval, plan.device)
    except OSError:
        kernel.close()
        raise
    drill = Drill(plan, kernel, stream)
    try:
        stream.start()
        drill.perform()
    finally:
        with _signals_blocked():
            for port in sorted(drill.down):
                drill.restore(port)
            stream.stop(drain=max(0.5, 5 * plan.interval))
            kernel.drain_events()
            view = drill.final_view()
            kernel.close()
    return drill.result(at, stream.probes(), view)


@dataclass
class Drill:
    plan: DrillPlan
    kernel: DrillKernel
    stream: EchoStream
    legs: list[_LegTimes] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    down: set[str] = field(default_factory=set)  # ports this drill failed and has not restored

    def perform(self) -> None:
        from bondd.kernel.drill import CarrierUnsupportedError  # noqa: PLC0415

        plan = self.plan
        time.sleep(max(WARM_UP, 10 * plan.interval))
        if self.stream.last_answered() is None:
            output.die(
                f"{plan.target} does not answer echo requests sent via {plan.device}:"
                " no gap could be measured",
                "nothing was changed; pick a --target that answers ping",
            )
        try:
            self.legs.append(self._leg(plan.first_port))
        except CarrierUnsupportedError:
            output.die(
                f"the driver of {plan.first_port} cannot drop carrier on request"
                " (EOPNOTSUPP); most NICs cannot",
                "nothing was changed; use --method admin (the default), or pull the cable by hand",
            )
        if plan.both_ways and not self.problems:
            second = self._second_port(self.legs[0])
            if second is not None:
                self.legs[-1].window_end = time.monotonic()
                self.legs.append(self._leg(second))
        self._back_to_start()
        time.sleep(SETTLE)
        self.legs[-1].window_end = time.monotonic()

    # -- one failover --------------------------------------------------------------

    def _fail(self, port: str) -> None:
        if self.plan.method == Method.CARRIER:
            self.kernel.set_carrier(port, on=False)
        else:
            self.kernel.set_admin(port, up=False)
        self.down.add(port)

    def restore(self, port: str) -> None:
        try:
            if self.plan.method == Method.CARRIER:
                self.kernel.set_carrier(port, on=True)
            else:
                self.kernel.set_admin(port, up=True)
            self.down.discard(port)
        except Exception as exc:  # reported; the next port is still restored
            self.problems.append(f"could not restore {port}: {exc}; bring it up by hand")

    def _leg(self, port: str) -> _LegTimes:
        plan, kernel, stream = self.plan, self.kernel, self.stream
        bond = plan.bond.name
        has_active = plan.bond.mode in ACTIVE_PORT_MODES
        times = _LegTimes(failed=port, trigger=time.monotonic())
        self._fail(port)
        if has_active:
            seen = kernel.wait(
                lambda: kernel.active_port(bond) not in (None, port), plan.fail_timeout
            )
        else:
            seen = kernel.wait(lambda: not kernel.mii_up(port), plan.fail_timeout)
        times.failover_seen = seen
        if seen is None:
            self.problems.append(
                f"the kernel did not fail over from {port} within {plan.fail_timeout:.1f}s"
            )
        else:
            times.to = kernel.active_port(bond) if has_active else None
            after = seen

            def back() -> bool:
                last = stream.last_answered()
                return last is not None and last >= after

            if kernel.wait(back, 2.0 + plan.fail_timeout) is None:
                self.problems.append(
                    f"traffic to {plan.target} did not come back after {port} failed"
                )
        time.sleep(SETTLE)
        times.restored = time.monotonic()
        self.restore(port)
        times.rejoined = kernel.wait(lambda: self._rejoined(port), plan.rejoin_timeout)
        if times.rejoined is None:
            self.problems.append(f"{port} did not rejoin within {plan.rejoin_timeout:.0f}s")
        time.sleep(SETTLE)
        return times

    def _rejoined(self, port: str) -> bool:
        if not self.kernel.mii_up(port):
            return False
        if self.plan.bond.mode is not BondMode.IEEE_802_3AD:
            return True
        from bondd.lacp import in_service  # noqa: PLC0415

        actor, partner = self.kernel.lacp_states(port)
        return in_service(actor) and in_service(partner)

    def _second_port(self, first: _LegTimes) -> str | None:
        bond = self.plan.bond
        if bond.mode in ACTIVE_PORT_MODES:
            active = self.kernel.active_port(bond.name)
            if active == first.failed:
                self.notes.append(
                    f"the kernel returned to {first.failed} by itself when it rejoined"
                    f" (primary {bond.options.get('primary') or '-'},"
                    f" primary_reselect {bond.options.get('primary_reselect')}):"
                    " that switch back is the other direction, measured as the rejoin loss"
                )
                return None
            return active
        return next((p.name for p in bond.ports if p.name != first.failed), None)

    def _back_to_start(self) -> None:
        """Leave the same port active as before the drill (a planned, graceful switch)."""
        bond = self.plan.bond
        start = bond.active_port
        if bond.mode not in ACTIVE_PORT_MODES or start is None:
            return
        if self.kernel.active_port(bond.name) == start:
            return
        try:
            self.kernel.set_active(bond.name, start)
        except OSError as exc:
            self.problems.append(f"could not make {start} active again: {exc}")
            return
        if self.kernel.wait(lambda: self.kernel.active_port(bond.name) == start, 5.0) is None:
            self.problems.append(f"{start} did not become active again")
        else:
            self.notes.append(f"made {start} active again, as it was before the drill")

    # -- the numbers ----------------------------------------------------------------

    def final_view(self) -> tuple[str | None, bool]:
        """The bond's active port and whether every port is up again, read from sysfs now."""
        bond = self.plan.bond
        active = self.kernel.active_port(bond.name) if bond.mode in ACTIVE_PORT_MODES else None
        all_up = all(
            self.kernel.admin_up(p.name) and self.kernel.mii_up(p.name) for p in bond.ports
        )
        return active, all_up

    def result(
        self, at: dt.datetime, probes: list[Probe], view: tuple[str | None, bool]
    ) -> DrillResult:
        plan = self.plan
        legs = []
        for leg in self.legs:
            restored = leg.restored
            failed_window = measure(probes, leg.trigger, restored)
            restore_window = measure(probes, restored, leg.window_end) if restored else None
            event = next(
                (
                    t
                    for t, name in self.kernel.failovers
                    if name == plan.bond.name and t >= leg.trigger
                ),
                None,
            )
            back = first_answer_after(probes, leg.failover_seen) if leg.failover_seen else None
            legs.append(
                Leg(
                    failed=leg.failed,
                    to=leg.to,
                    gap=failed_window,
                    kernel_failover_ms=_after(event, leg.trigger),
                    traffic_back_ms=_after(back, leg.trigger),
                    rejoin_ms=_after(leg.rejoined, restored),
                    restore=restore_window or failed_window,
                )
            )
        ended_active, all_up = view
        started_active = plan.bond.active_port if plan.bond.mode in ACTIVE_PORT_MODES else None
        ended_as_started = all_up and ended_active == started_active and not self.down
        problems = list(self.problems)
        if not ended_as_started:
            problems.append(
                f"the bond did not end as it started (active port {ended_active or '-'},"
                f" was {started_active or '-'}; every port up: {all_up})"
            )
        return DrillResult(
            bond=plan.bond.name,
            mode=plan.bond.mode.value,
            target=plan.target,
            device=plan.device,
            interval_ms=plan.interval * 1000.0,
            method=plan.method,
            at=at,
            legs=tuple(legs),
            sent=len(probes),
            lost=sum(1 for p in probes if p.lost),
            started_active=started_active,
            ended_active=ended_active,
            ended_as_started=ended_as_started,
            problems=tuple(problems),
            notes=tuple(self.notes),
        )


def _after(moment: float | None, origin: float | None) -> float | None:
    if moment is None or origin is None:
        return None
    return (moment - origin) * 1000.0
