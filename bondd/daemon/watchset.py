"""What the daemon watches, and which part of the host a burst of events dirtied.

Kernel events arrive for every interface on the host. The watch set maps
each interface bondd manages (a bond, its ports, its VLANs, the ports the
committed config names) to its bond, so a burst of events becomes the set
of bonds, or single VLANs of a bond, to repair (`Dirty`). Only what cannot
be pinned to one bond (a lost event, a new link that may be an absent port
matched by glob or MAC) dirties the whole host. Pure: no kernel, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bondd.kernel.events import KernelEvent
from bondd.model import ActualState


@dataclass(frozen=True)
class Scope:
    """One bond to repair; `vlans` None means the bond with all its VLANs."""

    bond: str
    vlans: frozenset[str] | None = None

    def merged(self, other: Scope) -> Scope:
        if self.vlans is None or other.vlans is None:
            return Scope(self.bond)
        return Scope(self.bond, self.vlans | other.vlans)


@dataclass
class Dirty:
    """What the next repair pass must look at."""

    full: bool = False
    scopes: dict[str, Scope] = field(default_factory=dict)

    def add(self, scope: Scope) -> None:
        known = self.scopes.get(scope.bond)
        self.scopes[scope.bond] = scope if known is None else known.merged(scope)

    def __bool__(self) -> bool:
        return self.full or bool(self.scopes)


@dataclass(frozen=True)
class Names:
    """What a bond's committed config names: exact port names and VLANs."""

    ports: frozenset[str] = frozenset()
    vlans: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Member:
    bond: str
    name: str
    vlan: bool = False


@dataclass
class WatchSet:
    """Managed bonds and everything hanging off them, by ifindex and by name."""

    bonds: set[str] = field(default_factory=set)
    by_index: dict[int, Member] = field(default_factory=dict)
    by_name: dict[str, Member] = field(default_factory=dict)
    seen: dict[int, tuple[bool, int]] = field(default_factory=dict)  # up, master
    # Configured ports not present, per bond: any new link (or a rename) may be one.
    absent: dict[str, tuple[str, ...]] = field(default_factory=dict)
    link_names: set[str] = field(default_factory=set)

    @classmethod
    def of(
        cls,
        actual: ActualState,
        bonds: Iterable[str],
        configured: Mapping[str, Names],
        absent: dict[str, tuple[str, ...]],
    ) -> WatchSet:
        """From a whole-host read. `configured`: per bond, the names its config gives
        (exact port names, VLANs), watched even while they do not exist."""
        watch = cls(bonds=set(bonds), absent=absent)
        watch.link_names = {link.name for link in actual.links}
        for bond in watch.bonds:
            watch.update(actual, Scope(bond), configured.get(bond, Names()))
        return watch

    def update(self, actual: ActualState, scope: Scope, configured: Names = Names()) -> None:
        """Forget what a scope held and learn it again from a read covering it."""
        bond = scope.bond
        covered = self._covered(scope)
        for index in [i for i, m in self.by_index.items() if covered(m)]:
            del self.by_index[index]
            self.seen.pop(index, None)
        for name in [n for n, m in self.by_name.items() if covered(m)]:
            del self.by_name[name]
        state = actual.bond(bond)
        vlans = set(configured.vlans) | ({v.name for v in state.vlans} if state else set())
        members = {bond, *configured.ports, *vlans}
        if state is not None:
            members |= {p.name for p in state.ports}
        index_of = {b.name: b.ifindex for b in actual.bonds}
        link_index = {**{link.name: link.ifindex for link in actual.links}, **index_of}
        for name in members:
            member = Member(bond, name, vlan=name in vlans)
            if not covered(member):
                continue
            self.by_name[name] = member
            if name in link_index:
                self.by_index[link_index[name]] = member
        for link in actual.links:
            self.link_names.add(link.name)
            known = self.by_index.get(link.ifindex)
            if known is not None and known.bond == bond:
                master = index_of.get(link.master or "", 0)
                self.seen[link.ifindex] = (link.up, master)
        if state is not None and covered(Member(bond, bond)):
            self.seen[state.ifindex] = (state.up, 0)

    def _covered(self, scope: Scope) -> _Covers:
        return _Covers(scope)

    def dirtied(self, events: Iterable[KernelEvent], lost: bool) -> tuple[Dirty, list[str]]:
        """What a burst of events dirtied, and the managed bonds that failed over."""
        dirty = Dirty(full=lost)
        failovers: list[str] = []
        for ev in events:
            member = self.by_index.get(ev.ifindex) or self.by_name.get(ev.ifname)
            if member is None:
                if self.absent and ev.kind == "link" and ev.ifname not in self.link_names:
                    dirty.full = True  # a new NIC, or one renamed by udev: maybe an absent port
                continue
            if ev.failover and ev.ifname in self.bonds:
                failovers.append(ev.ifname)
            if not self._changed(ev):
                continue
            dirty.add(Scope(member.bond, frozenset({member.name}) if member.vlan else None))
            moved_to = self.by_index.get(ev.master) if ev.master else None
            if moved_to is not None and moved_to.bond != member.bond:
                dirty.add(Scope(moved_to.bond))  # a port taken by another managed bond
        return dirty, failovers

    def _changed(self, ev: KernelEvent) -> bool:
        if ev.kind in ("address", "route", "link-deleted"):
            return True
        if ev.kind != "link":
            return False
        before = self.seen.get(ev.ifindex)
        now = (ev.up, ev.master)
        # Carrier comes and goes with cables: not drift. Admin state,
        # membership and options are.
        if before != now or ev.options_changed or before is None:
            self.seen[ev.ifindex] = now
            return True
        return False


class _Covers:
    """Whether a member belongs to what a scope read (a VLAN scope reads only its VLANs)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def __call__(self, member: Member) -> bool:
        if member.bond != self.scope.bond:
            return False
        if self.scope.vlans is None:
            return True
        return member.vlan and member.name in self.scope.vlans
