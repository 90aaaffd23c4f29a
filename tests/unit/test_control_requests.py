"""The control socket's request checks, and its non-blocking server, on real UNIX sockets."""

from __future__ import annotations

import json
import select
import socket
import time
from pathlib import Path

import pytest

from bondd import protocol
from bondd.daemon import control, requests
from bondd.daemon.requests import RequestError, parse
from tests.unit.hostile.requests import CASES

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("name", "data", "uid", "expected"), CASES, ids=[c[0] for c in CASES])
def test_hostile_request_is_refused_with_a_message(
    name: str, data: bytes, uid: int, expected: str
) -> None:
    with pytest.raises(RequestError) as caught:
        parse(data.rstrip(b"\n"), uid)
    assert expected in caught.value.message
    assert caught.value.message.isprintable() and len(caught.value.message) < 300


def test_good_requests_pass_checked() -> None:
    assert parse(b'{"cmd": "status"}', 1000).cmd == "status"
    hold = parse(b'{"cmd": "hold", "bond": "bond0", "seconds": 12.5}', 0)
    assert hold.fields == {"bond": "bond0", "seconds": 12.5}
    apply = parse(
        json.dumps(
            {
                "cmd": "apply",
                "files": [{"name": "a.yaml", "content": "x: 1\n"}],
                "confirm_timeout": 60,
                "probes": False,
                "expected": "0f3a",
            }
        ).encode(),
        0,
    )
    assert apply.fields == {
        "files": [("a.yaml", "x: 1\n")],
        "confirm_timeout": 60.0,
        "probes": False,
        "expected": "0f3a",
    }
    assert parse(b'{"cmd": "apply", "confirm_timeout": 0}', 0).fields["confirm_timeout"] == 0.0


def test_depth_skips_brackets_inside_strings() -> None:
    assert requests.depth(b'{"a": "[[[[[[[[[[[[\\"[[[[["}') == 1
    assert requests.depth(b"[[[]]]") == 3


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(str(path))
    return sock


def test_a_trickling_client_never_blocks_a_second_one_and_is_cut_off_at_its_deadline(
    tmp_path: Path,
) -> None:
    server = control.ControlServer(tmp_path)
    try:
        slow = _connect(server.path)
        slow.sendall(b'{"cmd": ')
        start = time.monotonic()
        assert server.poll() == []  # returns at once with half a request
        fast = _connect(server.path)
        fast.sendall(b'{"cmd": "status"}\n')
        time.sleep(0.05)
        [(conn, _uid, req)] = server.poll()
        assert req.cmd == "status"
        control.reply(conn, {"ok": True})
        assert protocol.read_answer(fast) == {"ok": True}
        assert time.monotonic() - start < 1.0
        slow.sendall(b'"sta')  # a byte now and then does not extend the deadline
        due = server.next_deadline()
        assert due is not None
        assert server.poll(now=due + 0.01) == []
        answer = protocol.read_answer(slow)
        assert answer["ok"] is False and "deadline" in str(answer["error"])
        assert server.clients == {}
    finally:
        server.close()


def test_every_hostile_request_gets_an_error_reply_over_the_socket(tmp_path: Path) -> None:
    server = control.ControlServer(tmp_path)
    try:
        for name, data, uid, expected in CASES:
            if uid != 0 or len(data) > 1 << 20:
                continue  # the test runs as one uid; sizes are covered by the parser test
            sock = _connect(server.path)
            sock.sendall(data)
            deadline = time.monotonic() + 5
            while not select.select([sock], [], [], 0.01)[0] and time.monotonic() < deadline:
                assert server.poll() == [], name
            answer = protocol.read_answer(sock)
            assert answer["ok"] is False and expected in str(answer["error"]), (name, answer)
            sock.close()
    finally:
        server.close()


def test_the_status_group_is_checked_from_the_peers_credentials(tmp_path: Path) -> None:
    assert control.in_group(0, 0, 4242)  # root always
    assert control.in_group(65534, 65534, 65534)  # primary group
    assert not control.in_group(65534, 65534, 0)  # nobody is not in group root
    # With a group the socket file is open to all (no chown, no CAP_CHOWN needed) ...
    server = control.ControlServer(tmp_path, "root")
    try:
        assert server.path.stat().st_mode & 0o777 == 0o666
        sock = _connect(server.path)  # ... and the test runs as root: admitted
        sock.sendall(b'{"cmd": "status"}\n')
        time.sleep(0.05)
        [(_conn, uid, req)] = server.poll()
        assert uid == 0 and req.cmd == "status"
    finally:
        server.close()
