"""The control protocol between `bondctl` and the daemon: where, and in what form.

One request per connection on a Unix stream socket in the run directory:
the client sends one JSON object on one line, the daemon answers with one
JSON object on one line and closes. This module is both sides' half of that
contract (the socket's path, the framing, a request sent and its answer
read) and nothing else, so `bondctl` can talk to a running daemon without
importing the daemon, the engine or pyroute2: with a daemon running,
`bondctl status` costs little more than starting Python. The server (who
may ask what, deadlines, the checks of each field) is bondd/daemon/control.py
and bondd/daemon/requests.py.
"""

from __future__ import annotations

import json
from pathlib import Path

TYPE_CHECKING = False  # not typing's: importing typing costs a thin command's start
if TYPE_CHECKING:
    import socket
    from typing import Any

SOCKET_NAME = "control.sock"
DEFAULT_RUN_DIR = Path("/run/bondd")
# The daemon's state directory: here because bondctl's thin commands must know
# it without importing the engine's store (which takes it from here).
DEFAULT_STATE_DIR = Path("/var/lib/bondd")
# Whether the daemon answers: a connect, not a request; longer means it is gone.
PROBE_TIMEOUT = 1.0


def socket_path(run_dir: Path) -> Path:
    return run_dir / SOCKET_NAME


def encode(message: dict[str, Any]) -> bytes:
    """One request or answer as it goes on the wire: a JSON object and a newline."""
    return json.dumps(message).encode() + b"\n"


def decode(data: bytes) -> dict[str, Any]:
    """One answer from its bytes; a ValueError when it is not a JSON object."""
    answer = json.loads(data)
    if not isinstance(answer, dict):
        raise ValueError("the daemon's answer is not a JSON object")
    return answer


def read_answer(sock: socket.socket) -> dict[str, Any]:
    """One answer: a JSON object on one line (or up to the daemon's close)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return decode(data)


def request(run_dir: Path, payload: dict[str, Any], timeout: float = 600.0) -> dict[str, Any]:
    """Send one request to the daemon, return its answer."""
    import socket  # noqa: PLC0415 (here: `bondctl validate` and --help open none)

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(socket_path(run_dir)))
        sock.sendall(encode(payload))
        return read_answer(sock)


def daemon_running(run_dir: Path) -> bool:
    """Whether a daemon accepts connections on the socket in `run_dir`."""
    path = socket_path(run_dir)
    if not path.exists():
        return False
    import socket  # noqa: PLC0415

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(PROBE_TIMEOUT)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def try_request(
    run_dir: Path, payload: dict[str, Any], timeout: float = 600.0
) -> dict[str, Any] | None:
    """The daemon's answer, or None when none came (then the caller does the work itself).

    One connection where `daemon_running` and `request` take two: what
    `bondctl status` does when it would read the kernel itself otherwise.
    None also for a daemon busy past `timeout` (its loop is single-threaded:
    a transaction's probes or LACP gate hold it for seconds) or one that
    closed without a readable answer, so a status never fails for that.
    """
    try:
        return request(run_dir, payload, timeout)
    except (OSError, ValueError):  # TimeoutError and refused connections are OSErrors
        return None
