"""journald records and sd_notify lines at the byte level, through real unix sockets.

Each test binds a datagram socket of its own (as journald and systemd bind
theirs), points bondd at it and reads back the very datagram bondd sent.
Records are decoded here from systemd's description of the native journal
protocol (KEY=VALUE lines; a value holding a newline as KEY, newline, 64-bit
little-endian length, the bytes, newline), independently of bondd's encoder.
A socket nobody reads must cost a dropped datagram after the send timeout,
never a blocked caller.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bondd import datagram, log
from bondd.daemon import notify

pytestmark = pytest.mark.unit

# A record as the native protocol lays it out, written from the protocol's
# description: one plain field and one with a newline in its value.
REFERENCE = b"MESSAGE=bond0 applied\nBONDD_REASON\n" + (9).to_bytes(8, "little") + b"two\nlines\n"


def journal_fields(data: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    offset = 0
    while offset < len(data):
        end = data.index(b"\n", offset)
        line = data[offset:end]
        if b"=" in line:
            key, _, value = line.partition(b"=")
            offset = end + 1
        else:
            key = line
            size = int.from_bytes(data[end + 1 : end + 9], "little")
            value = data[end + 9 : end + 9 + size]
            assert data[end + 9 + size : end + 10 + size] == b"\n", "binary field not ended"
            offset = end + 10 + size
        # Field names the journal accepts from a client: A-Z, 0-9, _, not leading _.
        assert re.fullmatch(rb"[A-Z0-9][A-Z0-9_]*", key), key
        fields[key.decode()] = value.decode()
    return fields


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "sock"))
    sock.settimeout(5)
    yield sock
    sock.close()


def full(listener: socket.socket) -> None:
    """Fill the listener's receive queue, as a journald that stopped reading would."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as filler:
        filler.setblocking(False)
        with pytest.raises(BlockingIOError):
            for _ in range(100_000):
                filler.sendto(b"x" * 1024, listener.getsockname())


def test_the_encoder_writes_the_protocols_two_field_forms() -> None:
    record = log.encode({"MESSAGE": "bond0 applied", "BONDD_REASON": "two\nlines"})
    assert record == REFERENCE
    assert journal_fields(REFERENCE) == {"MESSAGE": "bond0 applied", "BONDD_REASON": "two\nlines"}
    # Not text: replaced, never an exception in the logging path.
    assert log.encode({"BONDD_X": "\udcff"}) == b"BONDD_X=?\n"


def test_an_event_is_one_datagram_with_its_structured_fields(
    listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BONDD_JOURNAL_SOCKET", listener.getsockname())
    logger = log.setup()
    try:
        log.event(
            logger,
            "rolled_back",
            "bond0: rolled back\nforged: line",
            logging.WARNING,
            bond="bond0",
            txn="t-1",
            reason="ping\nfailed",
            absent=None,
        )
        fields = journal_fields(listener.recv(65536))
    finally:
        logger.handlers[0].close()
    assert fields["MESSAGE"] == "bond0: rolled back\\nforged: line"  # one line, always
    assert fields["PRIORITY"] == "4"
    assert fields["SYSLOG_IDENTIFIER"] == "bondd"
    assert (fields["BONDD_EVENT"], fields["BONDD_BOND"], fields["BONDD_TXN"]) == (
        "rolled_back",
        "bond0",
        "t-1",
    )
    assert fields["BONDD_REASON"] == "ping\nfailed"  # the binary form keeps it whole
    assert "BONDD_ABSENT" not in fields
    assert fields["CODE_FILE"].endswith("test_journal_notify.py") and int(fields["CODE_LINE"])


def test_a_journal_that_stopped_reading_costs_a_dropped_record_not_a_hang(
    listener: socket.socket, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(log, "SEND_TIMEOUT", 0.05)
    handler = log.JournalHandler(listener.getsockname())
    logger = logging.getLogger("bondd.test-full")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        full(listener)
        logger.warning("lost")
        assert handler.sender.failures == 1
        assert "Logging error" in capsys.readouterr().err  # said where it can be seen
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_without_a_journal_records_are_plain_single_lines_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    monkeypatch.delenv("BONDD_JOURNAL_SOCKET", raising=False)
    logger = log.setup(debug=True)
    log.event(logger, "drift", "bond0\nchanged", bond="bond0", txn=None)
    logger.debug("quiet")
    assert capsys.readouterr().err.splitlines() == [
        "bondd: INFO: bond0\\nchanged [event=drift bond=bond0]",
        "bondd: DEBUG: quiet",
    ]


def test_bondctl_logs_to_the_journal_only_where_there_is_one(
    tmp_path: Path, listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BONDD_JOURNAL_SOCKET", str(tmp_path / "none"))
    assert isinstance(log.journal_only().handlers[0], logging.NullHandler)
    monkeypatch.setenv("BONDD_JOURNAL_SOCKET", listener.getsockname())
    logger = log.journal_only()
    try:
        log.event(logger, "applied", "ok")
        assert journal_fields(listener.recv(65536))["BONDD_EVENT"] == "applied"
    finally:
        logger.handlers[0].close()


# -- sd_notify -------------------------------------------------------------------


def notifier(monkeypatch: pytest.MonkeyPatch, path: str, **env: str) -> notify.Notifier:
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    for key in ("WATCHDOG_USEC", "WATCHDOG_PID"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return notify.Notifier()


def test_each_notification_is_one_datagram_of_assignments(
    listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = notifier(monkeypatch, listener.getsockname())
    n.ready("2 bonds converged")
    n.status("2 bonds converged")  # unchanged: progress noted, nothing sent
    n.status("bond0 drifted")
    n.watchdog()
    n.reloading()
    n.stopping()
    got = [listener.recv(4096).decode().split("\n") for _ in range(5)]
    assert got[:3] == [
        ["READY=1", "STATUS=2 bonds converged"],
        ["STATUS=bond0 drifted"],
        ["WATCHDOG=1"],
    ]
    assert got[3][0] == "RELOADING=1" and got[3][1].startswith("MONOTONIC_USEC=")
    assert int(got[3][1].partition("=")[2]) > 0
    assert got[4] == ["STOPPING=1"]
    assert n.sender is not None and n.sender.failures == 0


def test_an_abstract_notify_socket_is_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"bondd-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        notifier(monkeypatch, "@" + name).watchdog()
        assert sock.recv(64) == b"WATCHDOG=1"


def test_a_notify_socket_nobody_reads_drops_and_counts_never_blocks(
    tmp_path: Path, listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = notifier(monkeypatch, str(tmp_path / "gone"))
    gone.ready("x")  # no such socket: dropped, no exception
    assert gone.sender is not None and gone.sender.failures == 1
    full(listener)
    sender = datagram.DatagramSender(listener.getsockname(), timeout=0.05)
    try:
        assert sender.send(b"WATCHDOG=1") is False
        assert sender.failures == 1
    finally:
        sender.close()


def test_outside_systemd_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    n = notify.Notifier()
    assert not n.enabled and n.sender is None
    n.ready("x")  # a no-op
    assert n.last_status == "x"


@pytest.mark.parametrize(
    ("env", "interval"),
    [
        ({"WATCHDOG_USEC": "20000000"}, 10.0),
        ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid())}, 10.0),
        ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"}, None),  # another process's
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_the_watchdog_is_pinged_at_half_systemds_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], interval: float | None
) -> None:
    assert notifier(monkeypatch, str(tmp_path / "s"), **env).watchdog_interval == interval
