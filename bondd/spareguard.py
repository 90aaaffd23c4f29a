"""The daemon's spare guard: a dead-man timer started ahead, handed the next transaction.

A guard is a Python process that imports the engine and pyroute2 before it
can roll anything back; starting one per transaction made every change the
daemon applies wait for that start (about a second in the lab). So the
daemon keeps one guard started ahead of time (bondd.deadman.GuardStarter
with `keep_spare`), past its imports, listening on a unix socket in the
state directory. A transaction connects, sends its id and gets the guard's
holder back once the guard watches that transaction, exactly what a new
guard's announcement says. A detached spare (no systemd) forks the
runner's next spare once its own transaction has ended (`--chain`): past
its imports already, that one listens within milliseconds, where a new
Python process takes a second or more; the answer names it.
The spare is the same guard (bondd.cli.guard),
started the same way (own session, or its own systemd unit), so it outlives
the daemon as a new one would. Only the process it was started for may hand
it a transaction (SO_PEERCRED); it exits when that process dies first.

Both sides live here: the socket's name, the request and the answer.
Standard library only, so the guard can load it before its heavy imports.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import struct
from pathlib import Path

from bondd.engine.holder import Holder

HAND_TIMEOUT = 5.0  # a spare that takes longer to answer is not used
MAX_LINE = 4096
TXN = re.compile(r"[0-9a-f]{1,64}")


def socket_path(state_dir: Path, spare: str) -> Path:
    return state_dir / f"guard-spare-{spare}.sock"


def hand(path: Path, txn: str, timeout: float = HAND_TIMEOUT) -> tuple[Holder, str | None] | None:
    """Give the spare listening at `path` transaction `txn`.

    Its holder once it watches `txn`, and the name of the next spare it
    forked, if it did; None when no spare answers (none listens there, it
    died, or it refused): the caller starts a new guard.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
        sock.sendall(json.dumps({"txn": txn}).encode() + b"\n")
        data = json.loads(read_line(sock))
        holder = Holder.from_json(data["guard"])
        following = data.get("next")
        if holder is None:
            return None
        return holder, following if isinstance(following, str) and TXN.fullmatch(
            following
        ) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    finally:
        sock.close()


def sweep(state_dir: Path) -> list[Path]:
    """Remove the sockets no spare listens on any more (a SIGKILLed daemon's, whose
    spare left when it did); the ones removed. A live spare's socket is left."""
    removed = []
    for path in state_dir.glob(socket_path(state_dir, "*").name):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        sock.settimeout(1.0)
        try:
            sock.connect(str(path))
        except ConnectionRefusedError:
            with contextlib.suppress(OSError):  # never a reason for the daemon not to start
                path.unlink(missing_ok=True)
                removed.append(path)
        except OSError:
            pass  # gone already, or not a socket of ours to judge
        finally:
            sock.close()
    return removed


def read_line(sock: socket.socket) -> bytes:
    data = b""
    while b"\n" not in data and len(data) < MAX_LINE:
        chunk = sock.recv(MAX_LINE)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


def listen(path: Path) -> socket.socket:
    """The spare's socket, root's only (the state directory is too)."""
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    umask = os.umask(0o177)  # created 0600, never wider for a moment
    try:
        sock.bind(str(path))
        sock.listen(4)
    except BaseException:
        sock.close()
        raise
    finally:
        os.umask(umask)
    return sock


def peer_pid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid: int = struct.unpack("3i", creds)[0]
    return pid


def requested_txn(conn: socket.socket, runner: Holder, timeout: float = HAND_TIMEOUT) -> str | None:
    """The transaction id a connection hands over, if it comes from `runner` and is well formed."""
    conn.settimeout(timeout)
    try:
        if peer_pid(conn) != runner.pid or not runner.alive():
            return None
        request = json.loads(read_line(conn))
        txn = request.get("txn") if isinstance(request, dict) else None
    except (OSError, ValueError):
        return None
    return txn if isinstance(txn, str) and TXN.fullmatch(txn) else None


def answer(conn: socket.socket, holder: Holder, following: str | None) -> bool:
    try:
        conn.sendall(json.dumps({"guard": holder.to_json(), "next": following}).encode() + b"\n")
    except OSError:
        return False
    return True
