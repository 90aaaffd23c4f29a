"""`bondctl status` as a person reads it (80 columns) and as JSON (docs/status-json.md).

Admins read /proc/net/bonding/BOND by eye and miss what matters: a zero LACP
partner, a port stuck in another aggregator, a bond that drifted from its
configuration. This module turns the kernel's view (an `ActualState`), the
ownership record and the drift into one `StatusReport`, then prints it.
Pure: every fact is handed in; no kernel, no files, no terminal probing.
"""

from __future__ import annotations

import dataclasses
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from bondd import lacp
from bondd.drill.measure import DrillSummary
from bondd.model import ActualState, BondMode, BondState, OptionValue, PortState, RouteSpec
from bondd.options import BOND_OPTIONS, default_for
from bondd.plan.diff import Difference
from bondd.plan.ops import route_text
from bondd.plan.ownership import Ownership

JSON_VERSION = 1
WIDTH = 80
LABEL = 10  # width of the left-hand labels in the text form

# Shown for every bond of the mode even at their defaults: what an admin
# checks first. Anything else appears only when it is not at its default.
_KEY_OPTIONS: Mapping[BondMode, tuple[str, ...]] = {
    BondMode.ACTIVE_BACKUP: ("miimon", "primary", "primary_reselect", "fail_over_mac"),
    BondMode.IEEE_802_3AD: ("miimon", "lacp_rate", "xmit_hash_policy", "ad_select"),
    BondMode.BALANCE_XOR: ("miimon", "xmit_hash_policy"),
    BondMode.BALANCE_TLB: ("miimon", "xmit_hash_policy"),
    BondMode.BALANCE_ALB: ("miimon", "xmit_hash_policy"),
    BondMode.BALANCE_RR: ("miimon",),
    BondMode.BROADCAST: ("miimon",),
}
Speed = tuple[int | None, str | None]  # Mbit/s and duplex, None where unknown


@dataclass(frozen=True)
class Drift:
    """The configuration against the kernel: what differs, or why that is unknown."""

    configured: frozenset[str] = frozenset()  # bonds the configuration names
    differences: tuple[Difference, ...] = ()
    error: str | None = None  # the configuration could not be read or matched to this host
    absent: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # bond -> port ids

    def of(self, bond: str) -> tuple[Difference, ...] | None:
        """The bond's differences; None when unknown or the bond is not configured."""
        if self.error is not None or bond not in self.configured:
            return None
        return tuple(d for d in self.differences if d.bond == bond)


@dataclass(frozen=True)
class PendingInfo:
    """A transaction in flight: its id, phase and deadline (wall-clock seconds)."""

    txn: str
    phase: str
    deadline: float


@dataclass(frozen=True)
class StatusReport:
    actual: ActualState
    ownership: Ownership | None  # None: the state directory could not be read
    drift: Drift
    speeds: Mapping[str, Speed]
    only: str | None = None  # show this bond only
    ownership_error: str | None = None
    drills: Mapping[str, DrillSummary] = dataclasses.field(default_factory=dict)  # last per bond
    pending: PendingInfo | None = None  # a transaction applied but not yet committed

    def managed(self, bond: str) -> str:
        if self.ownership is None:
            return "unknown"
        if bond in self.ownership.owned:
            return "owned"
        if bond in self.ownership.adopted:
            return "adopted"
        return "unmanaged"

    @property
    def bonds(self) -> tuple[BondState, ...]:
        """The kernel bonds shown: all of them, or the one asked for."""
        return tuple(b for b in self.actual.bonds if self.only in (None, b.name))

    @property
    def missing(self) -> tuple[str, ...]:
        """Configured bonds the kernel does not have (the one asked for, if any)."""
        have = {b.name for b in self.actual.bonds}
        return tuple(
            sorted(b for b in self.drift.configured if b not in have and self.only in (None, b))
        )


# --- JSON --------------------------------------------------------------------


def to_json(report: StatusReport) -> dict[str, object]:
    """The stable machine form; every field is described in docs/status-json.md."""
    return {
        "version": JSON_VERSION,
        "config": {
            "ok": report.drift.error is None,
            "error": report.drift.error,
            "bonds": sorted(report.drift.configured),
        },
        "state_error": report.ownership_error,
        "pending": None
        if report.pending is None
        else {
            "txn": report.pending.txn,
            "phase": report.pending.phase,
            "deadline": report.pending.deadline,
        },
        "bonds": [_bond_json(report, b) for b in report.bonds],
        "missing": list(report.missing),
    }


