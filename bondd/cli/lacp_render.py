"""`bondctl lacp` as facts per port, and what changed between two looks.

"If the partner MAC is all zeros, the switch isn't speaking LACP" is half
the truth: each port has its own partner, and a port cabled to another
switch (or another port-channel) shows a different partner MAC or key than
its siblings. This module joins the kernel's bond view (netlink: states,
aggregators) with each port's partner from /proc/net/bonding, gives every
port a partner status in words, reuses `bondd.lacp.verdict` for the bond
(the same verdict `status` prints and the transaction's LACP gate uses),
and diffs two snapshots into the changes `--watch` prints.
Pure: every fact is handed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from bondd import lacp
from bondd.kernel.procbonding import ProcBond
from bondd.model import BondState

JSON_VERSION = 1
# The partner's information expires after 3 LACPDU periods of the actor's own rate.
TIMEOUT_SECONDS = {"fast": 3, "slow": 90}


class PartnerStatus:
    OK = "ok"  # LACPDUs arrive
    EXPIRED = "expired"  # none lately; the port will fall back to defaults
    LOST = "lost"  # none within the timeout: defaulted partner information
    NO_LINK = "no-link"


@dataclass(frozen=True)
class PortView:
    name: str
    mii_up: bool
    aggregator_id: int | None
    actor_state: int | None
    partner_state: int | None
    partner_mac: str | None
    partner_key: int | None
    partner: str  # a PartnerStatus
    actor_churn: str | None = None
    partner_churn: str | None = None
    actor_churned: int | None = None
    partner_churned: int | None = None

    def partner_text(self) -> str:
        if self.partner == PartnerStatus.OK:
            return f"{self.partner_mac} key {self.partner_key}"
        if self.partner == PartnerStatus.EXPIRED:
            return "expired: no LACPDU lately"
        if self.partner == PartnerStatus.LOST:
            return "lost: no LACPDU within the timeout (defaulted)"
        return "no link"

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "mii": "up" if self.mii_up else "down",
            "aggregator_id": self.aggregator_id,
            "actor_state": self.actor_state,
            "actor_state_words": _words(self.actor_state),
            "partner_state": self.partner_state,
            "partner_state_words": _words(self.partner_state),
            "partner": self.partner,
            "partner_mac": self.partner_mac,
            "partner_key": self.partner_key,
            "actor_churn": self.actor_churn,
            "partner_churn": self.partner_churn,
            "actor_churned": self.actor_churned,
            "partner_churned": self.partner_churned,
        }


@dataclass(frozen=True)
class BondView:
    name: str
    lacp_rate: str
    negotiation: lacp.Negotiation
    aggregator: int | None
    partner_mac: str | None
    partner_key: int | None
    ports: tuple[PortView, ...]
    odd_partner: tuple[str, ...]  # ports whose partner differs from the others'

    @property
    def timeout(self) -> int:
        return TIMEOUT_SECONDS.get(self.lacp_rate, 90)

    def port(self, name: str) -> PortView | None:
        return next((p for p in self.ports if p.name == name), None)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "lacp_rate": self.lacp_rate,
            "timeout_seconds": self.timeout,
            "verdict": self.negotiation.verdict.value,
            "meaning": self.negotiation.verdict.meaning,
            "check": self.negotiation.verdict.check,
            "reasons": list(self.negotiation.reasons),
            "aggregator": self.aggregator,
            "partner_mac": self.partner_mac,
            "partner_key": self.partner_key,
            "ports": [p.to_json() for p in self.ports],
            "different_partner": list(self.odd_partner),
        }


def _words(state: int | None) -> list[str] | None:
    return None if state is None else list(lacp.state_words(state))


def build(bond: BondState, proc: ProcBond | None) -> BondView | None:
    """The LACP view of one bond; None unless it is 802.3ad."""
    negotiation = lacp.verdict(bond)
    if negotiation is None:
        return None
    ports = []
    for port in bond.ports:
        details = proc.port(port.name) if proc is not None else None
        mac = details.partner.system_mac if details else None
        key = details.partner.key if details else None
        actor = port.ad_actor_state
        if port.mii_up is False:
            status = PartnerStatus.NO_LINK
        elif (actor or 0) & lacp.DEFAULTED or mac in (None, lacp.ZERO_MAC):
            status = PartnerStatus.LOST
        elif (actor or 0) & lacp.EXPIRED:
            status = PartnerStatus.EXPIRED
        else:
            status = PartnerStatus.OK
        ports.append(
            PortView(
                name=port.name,
                mii_up=bool(port.mii_up),
                aggregator_id=port.ad_aggregator_id,
                actor_state=actor,
                partner_state=port.ad_partner_state,
                partner_mac=mac,
                partner_key=key,
                partner=status,
                actor_churn=details.actor_churn if details else None,
                partner_churn=details.partner_churn if details else None,
                actor_churned=details.actor_churned if details else None,
                partner_churned=details.partner_churned if details else None,
            )
        )
    info = bond.ad_info
    return BondView(
        name=bond.name,
        lacp_rate=str(bond.options.get("lacp_rate", "slow")),
        negotiation=negotiation,
        aggregator=info.aggregator if info else None,
        partner_mac=info.partner_mac if info else None,
        partner_key=info.partner_key if info else None,
        ports=tuple(ports),
        odd_partner=_odd_partner(ports),
    )


def _odd_partner(ports: list[PortView]) -> tuple[str, ...]:
    """Ports that hear a partner other than the one most ports hear."""
    heard = [(p.name, (p.partner_mac, p.partner_key)) for p in ports if p.partner == "ok"]
    if len({who for _, who in heard}) < 2:
        return ()
    counts: dict[tuple[str | None, int | None], int] = {}
    for _, who in heard:
        counts[who] = counts.get(who, 0) + 1
    # The partner most ports hear; on a tie, the first port's.
    main = max(counts, key=lambda who: (counts[who], -[w for _, w in heard].index(who)))
    return tuple(name for name, who in heard if who != main)


# --- changes over time ------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    bond: str
    port: str | None
    field: str
    old: object
    new: object
    text: str

    def to_json(self) -> dict[str, object]:
        return {
            "bond": self.bond,
            "port": self.port,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "text": self.text,
        }


def changes(old: BondView | None, new: BondView | None, name: str) -> list[Change]:
    """What differs between two looks at one bond, in the order a person reads it."""
    if old is None and new is None:
        return []
    if old is None or new is None:
        gone = new is None
        return [
            Change(
                name,
                None,
                "bond",
                None if not gone else "802.3ad",
                None if gone else "802.3ad",
                f"{name}: {'gone (or no longer 802.3ad)' if gone else 'appeared'}",
            )
        ]
    return [
        *_bond_changes(old, new, name),
        *_port_set_changes(old, new, name),
        *_new_odd_partners(old, new, name),
    ]


def _bond_changes(old: BondView, new: BondView, name: str) -> list[Change]:
    """The negotiation's verdict and the active aggregator."""
    found: list[Change] = []
    if old.negotiation.verdict is not new.negotiation.verdict:
        found.append(
            Change(
                name,
                None,
                "verdict",
                old.negotiation.verdict.value,
                new.negotiation.verdict.value,
                f"{name}: {old.negotiation.verdict.value} -> {new.negotiation.verdict.value}:"
                f" {new.negotiation.verdict.meaning}",
            )
        )
    if old.aggregator != new.aggregator:
        found.append(
            Change(
                name,
                None,
                "aggregator",
                old.aggregator,
                new.aggregator,
                f"{name}: active aggregator {old.aggregator} -> {new.aggregator}",
            )
        )
    return found


