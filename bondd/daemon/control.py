"""The control socket: one JSON request per connection, one JSON answer.

Only root (checked with SO_PEERCRED, not trusted from the request) may
change anything; status may be opened to a group through the socket file's
group and mode. The loop accepts and answers without blocking for long: a
request is one line, read with a short timeout.
"""

from __future__ import annotations

import grp
import json
import os
import socket
import struct
from pathlib import Path
from typing import Any

SOCKET_NAME = "control.sock"
READ_TIMEOUT = 2.0
MAX_REQUEST = 4 << 20
CHANGING = frozenset({"apply", "confirm", "rollback", "hold", "release", "reload"})


def peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


class ControlServer:
    def __init__(self, run_dir: Path, group: str | None = None) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / SOCKET_NAME
        self.path.unlink(missing_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))
        if group:
            os.chown(self.path, 0, grp.getgrnam(group).gr_gid)
            os.chmod(self.path, 0o660)
        else:
            os.chmod(self.path, 0o600)
        self.sock.listen(16)
        self.sock.setblocking(False)

    def fileno(self) -> int:
        return self.sock.fileno()

    def accept(self) -> tuple[socket.socket, int, dict[str, Any]] | None:
        """The next connection, its peer uid and its request; None if none or unreadable."""
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return None
        conn.settimeout(READ_TIMEOUT)
        try:
            data = b""
            while not data.endswith(b"\n") and len(data) < MAX_REQUEST:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            request = json.loads(data)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except (OSError, ValueError):
            reply(conn, {"ok": False, "error": "malformed request: send one JSON object line"})
            return None
        return conn, peer_uid(conn), request

    def close(self) -> None:
        self.sock.close()
        self.path.unlink(missing_ok=True)


def reply(conn: socket.socket, answer: dict[str, Any]) -> None:
    try:
        conn.sendall(json.dumps(answer).encode() + b"\n")
    except OSError:
        pass  # the client went away; its loss
    finally:
        conn.close()


def request(run_dir: Path, payload: dict[str, Any], timeout: float = 600.0) -> dict[str, Any]:
    """Client side: send one request to the daemon, return its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(run_dir / SOCKET_NAME))
        sock.sendall(json.dumps(payload).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    answer = json.loads(data)
    assert isinstance(answer, dict)
    return answer


def daemon_running(run_dir: Path) -> bool:
    path = run_dir / SOCKET_NAME
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True
