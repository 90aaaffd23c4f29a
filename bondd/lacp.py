"""Has an 802.3ad bond really negotiated LACP? The one answer bondd gives everywhere.

A non-zero partner MAC is not proof: partner MAC and aggregator ids appear
well before the ports are in service (FIELD-NOTES, "Classic traps"). The
rule used here is the field notes' one: on every port the actor and the
partner state both have sync, collecting and distributing set and neither is
defaulted or expired; every port is in the bond's active aggregator; and
that aggregator holds as many ports as the bond should have. Single bits
are tested, never whole state bytes: the partner's activity and timeout bits
follow the partner's own settings.

`bondctl status`, `bondctl lacp` and the transaction's LACP gate all call
`verdict()`, so they can never disagree. Pure: reads a `BondState`, nothing else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bondd.model import BondMode, BondState, PortState

# IEEE 802.1AX port state bits, as in ad_actor_oper_port_state.
ACTIVITY = 0x01
TIMEOUT = 0x02
AGGREGATION = 0x04
SYNC = 0x08
COLLECTING = 0x10
DISTRIBUTING = 0x20
DEFAULTED = 0x40
EXPIRED = 0x80
IN_SERVICE = SYNC | COLLECTING | DISTRIBUTING

ZERO_MAC = "00:00:00:00:00:00"


def state_words(state: int) -> tuple[str, ...]:
    """One port state byte as words, every bit accounted for.

    Bits that mean "something is wrong" when set (defaulted, expired) or when
    clear (sync) are spelled so that both readings are explicit.
    """
    return (
        "active" if state & ACTIVITY else "passive",
        "short-timeout" if state & TIMEOUT else "long-timeout",
        "aggregatable" if state & AGGREGATION else "individual",
        "in-sync" if state & SYNC else "out-of-sync",
        *(("collecting",) if state & COLLECTING else ()),
        *(("distributing",) if state & DISTRIBUTING else ()),
        *(("defaulted",) if state & DEFAULTED else ()),
        *(("expired",) if state & EXPIRED else ()),
    )


def in_service(state: int | None) -> bool:
    """Sync, collecting and distributing set; neither defaulted nor expired."""
    return (
        state is not None and state & IN_SERVICE == IN_SERVICE and not state & (DEFAULTED | EXPIRED)
    )


class Verdict(enum.StrEnum):
    """Where an 802.3ad bond stands; `.meaning` and `.check` say it to a person."""

    NEGOTIATED = "negotiated"
    PARTNER_SILENT = "partner-silent"
    SPLIT = "split"
    PORT_DOWN = "port-down"
    WAITING = "waiting"

    @property
    def meaning(self) -> str:
        return _MEANING[self]

    @property
    def check(self) -> str:
        """What to look at on the switch (or cable); empty when all is well."""
        return _CHECK[self]


_MEANING = {
    Verdict.NEGOTIATED: "every port is in service in one aggregator with the partner",
    Verdict.PARTNER_SILENT: "no LACPDU from the other end: it does not speak LACP"
    " (or the bond has just started)",
    Verdict.SPLIT: "the ports landed in different aggregators: they reach different partners",
    Verdict.PORT_DOWN: "a port has no link, so LACP cannot run on it",
    Verdict.WAITING: "the partner answers but the ports are not (or no longer) in sync",
}
_CHECK = {
    Verdict.NEGOTIATED: "",
    Verdict.PARTNER_SILENT: "configure an LACP port-channel (mode active) on the switch ports",
    Verdict.SPLIT: "put all the switch ports in one port-channel (one LAG, one switch or MLAG)",
    Verdict.PORT_DOWN: "check the cable and that the switch port is enabled",
    Verdict.WAITING: "wait a few LACPDU periods; if it persists, compare speed, duplex and"
    " LACP rate with the switch port-channel",
}


@dataclass(frozen=True)
class Negotiation:
    """The verdict for one bond, with the facts behind it (one line each)."""

    bond: str
    verdict: Verdict
    reasons: tuple[str, ...] = ()

    @property
    def negotiated(self) -> bool:
        return self.verdict is Verdict.NEGOTIATED


def verdict(bond: BondState, expected_ports: int | None = None) -> Negotiation | None:
    """The LACP verdict of an 802.3ad bond; None for any other mode.

    `expected_ports` is how many ports the bond should have (the configured
    count for the gate); by default, the ports the kernel shows.
    """
    if bond.mode is not BondMode.IEEE_802_3AD:
        return None
    expected = len(bond.ports) if expected_ports is None else expected_ports
    info = bond.ad_info
    if not bond.ports:
        return Negotiation(bond.name, Verdict.WAITING, ("the bond has no ports",))
    if not bond.up:
        return Negotiation(bond.name, Verdict.WAITING, ("the bond is down",))
    if info is None:
        return Negotiation(bond.name, Verdict.WAITING, ("the kernel has no active aggregator yet",))
    down = [p.name for p in bond.ports if p.mii_up is False]
    if down:
        return Negotiation(
            bond.name, Verdict.PORT_DOWN, tuple(f"port {name}: MII down" for name in down)
        )
    defaulted = [p.name for p in bond.ports if (p.ad_actor_state or 0) & DEFAULTED]
    if info.partner_mac == ZERO_MAC or len(defaulted) == len(bond.ports):
        reasons = [f"port {name}: using defaulted partner information" for name in defaulted]
        if info.partner_mac == ZERO_MAC:
            reasons.insert(0, f"partner MAC is {ZERO_MAC}")
        return Negotiation(bond.name, Verdict.PARTNER_SILENT, tuple(reasons))
    elsewhere = [p for p in bond.ports if p.ad_aggregator_id != info.aggregator]
    if elsewhere:
        return Negotiation(
            bond.name,
            Verdict.SPLIT,
            tuple(
                f"port {p.name}: aggregator {p.ad_aggregator_id}, active is {info.aggregator}"
                for p in elsewhere
            ),
        )
    reasons = [reason for p in bond.ports for reason in _port_problems(p)]
    if info.num_ports != expected:
        reasons.append(f"the active aggregator has {info.num_ports} of {expected} ports")
    if reasons:
        return Negotiation(bond.name, Verdict.WAITING, tuple(reasons))
    return Negotiation(bond.name, Verdict.NEGOTIATED)


def _port_problems(port: PortState) -> list[str]:
    problems = []
    for side, state in (("actor", port.ad_actor_state), ("partner", port.ad_partner_state)):
        if state is None:
            problems.append(f"port {port.name}: {side} state unknown")
        elif not in_service(state):
            problems.append(
                f"port {port.name}: {side} state {state} ({' '.join(state_words(state))})"
            )
    return problems
