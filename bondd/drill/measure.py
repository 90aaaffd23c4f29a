"""The failover drill's arithmetic: is a bond ready for one, and what did it cost?

Admins test redundancy by pulling a cable while a ping runs and reading the
loss off by eye. `bondctl failover-test` does the same on purpose and in
numbers; this module holds everything about it that needs no kernel: which
bonds may be drilled (and why not), which address and interface to probe,
the gap and the lost probes from a list of timed echo probes, the report
and the record `bondctl status` shows. Pure: reads model values and
numbers, touches nothing.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bondd import lacp
from bondd.model import BondMode, BondState, RouteSpec

RECORD_VERSION = 1
# Modes with one active port: the drill fails that port and the kernel picks another.
ACTIVE_PORT_MODES = frozenset({BondMode.ACTIVE_BACKUP, BondMode.BALANCE_TLB, BondMode.BALANCE_ALB})


class Method:
    """How the drill makes a port fail."""

    ADMIN = "admin"  # set the port administratively down: works on every NIC
    CARRIER = "carrier"  # drop carrier: only drivers with ndo_change_carrier (dummy, a few)

    ALL = (ADMIN, CARRIER)


@dataclass(frozen=True)
class Probe:
    """One echo request: its sequence number, when it left, when its answer came (monotonic s)."""

    seq: int
    sent: float
    answered: float | None = None

    @property
    def lost(self) -> bool:
        return self.answered is None


@dataclass(frozen=True)
class Gap:
    """What one window of probes lost: how many, and for how long traffic stopped.

    `gap_ms` runs from the send time of the first lost probe to the send time
    of the first answered probe after the last lost one: the time no probe got
    through, at the probe interval's resolution. None when traffic never came
    back within the probes sent.
    """

    sent: int
    lost: int
    gap_ms: float | None
    runs: int  # separate stretches of loss; more than one means traffic came and went

    @property
    def recovered(self) -> bool:
        return self.lost == 0 or self.gap_ms is not None


def measure(probes: Sequence[Probe], start: float, end: float | None = None) -> Gap:
    """The loss among probes sent in [start, end); recovery may be seen after `end`."""
    ordered = sorted(probes, key=lambda p: p.seq)
    window = [p for p in ordered if p.sent >= start and (end is None or p.sent < end)]
    lost = [p for p in window if p.lost]
    runs = 0
    previous_lost = False
    for probe in window:
        if probe.lost and not previous_lost:
            runs += 1
        previous_lost = probe.lost
    if not lost:
        return Gap(sent=len(window), lost=0, gap_ms=0.0, runs=0)
    last_lost = lost[-1].seq
    back = next((p for p in ordered if p.seq > last_lost and not p.lost), None)
    gap_ms = None if back is None else (back.sent - lost[0].sent) * 1000.0
    return Gap(sent=len(window), lost=len(lost), gap_ms=gap_ms, runs=runs)


def first_answer_after(probes: Iterable[Probe], moment: float) -> float | None:
    """When traffic was seen again: the answer time of the first probe sent after `moment`."""
    answered = [p for p in probes if p.sent >= moment and p.answered is not None]
    return min((p.answered for p in answered if p.answered is not None), default=None)


# --- is the bond ready? ------------------------------------------------------


def refusals(bond: BondState, port: str | None = None, method: str = Method.ADMIN) -> list[str]:
    """Why a drill on `bond` (failing `port`) must not run now; empty when it may.

    A drill takes one working port away on purpose, so the bond must have
    another one that works, or the drill becomes the outage it rehearses.
    """
    found: list[str] = []
    if not bond.up:
        found.append(f"{bond.name} is administratively down")
    elif not bond.carrier:
        found.append(f"{bond.name} has no carrier: no port of it works")
    if len(bond.ports) < 2:
        count = "no ports" if not bond.ports else f"only one port ({bond.ports[0].name})"
        found.append(f"{bond.name} has {count}: a failover needs at least two ports up")
    for member in bond.ports:
        if not member.up:
            found.append(f"port {member.name} is administratively down")
        elif member.mii_up is False:
            found.append(f"port {member.name} is down (MII down): the bond is already degraded")
    options = bond.options
    if options.get("miimon", 0) == 0 and options.get("arp_interval", 0) == 0:
        found.append(
            f"{bond.name} has neither MII (miimon 0) nor ARP monitoring: the kernel would"
            " never notice the failed port"
        )
    if bond.mode in ACTIVE_PORT_MODES and bond.active_port is None:
        found.append(f"{bond.name} has no active port")
    negotiation = lacp.verdict(bond)
    if negotiation is not None and not negotiation.negotiated:
        found.append(f"LACP is not negotiated on {bond.name}: {negotiation.verdict.meaning}")
    if port is not None and bond.port(port) is None:
        names = ", ".join(p.name for p in bond.ports) or "none"
        found.append(f"{port} is not a port of {bond.name} (its ports: {names})")
    elif (
        port is not None
        and bond.mode in ACTIVE_PORT_MODES
        and bond.active_port is not None
        and port != bond.active_port
    ):
        found.append(
            f"{port} is not the active port ({bond.active_port} is): failing a standby port"
            " tests no failover"
        )
    elif port is None and bond.mode not in ACTIVE_PORT_MODES:
        found.append(
            f"{bond.name} is {bond.mode.value}: every port carries traffic, so name the"
            " port to fail with --port"
        )
    if method not in Method.ALL:
        found.append(f"unknown method {method!r}: use {' or '.join(Method.ALL)}")
    return found


def port_to_fail(bond: BondState, port: str | None) -> str:
    """The port the first failover takes down: the one asked for, else the active one."""
    chosen = port or bond.active_port
    assert chosen is not None, "refusals() rules out a bond with neither"
    return chosen


# --- what to probe -------------------------------------------------------------


def default_target(bond: BondState) -> str | None:
    """The gateway on the bond: the `via` of its default route (or of one of its VLANs')."""
    for routes in (bond.routes, *(v.routes for v in bond.vlans)):
        gateway = _default_via(routes)
        if gateway is not None:
            return gateway
    return None


def _default_via(routes: Iterable[RouteSpec]) -> str | None:
    ordered = sorted(
        (r for r in routes if r.is_default and r.via and r.table is None),
        key=lambda r: (ipaddress.ip_network(r.to).version, r.metric or 0),
    )
    return ordered[0].via if ordered else None


def probe_device(bond: BondState, target: str) -> str:
    """The interface to send probes out of, so they cross this bond and nothing else.

    A VLAN on the bond when the target is in one of its subnets or behind its
    gateway; the bond itself otherwise.
    """
    address = ipaddress.ip_address(target)
    for vlan in bond.vlans:
        if any(address in ipaddress.ip_interface(a).network for a in vlan.addresses):
            return vlan.name
        if any(r.via == target for r in vlan.routes):
            return vlan.name
    return bond.name


def parse_interval(text: str) -> float:
    """`10ms`, `0.01s`, `0.01` (seconds) or `10` with a unit... -> seconds.

    A bare number is milliseconds when it is 1 or more ("10" means 10 ms, as
    people say it), seconds when it is below 1 ("0.01").
    """
    value = text.strip().lower()
    try:
        if value.endswith("ms"):
            seconds = float(value[:-2]) / 1000.0
        elif value.endswith("s"):
            seconds = float(value[:-1])
        else:
            number = float(value)
            seconds = number / 1000.0 if number >= 1 else number
    except ValueError as exc:
        raise ValueError(f"not an interval: {text!r} (write e.g. 10ms)") from exc
    if not 0.001 <= seconds <= 1.0:
        raise ValueError(f"interval {text!r} is outside 1ms..1s")
    return seconds


# --- the result ------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    """One forced failover: which port failed, where traffic went, what it cost.

    Times are milliseconds after the port was made to fail; None where not
    seen (no failover event in this mode, traffic never came back).
    """

    failed: str
    to: str | None  # the port the kernel made active; None in modes without one
    gap: Gap
    kernel_failover_ms: float | None  # IFLA_EVENT_BONDING_FAILOVER
    traffic_back_ms: float | None  # first answer to a probe sent after the failure
    rejoin_ms: float | None  # port restored -> MII up again
    restore: Gap  # probes lost while the port came back (and the bond switched back)

    def to_json(self) -> dict[str, Any]:
        return {
            "failed_port": self.failed,
            "new_active_port": self.to,
            "sent": self.gap.sent,
            "lost": self.gap.lost,
            "gap_ms": _ms(self.gap.gap_ms),
            "loss_runs": self.gap.runs,
            "kernel_failover_ms": _ms(self.kernel_failover_ms),
            "traffic_back_ms": _ms(self.traffic_back_ms),
            "rejoin_ms": _ms(self.rejoin_ms),
            "restore_sent": self.restore.sent,
            "restore_lost": self.restore.lost,
            "restore_gap_ms": _ms(self.restore.gap_ms),
        }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass(frozen=True)
class DrillResult:
    bond: str
    mode: str
    target: str
    device: str
    interval_ms: float
    method: str
    at: dt.datetime  # when the drill started, UTC
    legs: tuple[Leg, ...]
    sent: int  # every probe of the drill, warm-up included
    lost: int
    started_active: str | None
    ended_active: str | None
    ended_as_started: bool
    problems: tuple[str, ...] = field(default=())  # what went wrong; empty on success
    notes: tuple[str, ...] = field(default=())  # worth knowing, not wrong

    @property
    def ok(self) -> bool:
        return not self.problems and all(leg.gap.recovered for leg in self.legs)

    @property
    def worst_gap_ms(self) -> float | None:
        gaps = [leg.gap.gap_ms for leg in self.legs]
        if any(g is None for g in gaps):
            return None
        return max((g for g in gaps if g is not None), default=0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "bond": self.bond,
            "mode": self.mode,
            "target": self.target,
            "device": self.device,
            "interval_ms": round(self.interval_ms, 3),
            "method": self.method,
            "at": self.at.isoformat(timespec="seconds"),
            "legs": [leg.to_json() for leg in self.legs],
            "sent": self.sent,
            "lost": self.lost,
            "worst_gap_ms": _ms(self.worst_gap_ms),
            "started_active_port": self.started_active,
            "ended_active_port": self.ended_active,
            "ended_as_started": self.ended_as_started,
            "ok": self.ok,
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


def report_text(result: DrillResult) -> str:
    """A short report: one paragraph per failover, then the verdict."""
    lines = [
        f"{result.bond} ({result.mode}): failover drill, probing {result.target}"
        f" via {result.device} every {result.interval_ms:g} ms, ports failed by"
        f" {'setting them down' if result.method == Method.ADMIN else 'dropping carrier'}",
    ]
    for number, leg in enumerate(result.legs, 1):
        moved = f" -> {leg.to}" if leg.to else ""
        lines.append(f"  failover {number}: {leg.failed} failed{moved}")
        gap = leg.gap
        if gap.lost == 0:
            lines.append(f"    no probe lost of {gap.sent}")
        elif gap.gap_ms is None:
            lines.append(f"    {gap.lost} of {gap.sent} probes lost; traffic did not come back")
        else:
            extra = f" in {gap.runs} stretches" if gap.runs > 1 else ""
            lines.append(
                f"    {gap.gap_ms:.0f} ms gap: {gap.lost} of {gap.sent} probes lost{extra}"
            )
        timing = []
        if leg.kernel_failover_ms is not None:
            timing.append(f"kernel failover event after {leg.kernel_failover_ms:.0f} ms")
        if leg.traffic_back_ms is not None:
            timing.append(f"traffic back after {leg.traffic_back_ms:.0f} ms")
        if timing:
            lines.append(f"    {', '.join(timing)}")
        rejoin = (
            f"{leg.failed} back in {leg.rejoin_ms:.0f} ms"
            if leg.rejoin_ms is not None
            else (f"{leg.failed} did not rejoin")
        )
        lines.append(f"    {rejoin}; {leg.restore.lost} lost while it rejoined")
    lines.append(f"  probes: {result.sent} sent, {result.lost} lost")
    if result.ended_as_started:
        lines.append(f"  the bond ends as it started (active port {result.ended_active or '-'})")
    lines.extend(f"  note: {note}" for note in result.notes)
    lines.extend(f"  problem: {problem}" for problem in result.problems)
    lines.append("ok" if result.ok else "FAILED")
    return "\n".join(lines)


# --- the record status shows ---------------------------------------------------------


@dataclass(frozen=True)
class DrillSummary:
    """The last drill of a bond, as kept in the state directory for `bondctl status`."""

    bond: str
    at: str  # ISO 8601, UTC
    ok: bool
    worst_gap_ms: float | None
    lost: int
    legs: int

    @classmethod
    def of(cls, result: DrillResult) -> DrillSummary:
        return cls(
            bond=result.bond,
            at=result.at.isoformat(timespec="seconds"),
            ok=result.ok,
            worst_gap_ms=_ms(result.worst_gap_ms),
            lost=sum(leg.gap.lost for leg in result.legs),
            legs=len(result.legs),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "bond": self.bond,
            "at": self.at,
            "ok": self.ok,
            "worst_gap_ms": self.worst_gap_ms,
            "lost": self.lost,
            "legs": self.legs,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DrillSummary:
        gap = data.get("worst_gap_ms")
        return cls(
            bond=str(data["bond"]),
            at=str(data["at"]),
            ok=bool(data["ok"]),
            worst_gap_ms=None if gap is None else float(gap),
            lost=int(data.get("lost", 0)),
            legs=int(data.get("legs", 1)),
        )

    def describe(self) -> str:
        """`30 ms gap (3 lost), 2026-01-02 10:00 UTC`: the line `status` prints."""
        when = self.at.replace("T", " ").replace("+00:00", " UTC")
        if not self.ok:
            what = (
                "FAILED" if self.worst_gap_ms is None else f"failed, {self.worst_gap_ms:.0f} ms gap"
            )
        else:
            what = f"{self.worst_gap_ms or 0:.0f} ms gap"
        return f"{what} ({self.lost} lost), {when}"