def _port_set_changes(old: BondView, new: BondView, name: str) -> list[Change]:
    """Ports added, changed (each one's own differences) and removed."""
    found: list[Change] = []
    for port in new.ports:
        before = old.port(port.name)
        if before is None:
            found.append(Change(name, port.name, "port", None, port.name, f"{port.name}: added"))
            continue
        found += _port_changes(name, before, port, new.timeout)
    for port in old.ports:
        if new.port(port.name) is None:
            found.append(Change(name, port.name, "port", port.name, None, f"{port.name}: removed"))
    return found


def _new_odd_partners(old: BondView, new: BondView, name: str) -> list[Change]:
    """Ports whose partner newly differs from the others': cabled to another switch."""
    found: list[Change] = []
    for port_name in new.odd_partner:
        if port_name not in old.odd_partner:
            view = new.port(port_name)
            assert view is not None
            found.append(
                Change(
                    name,
                    port_name,
                    "different_partner",
                    False,
                    True,
                    f"{port_name}: partner {view.partner_text()} differs from the other ports':"
                    " cabled to another switch or port-channel",
                )
            )
    return found


def _port_changes(bond: str, old: PortView, new: PortView, timeout: int) -> list[Change]:
    found: list[Change] = []
    name = new.name

    def add(what: str, before: object, after: object, text: str) -> None:
        found.append(Change(bond, name, what, before, after, f"{name}: {text}"))

    if old.mii_up != new.mii_up:
        add("mii", _updown(old.mii_up), _updown(new.mii_up), f"link {_updown(new.mii_up)}")
    if old.partner != new.partner:
        if new.partner == PartnerStatus.LOST:
            text = f"partner lost: no LACPDU within {timeout}s, using defaulted partner information"
        elif new.partner == PartnerStatus.OK:
            text = f"partner {new.partner_text()}"
        else:
            text = f"partner {new.partner_text()}"
        add("partner", old.partner, new.partner, text)
    elif new.partner == PartnerStatus.OK and (old.partner_mac, old.partner_key) != (
        new.partner_mac,
        new.partner_key,
    ):
        add(
            "partner_id",
            f"{old.partner_mac} key {old.partner_key}",
            f"{new.partner_mac} key {new.partner_key}",
            f"partner changed: {old.partner_text()} -> {new.partner_text()}",
        )
    if old.aggregator_id != new.aggregator_id:
        add(
            "aggregator_id",
            old.aggregator_id,
            new.aggregator_id,
            f"aggregator {old.aggregator_id} -> {new.aggregator_id}",
        )
    for side in ("actor", "partner"):
        before, after = getattr(old, f"{side}_state"), getattr(new, f"{side}_state")
        if before != after:
            words = " ".join(lacp.state_words(after)) if after is not None else "unknown"
            add(f"{side}_state", before, after, f"{side} state {before} -> {after}: {words}")
        churn_before, churn_after = getattr(old, f"{side}_churn"), getattr(new, f"{side}_churn")
        if churn_before != churn_after:
            add(f"{side}_churn", churn_before, churn_after, f"{side} churn {churn_after}")
        count_before = getattr(old, f"{side}_churned")
        count_after = getattr(new, f"{side}_churned")
        if count_before != count_after:
            add(
                f"{side}_churned",
                count_before,
                count_after,
                f"{side} churned count {count_before} -> {count_after}",
            )
    return found


