"""Execute plan operations against the kernel, one function per kind of op.

Links up and down, VLANs and addresses, which a VLAN-heavy plan makes by
the thousand, go through bondd's codec (bondd.kernel.linkwrite). Bond
options go over netlink: through pyroute2 when it can encode them
(numbers and enums), through bondd.kernel.rawlink for the attributes its
map lacks; address lists and MACs go through sysfs, which takes them as
text. Every kernel error comes back as `KernelOpError` naming the op, with
the kernel's errno, so the caller can report it, fall back (EBUSY,
ENOTEMPTY) or roll back.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from typing import Any

from bondd.errors import KernelOpError
from bondd.kernel import sysfs
from bondd.kernel.decode import ROUTE_SCOPES, ROUTE_TYPES
from bondd.kernel.linkwrite import LinkWriter
from bondd.kernel.netlink import IPRoute, NetlinkError
from bondd.kernel.rawlink import BOND_WIRE, PORT_WIRE, RawLinkSocket, encode
from bondd.model import BondOptions, OptionValue, RouteSpec
from bondd.options import Kind, by_kernel_name, to_netlink
from bondd.plan import ops as o

RTPROT_STATIC = 4
RTNH_F_ONLINK = 4
_SCOPES = {word: number for number, word in ROUTE_SCOPES.items()}
_TYPES = {word: number for number, word in ROUTE_TYPES.items()}
_NETLINK_KINDS = frozenset({Kind.INT, Kind.ENUM, Kind.BOOL, Kind.INTERFACE})


class KernelWriter:
    """Applies ops through one netlink socket; counts writes for benchmarks and tests."""

    def __init__(self, ipr: IPRoute) -> None:
        self.ipr = ipr
        self.raw = RawLinkSocket()
        self.links = LinkWriter()
        self.writes = 0
        self.indexes: dict[str, int] = {}

    def close(self) -> None:
        self.raw.close()
        self.links.close()

    def apply(self, op: o.Op) -> None:
        # Links are deleted and re-created under the same name (rollback, drift
        # repair): names an op creates or deletes are looked up afresh.
        if isinstance(op, o.CreateBond | o.DeleteBond):
            self.indexes.pop(op.bond, None)
        elif isinstance(op, o.CreateVlan | o.DeleteVlan):
            self.indexes.pop(op.ifname, None)
        try:
            try:
                self._dispatch(op)
            except (NetlinkError, OSError) as exc:
                code = exc.code if isinstance(exc, NetlinkError) else exc.errno
                if code != errno.ENODEV or not self.indexes:
                    raise
                # A link re-created behind our back has a new ifindex: look again, once.
                self.indexes.clear()
                self._dispatch(op)
        except NetlinkError as exc:
            raise KernelOpError(
                op, exc.code, str(exc.args[1] if len(exc.args) > 1 else exc)
            ) from exc
        except OSError as exc:
            raise KernelOpError(op, exc.errno or errno.EIO, exc.strerror or str(exc)) from exc

    def ports_of(self, bond: str) -> list[str]:
        """The bond's ports now, for fallbacks that must release them."""
        path = sysfs.SYSFS_NET / bond / "bonding" / "slaves"
        try:
            return path.read_text().split()
        except OSError:
            return []

    # -- dispatch ----------------------------------------------------------

    def _dispatch(self, op: o.Op) -> None:
        match op:
            case o.CreateBond():
                self._create_bond(op)
            case o.DeleteBond():
                self._link("del", self._index(op.bond))
            case o.SetLinkUp():
                index = self._index(op.ifname)
                self._count()
                self.links.set_up(index, op.up)
            case o.SetOptions():
                self._set_options(op.bond, op.options)
            case o.AddPort():
                # The kernel refuses (EPERM) to enslave a port that is up; it
                # brings the port up again itself once it is in the bond.
                port, bond = self._index(op.port), self._index(op.bond)
                self._count()
                self.links.set_up(port, False)
                self._count()
                self.links.set_master(port, bond)
            case o.RemovePort():
                port = self._index(op.port)
                self._count()
                self.links.set_master(port, 0)
            case o.SetPortOption():
                self._set_port_option(op)
            case o.SetMtu():
                self._link("set", self._index(op.ifname), mtu=op.mtu)
            case o.SetMac():
                self._link("set", self._index(op.ifname), address=op.macaddress)
            case o.AddAddress() | o.DelAddress():
                self._address(op)
            case o.AddRoute() | o.DelRoute():
                self._route(op)
            case o.CreateVlan():
                parent = self._index(op.bond)
                self._count()
                self.links.create_vlan(op.ifname, parent, op.vlan_id)
            case o.DeleteVlan():
                index = self._index(op.ifname)
                self._count()
                self.links.delete_link(index)
            case _:
                raise TypeError(f"no writer for {type(op).__name__}")

    def _count(self) -> None:
        self.writes += 1

    def _link(self, command: str, index: int, **kwargs: Any) -> None:
        self._count()
        self.ipr.link(command, index=index, **kwargs)

    def _index(self, ifname: str) -> int:
        """The link's ifindex, remembered: a plan names the same links many times, and a
        lookup by name is a netlink round trip (a whole dump on some pyroute2 versions)."""
        index = self.indexes.get(ifname)
        if index is None:
            # sysfs first: a file read, where a lookup is a netlink round trip
            # per VLAN a trunk creates (1,000 VLANs: 2,000 of them).
            try:
                index = self.indexes[ifname] = int(
                    (sysfs.SYSFS_NET / ifname / "ifindex").read_text()
                )
                return index
            except (OSError, ValueError):
                pass
            found = self.ipr.link_lookup(ifname=ifname)
            if not found:
                raise OSError(errno.ENODEV, f"no link named {ifname}")
            index = self.indexes[ifname] = int(found[0])
        return index

    # -- bond options ------------------------------------------------------

    def _split(self, options: BondOptions) -> tuple[dict[str, Any], dict[str, OptionValue]]:
        """Options as pyroute2 keywords (bond_miimon=...) and the rest for sysfs."""
        netlink: dict[str, Any] = {}
        rest: dict[str, OptionValue] = {}
        for name, value in options.items():
            option = by_kernel_name(name)
            if name in BOND_WIRE:
                rest[name] = value
            elif option.in_pyroute2 and option.kind in _NETLINK_KINDS:
                key = option.ifla.removeprefix("IFLA_").lower()
                if option.kind is Kind.INTERFACE:
                    netlink[key] = self._index(str(value)) if value else 0
                else:
                    netlink[key] = to_netlink(option, value)
            else:
                rest[name] = value
        return netlink, rest

    def _create_bond(self, op: o.CreateBond) -> None:
        netlink, rest = self._split(op.options)
        self._count()
        self.ipr.link("add", ifname=op.bond, kind="bond", **netlink)
        self._write_rest(op.bond, rest)

    def _set_options(self, bond: str, options: BondOptions) -> None:
        netlink, rest = self._split(options)
        if netlink:
            self._link("set", self._index(bond), kind="bond", **netlink)
        self._write_rest(bond, rest)

    def _write_rest(self, bond: str, options: dict[str, OptionValue]) -> None:
        for name, value in options.items():
            self._count()
            if name in BOND_WIRE:
                assert not isinstance(value, str)
                self.raw.set_bond_attr(self._index(bond), encode(BOND_WIRE[name], value))
            else:
                sysfs.write_option(by_kernel_name(name), bond, value)

    def _set_port_option(self, op: o.SetPortOption) -> None:
        self._count()
        if op.option in PORT_WIRE:
            wire = PORT_WIRE[op.option]
            self.raw.set_bond_attr(self._index(op.port), encode(wire, op.value), port=True)
            return
        # queue_id is written through the bond: "PORT:ID".
        with (sysfs.SYSFS_NET / op.bond / "bonding" / "queue_id").open("w") as handle:
            handle.write(f"{op.port}:{op.value}")

    # -- layer 3 -----------------------------------------------------------

    def _address(self, op: o.AddAddress | o.DelAddress) -> None:
        index = self._index(op.ifname)
        self._count()
        # An add is a replace: re-adding an address the kernel kept
        # (keep_addr_on_down) is no error.
        self.links.address(index, op.address, add=isinstance(op, o.AddAddress))

    def _route(self, op: o.AddRoute | o.DelRoute) -> None:
        self._count()
        # A route put back after a flush that may not have happened is replaced.
        command = "del" if isinstance(op, o.DelRoute) else ("replace" if op.again else "add")
        self.ipr.route(
            command,
            **route_request(op.route, self._index(op.ifname)),
        )


def route_request(route: RouteSpec, oif: int) -> dict[str, Any]:
    network = ipaddress.ip_network(route.to)
    request: dict[str, Any] = {
        "family": socket.AF_INET6 if network.version == 6 else socket.AF_INET,
        "dst_len": network.prefixlen,
        "oif": oif,
        "proto": RTPROT_STATIC,
        "table": route.table if route.table is not None else 254,
        "type": _TYPES.get(route.type, 1),
    }
    if network.prefixlen:
        request["dst"] = str(network.network_address)
    if route.via:
        request["gateway"] = route.via
    if route.metric is not None:
        request["priority"] = route.metric
    if route.scope is not None:
        request["scope"] = _SCOPES[route.scope]
    elif not route.via:
        request["scope"] = _SCOPES["link"]
    if route.on_link:
        request["flags"] = RTNH_F_ONLINK
    if route.source:
        request["prefsrc"] = route.source
    if route.mtu:
        request["metrics"] = {"attrs": [("RTAX_MTU", route.mtu)]}
    return request
