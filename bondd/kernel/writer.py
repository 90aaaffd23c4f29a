"""Execute plan operations against the kernel, one function per kind of op.

Every netlink write is encoded by bondd's codec: links, VLANs, addresses
and bond options in bondd.kernel.linkwrite (bond options with the widths
in bondd.kernel.rawlink), routes in bondd.kernel.routewrite; address lists
and MACs of bond options go through sysfs, which takes them as text.
Every kernel error comes back as `KernelOpError` naming the op, with the
kernel's errno, so the caller can report it, fall back (EBUSY, ENOTEMPTY)
or roll back.
"""

from __future__ import annotations

import errno
import socket
import struct
from collections.abc import Callable

from bondd.errors import KernelOpError
from bondd.kernel import sysfs
from bondd.kernel.codec import attr
from bondd.kernel.linkwrite import LinkWriter
from bondd.kernel.rawlink import BOND_WIRE, NUMBER_WIRE, PORT_WIRE, RawLinkSocket, encode
from bondd.kernel.routewrite import write_route
from bondd.model import BondOptions, OptionValue
from bondd.options import Kind, by_kernel_name, to_netlink
from bondd.plan import ops as o

_NETLINK_KINDS = frozenset({Kind.INT, Kind.ENUM, Kind.BOOL, Kind.INTERFACE})


class KernelWriter:
    """Applies ops through bondd's own netlink sockets; counts writes for benchmarks and tests.

    `ipr` is accepted for the callers that open one pyroute2 socket for
    reader and writer alike (tests); writes no longer use it.
    """

    def __init__(self, ipr: object | None = None) -> None:
        del ipr
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
            except OSError as exc:
                if exc.errno != errno.ENODEV or not self.indexes:
                    raise
                # A link re-created behind our back has a new ifindex: look again, once.
                self.indexes.clear()
                self._dispatch(op)
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
                index = self._index(op.bond)
                self._count()
                self.links.delete_link(index)
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
                index = self._index(op.ifname)
                self._count()
                self.links.set_mtu(index, op.mtu)
            case o.SetMac():
                index = self._index(op.ifname)
                self._count()
                self.links.set_mac(index, op.macaddress)
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
            try:  # the kernel's own lookup by name (SIOCGIFINDEX), in this namespace
                index = self.indexes[ifname] = socket.if_nametoindex(ifname)
            except OSError:
                raise OSError(errno.ENODEV, f"no link named {ifname}") from None
        return index

    # -- bond options ------------------------------------------------------

    def _split(self, options: BondOptions) -> tuple[bytes, dict[str, OptionValue]]:
        return split_options(options, self._index)

    def _create_bond(self, op: o.CreateBond) -> None:
        netlink, rest = self._split(op.options)
        self._count()
        self.links.create_bond(op.bond, netlink)
        self._write_rest(op.bond, rest)

    def _set_options(self, bond: str, options: BondOptions) -> None:
        netlink, rest = self._split(options)
        if netlink:
            index = self._index(bond)
            self._count()
            self.links.set_bond(index, netlink)
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
        write_route(self.links.sock, op.route, self._index(op.ifname), command)


def split_options(
    options: BondOptions, index_of: Callable[[str], int]
) -> tuple[bytes, dict[str, OptionValue]]:
    """The numeric options as IFLA_BOND_* attributes, and the rest for sysfs or rawlink.

    The numbers go in one request, in the order given; the rest follow one
    by one (the kernel takes address lists as text, one at a time).
    `index_of` turns a port's name (primary, active_slave) into its ifindex.
    """
    netlink: list[bytes] = []
    rest: dict[str, OptionValue] = {}
    for name, value in options.items():
        option = by_kernel_name(name)
        wire = NUMBER_WIRE.get(option.ifla_id)
        if name in BOND_WIRE or wire is None or option.kind not in _NETLINK_KINDS:
            rest[name] = value
            continue
        if option.kind is Kind.INTERFACE:
            number = index_of(str(value)) if value else 0
        else:
            converted = to_netlink(option, value)
            if not isinstance(converted, int):
                raise OSError(errno.EINVAL, f"{name}: expected a number, got {value!r}")
            number = converted
        netlink.append(attr(option.ifla_id, struct.pack("=" + wire, number)))
    return b"".join(netlink), rest