def _updown(value: bool) -> str:
    return "up" if value else "down"


# --- text ------------------------------------------------------------------------------


def to_text(view: BondView) -> str:
    verdict = view.negotiation.verdict
    lines = [
        f"{view.name}  802.3ad  lacp_rate {view.lacp_rate}"
        f" (partner information expires after {view.timeout}s without LACPDUs)",
        f"  verdict     {verdict.value}: {verdict.meaning}",
        *(f"              {reason}" for reason in view.negotiation.reasons),
    ]
    if verdict.check:
        lines.append(f"  check       {verdict.check}")
    if view.aggregator is not None:
        lines.append(
            f"  aggregator  {view.aggregator}, partner {view.partner_mac} key {view.partner_key}"
        )
    width = max(4, *(len(p.name) for p in view.ports)) if view.ports else 4
    lines.append(f"  {'port':<{width}}  mii   agg  partner")
    for port in view.ports:
        odd = "  <- differs from the other ports" if port.name in view.odd_partner else ""
        agg = "-" if port.aggregator_id is None else str(port.aggregator_id)
        mii = _updown(port.mii_up)
        lines.append(f"  {port.name:<{width}}  {mii:<4}  {agg:>3}  {port.partner_text()}{odd}")
        pad = " " * (width + 4)
        for side in ("actor", "partner"):
            state = getattr(port, f"{side}_state")
            if state is not None:
                lines.append(f"{pad}{side:<8}{state:>4}: {' '.join(lacp.state_words(state))}")
        if port.actor_churn or port.partner_churn:
            lines.append(
                f"{pad}churn   actor {port.actor_churn} ({port.actor_churned}),"
                f" partner {port.partner_churn} ({port.partner_churned})"
            )
    if view.odd_partner:
        lines.append(
            f"  cabling     {', '.join(view.odd_partner)} reach(es) another partner than the"
            " other ports: check which switch and port-channel each cable goes to"
        )
    return "\n".join(lines)
