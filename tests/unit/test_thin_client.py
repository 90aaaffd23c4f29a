"""With a daemon, bondctl's daemon-backed commands import only the protocol and their rendering.

Each command runs as its own process (what an admin starts) against a
stand-in daemon on a real UNIX socket that answers as bondd's does; the
process then lists the modules it imported. `validate` and every `--help`
must not load pyroute2, the engine or the kernel layer at all. (The real
daemon answering these commands is tests/kernel/test_daemon.py's.)
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bondd import protocol

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("pyroute2", "bondd.engine", "bondd.kernel", "bondd.daemon")
# Not even the config loader (YAML) nor the model: the daemon validated and rendered.
# Nor typing and dataclasses, whose imports alone were a third of status's own start.
THIN_ALSO = (
    "yaml",
    "bondd.config",
    "bondd.model",
    "bondd.plan",
    "bondd.render.plan",
    "typing",
    "dataclasses",
    # Nor logging (the local apply's journal line), socket (the C module is
    # enough), shutil (argparse's terminal width) or signal (Interrupted's name).
    "logging",
    "socket",
    "selectors",
    "shutil",
    "signal",
)
PROBE = """
import json, sys
from bondd.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
sys.exit(code)
"""

ANSWERS: dict[str, dict[str, Any]] = {
    "status": {"ok": True, "report": "bond0: active-backup, 2 ports (stand-in)"},
    "plan": {"ok": True, "text": "no changes", "empty": True, "ops": 0, "plan": {"ops": []}},
    "apply": {"ok": True, "result": "converged", "txn": None, "gates": [], "plan_text": ""},
    "confirm": {"ok": True, "txn": "t1"},
    "rollback": {"ok": True, "txn": "t1"},
}


CONNECTIONS: list[bytes] = []  # what each connection the stand-in accepted sent


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Path]:
    """A stand-in daemon: one answer per connection, as bondd/daemon/control.py sends it."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(protocol.socket_path(tmp_path)))
    server.listen(8)
    stop = threading.Event()
    CONNECTIONS.clear()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                CONNECTIONS.append(b"")
                data = b""
                while not data.endswith(b"\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if not data:
                    continue  # daemon_running's connect
                CONNECTIONS[-1] = data
                question = json.loads(data)
                answer = dict(ANSWERS[question["cmd"]])
                if question["cmd"] == "status" and "report" not in question:
                    answer = {"ok": True, "state_dir": str(tmp_path), "explicit": False}
                conn.sendall(protocol.encode(answer))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield tmp_path
    stop.set()
    server.close()
    thread.join(5)


def bondctl(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    line = run.stderr.rpartition("\nMODULES ")[2]
    return run, set(json.loads(line))


def loaded(modules: set[str], prefixes: tuple[str, ...]) -> set[str]:
    return {m for m in modules if m.startswith(prefixes)}


@pytest.mark.parametrize(
    "argv",
    [
        ("status",),
        ("status", "--json"),
        ("--json", "plan"),
        ("apply", "--yes"),
        ("apply",),  # asks: the daemon's plan is empty, so nothing to ask
        ("confirm",),
        ("rollback",),
    ],
    ids=" ".join,
)
@pytest.mark.skipif(os.geteuid() != 0, reason="the daemon path is root's (CI runs as root)")
def test_daemon_backed_commands_import_only_the_protocol(
    daemon: Path, argv: tuple[str, ...]
) -> None:
    run, modules = bondctl("--run-dir", str(daemon), "--state-dir", str(daemon), *argv)
    assert run.returncode == 0, run.stderr
    assert not loaded(modules, HEAVY + THIN_ALSO), sorted(loaded(modules, HEAVY + THIN_ALSO))
    assert "bondd.protocol" in modules


@pytest.mark.parametrize(
    ("argv", "asked"),
    [
        (("apply", "--yes"), ["status", "apply"]),
        (("apply",), ["status", "plan", "apply"]),
        (("confirm",), ["confirm"]),
        (("rollback",), ["rollback"]),
        (("status",), ["status"]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else "",
)
@pytest.mark.skipif(os.geteuid() != 0, reason="the daemon path is root's (CI runs as root)")
def test_each_request_is_one_connection_and_finding_the_daemon_costs_none_extra(
    daemon: Path, argv: tuple[str, ...], asked: list[str]
) -> None:
    run, _ = bondctl("--run-dir", str(daemon), "--state-dir", str(daemon), *argv)
    assert run.returncode == 0, run.stderr
    assert [json.loads(c)["cmd"] if c else "" for c in CONNECTIONS] == asked


def test_status_prints_the_daemons_report(daemon: Path) -> None:
    run, _ = bondctl("--run-dir", str(daemon), "status")
    assert run.stdout.strip() == ANSWERS["status"]["report"]


def test_validate_never_imports_pyroute2_or_the_engine(tmp_path: Path) -> None:
    for n in range(64):
        (tmp_path / f"{n:02d}-bond.yaml").write_text(
            f"network:\n  version: 2\n  ethernets:\n    p{n}a: {{}}\n    p{n}b: {{}}\n"
            f"  bonds:\n    bond{n}:\n      interfaces: [p{n}a, p{n}b]\n"
            "      parameters: {mode: active-backup, mii-monitor-interval: 100}\n"
        )
    run, modules = bondctl("validate", "--config-dir", str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert "valid: 64 files, 64 bonds" in run.stdout
    assert not loaded(modules, HEAVY), sorted(loaded(modules, HEAVY))


@pytest.mark.parametrize("command", ["status", "apply", "validate"])
def test_a_commands_help_imports_no_kernel_and_no_engine(command: str) -> None:
    run, modules = bondctl(command, "--help")
    assert run.returncode == 0, run.stderr
    assert f"bondctl {command}" in run.stdout
    assert not loaded(modules, HEAVY), sorted(loaded(modules, HEAVY))


def test_the_whole_help_still_lists_every_command() -> None:
    run, _ = bondctl("--help")
    for command in ("validate", "plan", "apply", "status", "confirm", "rollback", "takeover"):
        assert command in run.stdout


def test_the_result_names_bondctl_prints_from_are_the_engines() -> None:
    from bondd.engine.transaction import Status  # noqa: PLC0415 (this test only)
    from bondd.render import result  # noqa: PLC0415

    assert (
        Status.CONVERGED.value,
        Status.WAITING.value,
        Status.ROLLED_BACK.value,
    ) == (result.CONVERGED, result.WAITING, result.ROLLED_BACK)