def _bond_json(report: StatusReport, bond: BondState) -> dict[str, object]:
    negotiation = lacp.verdict(bond)
    drift = report.drift.of(bond.name)
    return {
        "name": bond.name,
        "mode": bond.mode.value,
        "managed": report.managed(bond.name),
        "in_config": bond.name in report.drift.configured,
        "up": bond.up,
        "carrier": bond.carrier,
        "mtu": bond.mtu,
        "macaddress": bond.macaddress,
        "options": {name: _jsonable(value) for name, value in bond.options.items()},
        "active_port": bond.active_port,
        "ports": [_port_json(report, port) for port in bond.ports],
        "absent_ports": list(report.drift.absent.get(bond.name, ())),
        # An 802.3ad bond always has a verdict; the aggregator fields are null
        # until the kernel has an active aggregator (it then sends none).
        "lacp": None
        if negotiation is None
        else {
            "aggregator": None if (ad := bond.ad_info) is None else ad.aggregator,
            "num_ports": None if ad is None else ad.num_ports,
            "actor_key": None if ad is None else ad.actor_key,
            "partner_key": None if ad is None else ad.partner_key,
            "partner_mac": None if ad is None else ad.partner_mac,
            "verdict": negotiation.verdict.value,
            "meaning": negotiation.verdict.meaning,
            "check": negotiation.verdict.check,
            "reasons": list(negotiation.reasons),
        },
        "addresses": list(bond.addresses),
        "routes": [_route_json(r) for r in bond.routes],
        "vlans": [{"name": v.name, "id": v.id, "addresses": list(v.addresses)} for v in bond.vlans],
        "drift": None if drift is None else [_difference_json(d) for d in drift],
        "last_failover_test": None
        if (drill := report.drills.get(bond.name)) is None
        else drill.to_json(),
    }


def _port_json(report: StatusReport, port: PortState) -> dict[str, object]:
    speed, duplex = report.speeds.get(port.name, (None, None))
    lacp_part = None
    if port.ad_aggregator_id is not None or port.ad_actor_state is not None:
        lacp_part = {
            "aggregator_id": port.ad_aggregator_id,
            "actor_state": port.ad_actor_state,
            "actor_state_words": _words(port.ad_actor_state),
            "partner_state": port.ad_partner_state,
            "partner_state_words": _words(port.ad_partner_state),
        }
    return {
        "name": port.name,
        "mii": "up" if port.mii_up else "down",
        "state": "backup" if port.backup else "active",
        "link_failures": port.link_failures,
        "carrier": port.carrier,
        "speed_mbps": speed,
        "duplex": duplex,
        "perm_macaddress": port.perm_macaddress,
        "lacp": lacp_part,
    }


def _words(state: int | None) -> list[str] | None:
    return None if state is None else list(lacp.state_words(state))


def _route_json(route: RouteSpec) -> dict[str, object]:
    return dataclasses.asdict(route)


def _difference_json(difference: Difference) -> dict[str, object]:
    found = difference.to_json()
    del found["bond"]
    return found


def _jsonable(value: OptionValue) -> object:
    return list(value) if isinstance(value, tuple) else value


# --- text --------------------------------------------------------------------

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "bold": "1"}


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, colour: str) -> str:
        if not self.enabled or not text:
            return text
        return f"\033[{_COLOURS[colour]}m{text}\033[0m"


def to_text(report: StatusReport, colour: bool = False) -> str:
    paint = _Paint(colour)
    lines: list[str] = []
    if report.drift.error is not None:
        lines += _wrap("config", f"{paint('unreadable', 'red')}: {report.drift.error}")
    if report.ownership_error is not None:
        lines += _wrap("state", f"{paint('unreadable', 'red')}: {report.ownership_error}")
    if report.pending is not None:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(report.pending.deadline))
        what = "waiting for confirmation" if report.pending.phase == "waiting" else "being applied"
        lines += _wrap(
            "pending",
            f"{paint(f'transaction {report.pending.txn}', 'yellow')}"
            f" {what}; rolled back at {when} unless `bondctl confirm`",
        )
    if not report.bonds and not report.missing:
        lines.append("no bonds in the kernel")
    for bond in report.bonds:
        if lines:
            lines.append("")
        lines += _bond_text(report, bond, paint)
    for name in report.missing:
        if lines:
            lines.append("")
        lines += [
            f"{paint(name, 'bold')}  {paint('missing', 'red')}",
            *_wrap("drift", "in the configuration, not in the kernel (run bondctl apply)"),
        ]
    return "\n".join(lines)


def _bond_text(report: StatusReport, bond: BondState, paint: _Paint) -> list[str]:
    state = (
        paint("up", "green")
        if bond.up and bond.carrier
        else paint("up, no carrier" if bond.up else "down", "red")
    )
    lines = [f"{paint(bond.name, 'bold')}  {bond.mode.value}  {state}  {report.managed(bond.name)}"]
    lines += _wrap("options", "  ".join(_keep(f"{k} {_value(v)}") for k, v in _shown_options(bond)))
    layer3 = [*bond.addresses, *(f"route {route_text(r)}" for r in bond.routes)]
    layer3 += [f"vlan {v.name} (id {v.id})" for v in bond.vlans]
    if layer3:
        lines += _wrap("network", ", ".join(layer3))
    if bond.mode in (BondMode.ACTIVE_BACKUP, BondMode.BALANCE_TLB, BondMode.BALANCE_ALB):
        lines += _wrap("active", bond.active_port or paint("none", "red"))
    negotiation = lacp.verdict(bond)
    if negotiation is not None:
        lines += _lacp_text(bond, negotiation, paint)
    lines += _ports_text(report, bond, paint)
    for port in report.drift.absent.get(bond.name, ()):
        lines += _wrap("", paint(f"port {port}: configured, not present", "yellow"))
    lines += _drift_text(report, bond, paint)
    drill = report.drills.get(bond.name)
    if drill is not None:
        text = f"last failover test: {drill.describe()}"
        lines += _wrap("failover", text if drill.ok else paint(text, "red"))
    return lines


