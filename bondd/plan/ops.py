"""Operations: the values a plan is made of, one kernel change each.

Each op says what it changes in words a person reads (`describe`) and how
much it disturbs traffic (`disruption`). The kernel writer executes them;
`bondctl plan` prints them. Option values are canonical (bondd.options).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bondd.model import BondOptions, RouteSpec


class Disruption(enum.IntEnum):
    """How much an op (or a bond's whole change) disturbs traffic, least first."""

    NONE = 0
    LIVE = 1  # the bond keeps forwarding
    BOND_DOWN = 2  # the bond goes down briefly, ports stay
    PORTS_RELEASED = 3  # ports leave and rejoin the bond
    NEW = 4  # a bond that did not exist
    RECREATED = 5  # the bond is deleted and made again
    REMOVED = 6  # the bond goes away

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Disruption.NONE: "no change",
    Disruption.LIVE: "live change",
    Disruption.BOND_DOWN: "bond down briefly",
    Disruption.PORTS_RELEASED: "ports released",
    Disruption.NEW: "new bond",
    Disruption.RECREATED: "bond recreated",
    Disruption.REMOVED: "bond removed",
}


def _options_text(options: BondOptions) -> str:
    return ", ".join(f"{name}={_value(value)}" for name, value in options.items())


def _value(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "(none)"
    return str(value) if value != "" else "(none)"


@dataclass(frozen=True)
class Op:
    """Base of every operation; `bond` groups it under the bond it serves."""

    bond: str

    @property
    def disruption(self) -> Disruption:
        return Disruption.LIVE

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class CreateBond(Op):
    options: BondOptions  # sent with the create request (mode first)

    @property
    def disruption(self) -> Disruption:
        return Disruption.NEW

    def describe(self) -> str:
        return f"create bond {self.bond} ({_options_text(self.options)})"


@dataclass(frozen=True)
class DeleteBond(Op):
    @property
    def disruption(self) -> Disruption:
        return Disruption.REMOVED

    def describe(self) -> str:
        return f"delete bond {self.bond}"


@dataclass(frozen=True)
class SetLinkUp(Op):
    ifname: str
    up: bool

    @property
    def disruption(self) -> Disruption:
        if not self.up and self.ifname == self.bond:
            return Disruption.BOND_DOWN
        return Disruption.LIVE

    def describe(self) -> str:
        return f"set {self.ifname} {'up' if self.up else 'down'}"


@dataclass(frozen=True)
class SetOptions(Op):
    """Bond options set together, in one request where the kernel API allows."""

    options: BondOptions

    def describe(self) -> str:
        return f"set {_options_text(self.options)} on {self.bond}"


@dataclass(frozen=True)
class AddPort(Op):
    port: str

    def describe(self) -> str:
        return f"add port {self.port} to {self.bond}"


@dataclass(frozen=True)
class RemovePort(Op):
    port: str

    @property
    def disruption(self) -> Disruption:
        return Disruption.PORTS_RELEASED

    def describe(self) -> str:
        return f"release port {self.port} from {self.bond}"


@dataclass(frozen=True)
class SetPortOption(Op):
    port: str
    option: str
    value: int

    def describe(self) -> str:
        return f"set {self.option}={self.value} on port {self.port} of {self.bond}"


@dataclass(frozen=True)
class SetMtu(Op):
    ifname: str
    mtu: int

    def describe(self) -> str:
        return f"set mtu {self.mtu} on {self.ifname}"


@dataclass(frozen=True)
class SetMac(Op):
    ifname: str
    macaddress: str

    def describe(self) -> str:
        return f"set mac {self.macaddress} on {self.ifname}"


@dataclass(frozen=True)
class AddAddress(Op):
    ifname: str
    address: str

    def describe(self) -> str:
        return f"add address {self.address} to {self.ifname}"


@dataclass(frozen=True)
class DelAddress(Op):
    ifname: str
    address: str

    def describe(self) -> str:
        return f"remove address {self.address} from {self.ifname}"


@dataclass(frozen=True)
class AddRoute(Op):
    ifname: str
    route: RouteSpec
    # The route was there before this plan and the kernel may or may not have
    # flushed it on the way (an address moved within its subnet, which hosts
    # with promote_secondaries survive): put it back with a replace, so it
    # ends as one route either way.
    again: bool = False

    def describe(self) -> str:
        return f"add route {route_text(self.route)} dev {self.ifname}"


@dataclass(frozen=True)
class DelRoute(Op):
    ifname: str
    route: RouteSpec

    def describe(self) -> str:
        return f"remove route {route_text(self.route)} dev {self.ifname}"


@dataclass(frozen=True)
class CreateVlan(Op):
    ifname: str
    vlan_id: int

    def describe(self) -> str:
        return f"create vlan {self.ifname} (id {self.vlan_id} on {self.bond})"


@dataclass(frozen=True)
class DeleteVlan(Op):
    ifname: str

    def describe(self) -> str:
        return f"delete vlan {self.ifname}"


def route_text(route: RouteSpec) -> str:
    parts = ["default" if route.is_default else route.to]
    if route.via:
        parts.append(f"via {route.via}")
    if route.metric is not None:
        parts.append(f"metric {route.metric}")
    if route.table is not None:
        parts.append(f"table {route.table}")
    if route.on_link:
        parts.append("onlink")
    return " ".join(parts)
