"""The kernel half of a failover drill: fail a port, restore it, watch the bond react.

Failing a port is one netlink write: administratively down (every driver
honours it; the bond's MII or ARP monitor then sees the link gone, exactly
as for a pulled cable), or carrier off, which only drivers implementing
ndo_change_carrier accept (dummy and a few virtual ones; real NICs cannot
drop carrier on request, and the kernel says so with EOPNOTSUPP). The
bond's reaction is read from sysfs (active port, a port's MII status, its
LACP states: single small files, cheap to read every few tens of
milliseconds) and from the kernel's own IFLA_EVENT_BONDING_FAILOVER
notification, timestamped as it arrives.
"""

from __future__ import annotations

import errno
import select
import struct
import time
from collections.abc import Callable
from pathlib import Path

from bondd.kernel import codec, sysfs
from bondd.kernel.events import EventSocket
from bondd.kernel.netlink import IPRoute, connect

POLL = 0.02  # seconds between sysfs checks while waiting; events wake us sooner
IFLA_CARRIER = 33


def _request(body: bytes) -> None:
    """One RTM_NEWLINK request; raises OSError with the kernel's errno."""
    with codec.RouteSocket() as sock:
        sock.request(codec.RTM_NEWLINK, body)


class CarrierUnsupportedError(Exception):
    """The port's driver cannot drop carrier on request (EOPNOTSUPP)."""


class DrillKernel:
    """One netlink socket for writes, one event socket for the bond's notifications."""

    def __init__(self) -> None:
        self.ipr: IPRoute = connect()
        self.events = EventSocket()
        self.failovers: list[tuple[float, str]] = []  # (monotonic time, bond)

    def close(self) -> None:
        self.events.close()
        self.ipr.close()

    # -- writes -----------------------------------------------------------------

    def _index(self, ifname: str) -> int:
        found = self.ipr.link_lookup(ifname=ifname)
        if not found:
            raise OSError(errno.ENODEV, f"no interface named {ifname}")
        return int(found[0])

    def set_admin(self, port: str, up: bool) -> None:
        self.ipr.link("set", index=self._index(port), state="up" if up else "down")

    def set_carrier(self, port: str, on: bool) -> None:
        """Carrier on or off (IFLA_CARRIER); pyroute2 drops this attribute, so raw netlink."""
        body = codec.IFINFOMSG.pack(0, 0, self._index(port), 0, 0) + codec.attr(
            IFLA_CARRIER, struct.pack("=B", 1 if on else 0)
        )
        try:
            _request(body)
        except OSError as exc:
            if exc.errno == errno.EOPNOTSUPP:
                raise CarrierUnsupportedError(port) from exc
            raise
        if not on and self._read(sysfs.SYSFS_NET / port / "carrier") == "1":
            # Accepted but not acted on: as good as unsupported.
            raise CarrierUnsupportedError(port)

    def set_active(self, bond: str, port: str) -> None:
        """Make `port` the active port (a planned switch: the kernel moves traffic gracefully)."""
        (sysfs.SYSFS_NET / bond / "bonding" / "active_slave").write_text(port)

    # -- reads ---------------------------------------------------------------------

    @staticmethod
    def _read(path: Path) -> str:
        try:
            return path.read_text().strip()
        except OSError:
            return ""

    def active_port(self, bond: str) -> str | None:
        return self._read(sysfs.SYSFS_NET / bond / "bonding" / "active_slave") or None

    def mii_up(self, port: str) -> bool:
        return self._read(sysfs.SYSFS_NET / port / "bonding_slave" / "mii_status") == "up"

    def admin_up(self, port: str) -> bool:
        flags = self._read(sysfs.SYSFS_NET / port / "flags")
        return bool(flags) and int(flags, 16) & 0x1 == 1

    def lacp_states(self, port: str) -> tuple[int | None, int | None]:
        """The port's actor and partner LACP state bytes (None outside 802.3ad)."""
        found: list[int | None] = []
        for side in ("actor", "partner"):
            text = self._read(
                sysfs.SYSFS_NET / port / "bonding_slave" / f"ad_{side}_oper_port_state"
            )
            found.append(int(text) if text.isdigit() else None)
        return found[0], found[1]

    # -- waiting -------------------------------------------------------------------------

    def drain_events(self) -> None:
        """Read what the event socket holds, keeping bonding failover events with their time."""
        events, _ = self.events.read()
        now = time.monotonic()
        self.failovers.extend((now, e.ifname) for e in events if e.failover)

    def wait(self, done: Callable[[], bool], timeout: float) -> float | None:
        """Wait until `done()`; the monotonic time it was seen, None after `timeout` seconds.

        Wakes on any link event and otherwise every POLL seconds: no busy loop,
        the drill shares the CPU with the probes it is measuring.
        """
        deadline = time.monotonic() + timeout
        while True:
            self.drain_events()
            if done():
                return time.monotonic()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            select.select([self.events.sock], [], [], min(POLL, left))