def _shown_options(bond: BondState) -> list[tuple[str, OptionValue]]:
    key = _KEY_OPTIONS[bond.mode]
    shown = []
    for option in BOND_OPTIONS:
        name = option.kernel_name
        if name == "mode" or name not in bond.options or bond.mode not in option.modes:
            continue
        value = bond.options[name]
        if name in key or value != default_for(option, bond.options):
            if name == "primary" and value == "":
                continue
            shown.append((name, value))
    return shown


def _value(value: OptionValue) -> str:
    if isinstance(value, tuple):
        return ",".join(value) or "(none)"
    return str(value) if value != "" else "(none)"


def _lacp_text(bond: BondState, negotiation: lacp.Negotiation, paint: _Paint) -> list[str]:
    colour = {
        lacp.Verdict.NEGOTIATED: "green",
        lacp.Verdict.WAITING: "yellow",
    }.get(negotiation.verdict, "red")
    lines = _wrap(
        "lacp", f"{paint(negotiation.verdict.value, colour)}: {negotiation.verdict.meaning}"
    )
    for reason in negotiation.reasons:
        lines += _wrap("", reason)
    if negotiation.verdict.check:
        lines += _wrap("", f"check: {negotiation.verdict.check}")
    info = bond.ad_info
    if info is not None:
        lines += _wrap(
            "partner",
            f"{info.partner_mac} key {info.partner_key}; aggregator {info.aggregator}"
            f" with {info.num_ports} port{'s' if info.num_ports != 1 else ''},"
            f" actor key {info.actor_key}",
        )
    return lines


def _ports_text(report: StatusReport, bond: BondState, paint: _Paint) -> list[str]:
    if not bond.ports:
        return _wrap("ports", paint("none", "red"))
    width = max(4, *(len(p.name) for p in bond.ports))
    lines = [f"  {'port':<{width}}  mii   state   fails  speed"]
    for port in bond.ports:
        speed, duplex = report.speeds.get(port.name, (None, None))
        speed_text = f"{speed}Mb/s" if speed else "unknown"
        if duplex:
            speed_text += f" {duplex}"
        mii = paint("up  ", "green") if port.mii_up else paint("down", "red")
        role = "backup" if port.backup else "active"
        agg = f"  agg {port.ad_aggregator_id}" if port.ad_aggregator_id is not None else ""
        lines.append(
            f"  {port.name:<{width}}  {mii}  {role:<6}  {port.link_failures:>5}  {speed_text}{agg}"
        )
        for side, state in (("actor", port.ad_actor_state), ("partner", port.ad_partner_state)):
            if state is None:
                continue
            words = " ".join(lacp.state_words(state))
            if not lacp.in_service(state):
                words = paint(words, "yellow")
            lines += textwrap.wrap(
                f"{side} {state:>3}: {words}",
                width=WIDTH,
                initial_indent=" " * (width + 4),
                subsequent_indent=" " * (width + 17),
            )
    return lines


def _drift_text(report: StatusReport, bond: BondState, paint: _Paint) -> list[str]:
    if report.drift.error is not None:
        return _wrap("drift", "unknown: the configuration could not be read")
    if bond.name not in report.drift.configured:
        return _wrap("drift", "not in the configuration")
    found = report.drift.of(bond.name) or ()
    if not found:
        return _wrap("drift", paint("none", "green") + ": matches the configuration")
    lines: list[str] = []
    for number, difference in enumerate(found):
        text = difference.describe().removeprefix(f"{bond.name} ")
        lines += _wrap("drift" if number == 0 else "", paint(text, "yellow"))
    return lines


_NBSP = "\u00a0"


def _keep(text: str) -> str:
    """Keep `text` on one line when wrapped (textwrap breaks only at ASCII white space)."""
    return text.replace(" ", _NBSP)


def _wrap(label: str, text: str) -> list[str]:
    """`  label     text`, continued under the text, within WIDTH (colour codes aside)."""
    lines = textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=f"  {label:<{LABEL}}",
        subsequent_indent=" " * (LABEL + 2),
        break_on_hyphens=False,
    ) or [f"  {label}"]
    return [line.replace(_NBSP, " ") for line in lines]
