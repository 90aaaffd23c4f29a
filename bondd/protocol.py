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

# The C module under `socket`: bondctl's thin commands need only a Unix stream
# socket's connect, sendall and recv, and `socket`'s own import (selectors,
# the enum conversions) was a tenth of their start in the lab.
import _socket
import json
from pathlib import Path

TYPE_CHECKING = False  # not typing's: importing typing costs a thin command's start
if TYPE_CHECKING:
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


def read_answer(sock: _socket.socket) -> dict[str, Any]:
    """One answer: a JSON object on one line (or up to the daemon's close)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return decode(data)


def _connect(run_dir: Path, timeout: float) -> _socket.socket:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(socket_path(run_dir)))
    except BaseException:
        sock.close()
        raise
    return sock


def _connected(run_dir: Path, timeout: float) -> _socket.socket | None:
    """A socket connected to the daemon, or None when none accepts (no socket, refused)."""
    try:
        return _connect(run_dir, timeout)
    except OSError:
        return None


def _exchange(sock: _socket.socket, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
    try:
        sock.settimeout(timeout)
        sock.sendall(encode(payload))
        return read_answer(sock)
    finally:
        sock.close()


def request(run_dir: Path, payload: dict[str, Any], timeout: float = 600.0) -> dict[str, Any]:
    """Send one request to the daemon, return its answer."""
    return _exchange(_connect(run_dir, timeout), payload, timeout)


def ask(run_dir: Path, payload: dict[str, Any], timeout: float = 600.0) -> dict[str, Any] | None:
    """The daemon's answer, or None when no daemon accepts a connection.

    One connection where `daemon_running` and then `request` take two (each
    one the daemon's loop accepts and a round trip, in what an admin waits
    for). Whether a daemon runs is decided as `daemon_running` decides it,
    by a connect within `PROBE_TIMEOUT`; once one has accepted, a late or
    unreadable answer raises as `request`'s does.
    """
    sock = _connected(run_dir, PROBE_TIMEOUT)
    return None if sock is None else _exchange(sock, payload, timeout)


def daemon_running(run_dir: Path) -> bool:
    """Whether a daemon accepts connections on the socket in `run_dir`."""
    sock = _connected(run_dir, PROBE_TIMEOUT)
    if sock is None:
        return False
    sock.close()
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
