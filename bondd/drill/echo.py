"""A steady stream of ICMP echo probes with our own sequence numbers and timestamps.

The failover drill measures the gap itself instead of parsing ping's output:
one raw socket, a probe every interval from a thread of its own (so the
drill's netlink work never delays a send), each probe's send and answer time
taken with the monotonic clock. Probes carry a random token and their full
sequence number, so answers to anyone else's ping on the host are ignored.
The raw socket and the echo packet come from bondd/kernel/icmp.py. Needs
CAP_NET_RAW (bondctl failover-test runs as root).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import select
import socket
import struct
import threading
import time

from bondd.drill.measure import Probe
from bondd.kernel import icmp

_PAYLOAD = struct.Struct("!8sQ")  # our token and the full sequence number


class EchoStream:
    """Sends an echo request every `interval` seconds until stopped; records every answer."""

    def __init__(self, target: str, interval: float, device: str | None = None) -> None:
        self.target = target
        self.interval = interval
        self.version = ipaddress.ip_address(target).version
        self.sock = icmp.open_echo_socket(self.version, device)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.ident = (os.getpid() ^ secrets.randbits(16)) & 0xFFFF
        self.token = secrets.token_bytes(8)
        self._sent: list[float] = []
        self._answered: dict[int, float] = {}
        self._lock = threading.Lock()
        self._stop_sending = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="echo-stream", daemon=True)
        self.send_errors = 0

    # -- control ---------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, drain: float) -> None:
        """Stop sending, keep listening `drain` seconds for late answers, then close."""
        self._stop_sending.set()
        deadline = time.monotonic() + drain
        while (left := deadline - time.monotonic()) > 0 and self._outstanding():
            time.sleep(min(left, 0.02))
        os.write(self._wake_w, b"x")
        self._thread.join()
        self.sock.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _outstanding(self) -> bool:
        with self._lock:
            return len(self._answered) < len(self._sent)

    def probes(self) -> list[Probe]:
        with self._lock:
            return [
                Probe(seq, sent, self._answered.get(seq)) for seq, sent in enumerate(self._sent)
            ]

    def last_answered(self) -> float | None:
        """Send time of the newest answered probe."""
        with self._lock:
            if not self._answered:
                return None
            return self._sent[max(self._answered)]

    # -- the thread --------------------------------------------------------------

    def _run(self) -> None:
        next_send = time.monotonic()
        while True:
            now = time.monotonic()
            sending = not self._stop_sending.is_set()
            if sending and now >= next_send:
                self._send()
                # No catch-up bursts after a late wake-up: keep the spacing, like ping.
                next_send = max(next_send + self.interval, now + self.interval / 2)
            timeout = max(0.0, next_send - time.monotonic()) if sending else 0.05
            ready = select.select([self.sock.fileno(), self._wake_r], [], [], timeout)[0]
            if self._wake_r in ready:
                return
            if ready:
                self._receive()

    def _send(self) -> None:
        with self._lock:
            seq = len(self._sent)
            self._sent.append(time.monotonic())
        payload = _PAYLOAD.pack(self.token, seq)
        packet = icmp.echo_request(self.version, self.ident, seq & 0xFFFF, payload)
        try:
            self.sock.sendto(packet, (self.target, 0))
        except OSError:
            # ENETUNREACH, ENOBUFS while the bond has no active port: a lost probe.
            self.send_errors += 1

    def _receive(self) -> None:
        while True:
            try:
                data = self.sock.recv(2048, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError:
                return
            now = time.monotonic()
            message = icmp.icmp_part(self.version, data)
            if len(message) < icmp.HEADER.size + _PAYLOAD.size:
                continue
            kind, _, _, ident, _ = icmp.HEADER.unpack_from(message)
            if kind != icmp.ECHO_REPLY[self.version] or ident != self.ident:
                continue
            token, seq = _PAYLOAD.unpack_from(message, icmp.HEADER.size)
            if token != self.token:
                continue
            with self._lock:
                if seq < len(self._sent) and seq not in self._answered:
                    self._answered[seq] = now
