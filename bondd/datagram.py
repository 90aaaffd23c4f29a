"""One datagram to a local unix socket, bounded in time: journald and sd_notify.

Both of bondd's messages to systemd (a journal record over journald's native
protocol, a READY/STATUS/WATCHDOG line over $NOTIFY_SOCKET) are one
datagram to a unix socket owned by someone else. They go through this one
small sender rather than a library (sdnotify, python-systemd) for one
reason: the process sending is the daemon's loop, which keeps the bonds
converged, and a socket whose reader is stuck (a frozen journald, a full
receive queue) must cost a dropped message after SEND_TIMEOUT, never a
stalled loop. sdnotify opens its socket blocking and offers no timeout
(bondd used to reach into its private socket to set one), and
python-systemd's journal.send has none either; the protocols themselves are
a few lines each (sd_notify(3), systemd's "Native Journal Protocol").
"""

from __future__ import annotations

import socket

SEND_TIMEOUT = 0.5


def socket_address(path: str) -> str:
    """A socket path as systemd spells it: a leading "@" names the abstract namespace."""
    return "\0" + path[1:] if path.startswith("@") else path


class DatagramSender:
    """An unconnected AF_UNIX datagram socket that sends to one address, with a timeout."""

    def __init__(self, path: str, timeout: float = SEND_TIMEOUT) -> None:
        self.address = socket_address(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.sock.settimeout(timeout)
        self.failures = 0  # datagrams dropped: a timeout, a missing or refusing socket

    def send(self, data: bytes) -> bool:
        """True if the datagram left; on any socket error it is dropped and counted."""
        try:
            self.send_or_raise(data)
        except OSError:
            return False
        return True

    def send_or_raise(self, data: bytes) -> None:
        """Send, or count the drop and raise the OSError (a timeout is one) for the caller."""
        try:
            self.sock.sendto(data, self.address)
        except OSError:
            self.failures += 1
            raise

    def close(self) -> None:
        self.sock.close()
