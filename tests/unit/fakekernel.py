"""An in-memory kernel for unit tests of the planner and the transaction.

It applies plan ops to an `ActualState` the way the bonding driver would in
the cases the tests need (create, options, ports, addresses, routes, up/down),
and can be told to fail an op. The real driver is tested in the lab; this
only makes the engine's own logic fast to test.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import replace

from bondd.errors import KernelOpError
from bondd.model import ActualState, BondMode, BondOptions, BondState, PortState
from bondd.options import BOND_OPTIONS
from bondd.plan import ops as o
from bondd.plan.planner import creation_default


class FakeKernel:
    def __init__(self, links: list[str]) -> None:
        self.state = ActualState(
            links=tuple(
                PortState(
                    name=n,
                    ifindex=i + 10,
                    up=False,
                    kind="veth",
                    macaddress=f"02:00:00:00:00:{i + 10:02x}",
                    mtu=1500,
                )
                for i, n in enumerate(links)
            )
        )
        self.writes = 0
        self.fail_at: int | None = None
        self.calls = 0
        self.next_index = 100
        self.on_write: Callable[[], None] | None = None  # e.g. a signal mid-apply

    # Reader
    def read(self) -> ActualState:
        return self.state

    # Writer
    def ports_of(self, bond: str) -> list[str]:
        found = self.state.bond(bond)
        return [p.name for p in found.ports] if found else []

    def apply(self, op: o.Op) -> None:
        index = self.calls
        self.calls += 1
        if self.fail_at == index:
            self.fail_at = None
            raise KernelOpError(op, errno.EIO, "injected fault")
        self.writes += 1
        self._apply(op)
        if self.on_write is not None:
            hook, self.on_write = self.on_write, None  # once
            hook()

    def _bond(self, name: str) -> BondState:
        found = self.state.bond(name)
        if found is None:
            raise KernelOpError(name, errno.ENODEV, f"no bond {name}")
        return found

    def _put(self, bond: BondState) -> None:
        others = tuple(b for b in self.state.bonds if b.name != bond.name)
        self.state = replace(self.state, bonds=tuple(sorted((*others, bond), key=lambda b: b.name)))

    def _link(self, name: str, **changes: object) -> None:
        links = tuple(
            replace(p, **changes) if p.name == name else p  # type: ignore[arg-type]
            for p in self.state.links
        )
        self.state = replace(self.state, links=links)
        for bond in self.state.bonds:
            ports = tuple(p for p in links if p.master == bond.name and p.mii_up is not None)
            self._put(replace(bond, ports=ports))

    def _apply(self, op: o.Op) -> None:
        match op:
            case o.CreateBond():
                mode = op.options["mode"]
                options = {
                    opt.kernel_name: creation_default(opt.kernel_name, BondMode(str(mode)))
                    for opt in BOND_OPTIONS
                    if opt.kernel_name != "active_slave" and BondMode(str(mode)) in opt.modes
                }
                options.update(op.options)
                self.next_index += 1
                self._put(
                    BondState(
                        name=op.bond,
                        ifindex=self.next_index,
                        options=BondOptions(options),
                        mtu=1500,
                    )
                )
            case o.DeleteBond():
                for port in self.ports_of(op.bond):
                    self._link(port, master=None, mii_up=None)
                self.state = replace(
                    self.state, bonds=tuple(b for b in self.state.bonds if b.name != op.bond)
                )
            case o.SetOptions():
                bond = self._bond(op.bond)
                if "mode" in op.options and bond.ports:
                    raise KernelOpError(op, errno.ENOTEMPTY, "bond has ports")
                self._put(replace(bond, options=BondOptions({**bond.options, **op.options})))
            case o.AddPort():
                self._bond(op.bond)
                self._link(op.port, master=op.bond, mii_up=True, up=True)
                bond = self._bond(op.bond)
                order = [p for p in bond.ports if p.name != op.port]
                added = next(p for p in self.state.links if p.name == op.port)
                self._put(replace(bond, ports=(*order, added)))
            case o.RemovePort():
                self._link(op.port, master=None, mii_up=None)
            case o.SetLinkUp():
                if self.state.bond(op.ifname) is not None:
                    self._put(replace(self._bond(op.ifname), up=op.up))
                else:
                    self._link(op.ifname, up=op.up)
            case o.AddAddress() | o.DelAddress():
                target = self.state.bond(op.ifname)
                have = set(
                    target.addresses
                    if target
                    else next(p for p in self.state.links if p.name == op.ifname).addresses
                )
                have = have | {op.address} if isinstance(op, o.AddAddress) else have - {op.address}
                if target is not None:
                    self._put(replace(target, addresses=tuple(sorted(have))))
                else:
                    self._link(op.ifname, addresses=tuple(sorted(have)))
            case o.AddRoute() | o.DelRoute():
                bond = self._bond(op.ifname)
                routes = set(bond.routes)
                routes = routes | {op.route} if isinstance(op, o.AddRoute) else routes - {op.route}
                self._put(replace(bond, routes=tuple(routes)))
            case o.SetMtu():
                self._put(replace(self._bond(op.ifname), mtu=op.mtu))
            case _:
                raise KernelOpError(op, errno.EOPNOTSUPP, "not simulated")
