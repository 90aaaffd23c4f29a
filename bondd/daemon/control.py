"""The control socket: one JSON request per connection, one JSON answer.

Only root (checked with SO_PEERCRED, not trusted from the request) may
change anything; status may be opened to a group through the socket file's
group and mode. The loop never blocks on a client: connections are
non-blocking, each with its own buffer and a whole-request deadline, read
whenever the selector says so; a client that trickles bytes or sends too
much gets an error reply and is closed while others are served.
`requests.parse` checks what arrives; the wire format itself (path, framing)
is bondd/protocol.py, shared with `bondctl`.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import selectors
import socket
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bondd import protocol
from bondd.daemon import requests
from bondd.daemon.requests import CHANGING, Request, RequestError
from bondd.errors import BonddError

__all__ = ["CHANGING", "ControlServer", "Request", "reply"]

REQUEST_DEADLINE = 2.0  # for the whole request, however it is split
MAX_CLIENTS = 16


def peer_uid(conn: socket.socket) -> int:
    return peer_ids(conn)[0]


def peer_ids(conn: socket.socket) -> tuple[int, int]:
    """The connecting process's uid and gid, from the kernel (SO_PEERCRED)."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, gid = struct.unpack("3i", creds)
    return int(uid), int(gid)


def in_group(uid: int, gid: int, group: int) -> bool:
    """Whether the peer is root or a member of `group` (primary or supplementary)."""
    if uid == 0 or gid == group:
        return True
    try:
        name = pwd.getpwuid(uid).pw_name
        return group in os.getgrouplist(name, gid)
    except (KeyError, OSError):
        return False


@dataclass
class _Client:
    conn: socket.socket
    uid: int
    deadline: float
    buffer: bytearray = field(default_factory=bytearray)


class ControlServer:
    def __init__(self, run_dir: Path, group: str | None = None) -> None:
        gid = _group_id(group) if group else None
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = protocol.socket_path(run_dir)
        self.path.unlink(missing_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))
        # With a status group the socket is open to every local user and the
        # daemon checks the peer's groups itself: chown to the group would need
        # CAP_CHOWN, which the shipped unit does not grant. Without one, root only.
        os.chmod(self.path, 0o666 if gid is not None else 0o600)
        self.group = gid
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.clients: dict[int, _Client] = {}
        self.refusals: list[str] = []  # peers refused, for the log
        self.selector: selectors.BaseSelector | None = None
        self.tag: object = None

    def fileno(self) -> int:
        return self.sock.fileno()

    def watch(self, selector: selectors.BaseSelector, tag: object) -> None:
        """Register the socket, and every connection later, with the loop's selector."""
        self.selector, self.tag = selector, tag
        selector.register(self.sock, selectors.EVENT_READ, tag)

    def poll(self, now: float | None = None) -> list[tuple[socket.socket, int, Request]]:
        """Accept, read what is there, and return every complete, checked request.

        Malformed, oversized, forbidden or late requests are answered here.
        Never blocks.
        """
        now = time.monotonic() if now is None else now
        self._accept(now)
        ready = []
        for fd, client in list(self.clients.items()):
            line = self._read(client)
            if line is None:
                if now >= client.deadline:
                    self._fail(fd, "request not complete within the deadline")
                continue
            del self.clients[fd]
            self._forget(client.conn)
            try:
                ready.append((client.conn, client.uid, requests.parse(line, client.uid)))
            except RequestError as exc:
                if exc.exit_code == os.EX_NOPERM:
                    self.refusals.append(f"refused from uid {client.uid}: {exc.message}")
                reply(client.conn, {"ok": False, "error": exc.message, "exit_code": exc.exit_code})
        return ready

    def next_deadline(self) -> float | None:
        return min((c.deadline for c in self.clients.values()), default=None)

    def _accept(self, now: float) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # e.g. EMFILE: the client sees a closed connection, the loop goes on
            conn.setblocking(False)
            if len(self.clients) >= MAX_CLIENTS:
                reply(
                    conn,
                    {
                        "ok": False,
                        "error": "too many clients; try again",
                        "exit_code": os.EX_TEMPFAIL,
                    },
                )
                continue
            try:
                uid, peer_gid = peer_ids(conn)
            except OSError:
                conn.close()
                continue
            if self.group is not None and not in_group(uid, peer_gid, self.group):
                reply(
                    conn,
                    {"ok": False, "error": "not in the status group", "exit_code": os.EX_NOPERM},
                )
                self.refusals.append(f"refused uid {uid}: not in the status group")
                continue
            self.clients[conn.fileno()] = _Client(conn, uid, now + REQUEST_DEADLINE)
            if self.selector is not None:
                self.selector.register(conn, selectors.EVENT_READ, self.tag)

    def _read(self, client: _Client) -> bytes | None:
        """The request line once complete, else None (keep waiting)."""
        limit = requests.max_size(client.uid) + 1
        while True:
            try:
                chunk = client.conn.recv(min(65536, limit - len(client.buffer)) or 1)
            except (BlockingIOError, InterruptedError):
                return None
            except OSError:
                chunk = b""
            if not chunk:  # the client finished (or went away): what we have is the request
                return bytes(client.buffer)
            client.buffer += chunk
            end = client.buffer.find(b"\n")
            if end >= 0:
                return bytes(client.buffer[:end])
            if len(client.buffer) >= limit:
                return bytes(client.buffer)  # parse() reports it as too large

    def _fail(self, fd: int, message: str) -> None:
        client = self.clients.pop(fd)
        self._forget(client.conn)
        reply(client.conn, {"ok": False, "error": message, "exit_code": os.EX_USAGE})

    def _forget(self, conn: socket.socket) -> None:
        if self.selector is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(conn)

    def close(self) -> None:
        for fd in list(self.clients):
            self._fail(fd, "the daemon is stopping")
        self.sock.close()
        self.path.unlink(missing_ok=True)


def _group_id(group: str) -> int:
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise BonddError(
            f"--socket-group: no group {group!r}", "create the group or fix the option"
        ) from None


def reply(conn: socket.socket, answer: dict[str, Any]) -> None:
    try:
        # A bounded wait for a client that does not read its answer.
        conn.settimeout(REQUEST_DEADLINE)
        conn.sendall(protocol.encode(answer))
    except OSError:
        pass  # the client went away; its loss
    finally:
        conn.close()
