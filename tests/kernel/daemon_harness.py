"""Run the real `bondd` daemon in the test's host namespace and listen to it.

The test opens real unix datagram sockets and hands them to the daemon as
NOTIFY_SOCKET and as the journal socket, so sd_notify messages and journald
native-protocol records are read exactly as systemd and journald would.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.lab.guard import venv_command
from tests.lab.netlab import wait_for

BONDD = venv_command("bondd")


def parse_journal(data: bytes) -> dict[str, str]:
    """One native-protocol datagram: KEY=value lines, or KEY\\n<u64 len><bytes>\\n."""
    fields: dict[str, str] = {}
    offset = 0
    while offset < len(data):
        newline = data.index(b"\n", offset)
        line = data[offset:newline]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            fields[key.decode()] = value.decode()
            offset = newline + 1
        else:
            size = int.from_bytes(data[newline + 1 : newline + 9], "little")
            fields[line.decode()] = data[newline + 9 : newline + 9 + size].decode()
            offset = newline + 9 + size + 1
    return fields


@dataclass
class Daemon:
    tmp: Path
    config_dir: Path
    state_dir: Path
    run_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    notes: list[tuple[float, str]] = field(default_factory=list)
    journal: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        # Signalled whenever a datagram has been read: the socket reader thread
        # empties the sockets, so a waiter must never select on them itself.
        self.arrived = threading.Condition(self.lock)
        self.closed = False
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.notify_sock = self._dgram(self.tmp / "notify.sock")
        self.journal_sock = self._dgram(self.tmp / "journal.sock")

    @staticmethod
    def _dgram(path: Path) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(path))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.setblocking(False)
        return sock

    @property
    def client_dirs(self) -> list[str]:
        """The options naming this daemon's directories and socket: bondd's and bondctl's."""
        return [
            "--config-dir",
            str(self.config_dir),
            "--state-dir",
            str(self.state_dir),
            "--run-dir",
            str(self.run_dir),
        ]

    @property
    def metrics_textfile(self) -> Path:
        return self.tmp / "bondd.prom"

    def start(self, *extra: str, watchdog_usec: int = 1_000_000) -> None:
        env = dict(
            os.environ,
            NOTIFY_SOCKET=str(self.tmp / "notify.sock"),
            WATCHDOG_USEC=str(watchdog_usec),
            BONDD_JOURNAL_SOCKET=str(self.tmp / "journal.sock"),
        )
        env.pop("WATCHDOG_PID", None)
        # Never the host's node_exporter directory: each test its own metrics file.
        if "--metrics-textfile" not in extra:
            extra = ("--metrics-textfile", str(self.metrics_textfile), *extra)
        self.proc = subprocess.Popen(
            [BONDD, *self.client_dirs, *extra],
            env=env,
            stdin=subprocess.DEVNULL,
        )
        self.wait_note("READY=1", timeout=60)
        # Read both sockets all the time, as systemd and journald do: a daemon
        # logging a burst must never wait for the test to look.
        self.reader = threading.Thread(target=self._read_forever, daemon=True)
        self.reader.start()

    def _read_forever(self) -> None:
        socks = [self.notify_sock, self.journal_sock]
        while not self.closed:
            if select.select(socks, [], [], 0.1)[0]:
                self.pump()

    def pump(self) -> None:
        with self.lock:
            self._pump()

    def _pump(self) -> None:
        got = False
        for sock, sink in ((self.notify_sock, "notes"), (self.journal_sock, "journal")):
            while True:
                try:
                    data = sock.recv(1 << 20)
                except BlockingIOError:
                    break
                got = True
                if sink == "notes":
                    self.notes.extend(
                        (time.monotonic(), line) for line in data.decode().splitlines()
                    )
                else:
                    self.journal.append(parse_journal(data))
        if got:
            self.arrived.notify_all()

    def wait_note(self, prefix: str, timeout: float = 30) -> str:
        def found() -> bool:
            self.pump()
            return any(line.startswith(prefix) for _, line in self.notes)

        wait_for(found, timeout=timeout, interval=0.02)
        return next(line for _, line in self.notes if line.startswith(prefix))

    def events(self, name: str) -> list[dict[str, str]]:
        self.pump()
        return [e for e in self.journal if e.get("BONDD_EVENT") == name]

    def wait_journal(self, name: str, count: int, timeout: float = 30.0) -> float:
        """Block until `count` `name` events have arrived; the perf_counter time they had.

        Sleeps on the reader thread's signal, not on the socket (which that
        thread empties first) and not in a polling loop.
        """
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                self._pump()
                if sum(e.get("BONDD_EVENT") == name for e in self.journal) >= count:
                    return time.perf_counter()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {name} event from the daemon within {timeout}s")
                # Bounded: before start() no reader thread runs to signal.
                self.arrived.wait(min(left, 0.5))

    def wait_event(self, name: str, count: int = 1, timeout: float = 30) -> list[dict[str, str]]:
        wait_for(lambda: len(self.events(name)) >= count, timeout=timeout, interval=0.02)
        return self.events(name)

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def close(self) -> None:
        self.closed = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        reader = getattr(self, "reader", None)
        if reader is not None:
            reader.join(timeout=2)
        self.notify_sock.close()
        self.journal_sock.close()
