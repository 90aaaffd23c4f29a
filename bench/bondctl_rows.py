"""`bondctl` as an admin meets it: each command as a whole process against a running daemon.

What an admin waits for is the process, not the daemon's share: Python's
start, the imports, the socket round trip and the daemon's work. Each row
times `bondctl ... COMMAND` as a fresh process (the venv's bondctl, as the
tests run it) next to a reference measured in the same run: `ip -batch` plus
one `python -c pass` for a converging apply, `python -c pass` for status,
`python -c 'import yaml'` for validate. Every step has a deadline
(bench/steps.py); the kernel's view (sysfs) checks that each apply, confirm
and rollback did what it says.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from bench import scenarios as s
from bench.steps import step
from bondd.protocol import request
from tests.kernel.daemon_harness import Daemon

SIZES = (1, 16, 64)
CONFIRM_TIMEOUT = "120"


def run(argv: list[str], *, ok: tuple[int, ...] = (0,)) -> float:
    """One process, start to exit; its wall time in seconds."""
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    elapsed = time.perf_counter() - started
    if proc.returncode not in ok:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()}")
    return elapsed


def best(argv: list[str], reps: int) -> float:
    """The fastest of `reps` warm starts: the host's other load only ever adds time."""
    run(argv)  # warm the page cache: every later start is a warm one, as on a used host
    return min(run(argv) for _ in range(reps))


def paired(argv: list[str], reference: list[str], reps: int) -> tuple[float, float]:
    """The fastest of `reps` starts of each, taken turn about so both see the same load."""
    run(argv)
    run(reference)
    mine, theirs = [], []
    for _ in range(reps):
        mine.append(run(argv))
        theirs.append(run(reference))
    return min(mine), min(theirs)


def all_rows(results: s.Results, reps: int) -> None:
    python = best([s.PYTHON, "-c", "pass"], 7)
    results.extra.append(f"Python start (`{s.PYTHON} -c pass`, best of 7): {s.ms(python)}")
    for bonds in SIZES:
        with step(f"bondctl apply, {bonds} bonds", 120 + 60 * reps):
            converge(results, bonds, reps, python)
    with step("bondctl commands, 64 bonds", 600):
        commands(results, 64, reps, python)


def converge(results: s.Results, bonds: int, reps: int, python: float) -> None:
    """`bondctl apply --yes FILE` from nothing, against `ip -batch` plus a Python start."""
    with (
        s.lab_with_ports(bonds),
        s.running_daemon() as (daemon, _),
        tempfile.TemporaryDirectory(prefix="bondctl-bench-") as tmp,
    ):
        new = Path(tmp) / s.CONFIG_NAME
        new.write_text(s.config(bonds))
        base = [s.BONDCTL, "--run-dir", str(daemon.run_dir), "--state-dir", str(daemon.state_dir)]
        base += ["--config-dir", str(daemon.config_dir)]
        limit, times, socket = [], [], []
        for _ in range(reps):
            limit.append(s.ip_batch(s.ip_commands(bonds)))
            s.ip_batch(s.ip_reset(bonds))
            assert not s.bonds_in_kernel()
            s.quiet(daemon)
            times.append(run([*base, "apply", "--yes", str(new)]))
            assert len(s.bonds_in_kernel()) == bonds
            last = bonds - 1
            assert s.sysfs(f"bond{last}/bonding/slaves").split() == [f"p{last}a", f"p{last}b"]
            s.quiet(daemon)
            _, answer = s.apply(daemon, s.EMPTY)
            assert answer["result"] == "committed" and not s.bonds_in_kernel(), answer
            s.quiet(daemon)
            # The daemon's share, timed at the control socket: the rest is the process.
            elapsed, answer = s.apply(daemon, s.config(bonds))
            assert answer["result"] == "committed" and len(s.bonds_in_kernel()) == bonds
            socket.append(elapsed)
            s.quiet(daemon)
            _, answer = s.apply(daemon, s.EMPTY)
            assert answer["result"] == "committed" and not s.bonds_in_kernel(), answer
            s.quiet(daemon)
    fastest, ref = min(times), min(limit) + python
    results.add(
        s.Row(
            f"`bondctl apply --yes` process, converge {bonds} bond{'s' if bonds > 1 else ''}",
            f"{fastest:.3f} s",
            f"ip -batch + python -c pass {ref:.3f} s",
            fastest / ref,
            "<= 1.2x",
            fastest / ref <= 1.2,
            f"whole process, best of {reps}; ip -batch {min(limit):.3f} s; the same apply"
            f" at the daemon's socket (no process) best {min(socket):.3f} s",
        )
    )


def commands(results: s.Results, bonds: int, reps: int, python: float) -> None:
    """status, plan, no-op apply, confirm, rollback and validate on a host with `bonds` bonds."""
    with (
        s.lab_with_ports(bonds),
        s.running_daemon() as (daemon, _),
        tempfile.TemporaryDirectory(prefix="bondctl-bench-") as tmp,
    ):
        new, changed = Path(tmp) / s.CONFIG_NAME, Path(tmp) / "changed" / s.CONFIG_NAME
        changed.parent.mkdir()
        new.write_text(s.config(bonds))
        changed.write_text(s.config(bonds, miimon={0: 50}))
        base = [s.BONDCTL, "--run-dir", str(daemon.run_dir), "--state-dir", str(daemon.state_dir)]
        base += ["--config-dir", str(daemon.config_dir)]
        run([*base, "apply", "--yes", str(new)])
        assert len(s.bonds_in_kernel()) == bonds
        s.quiet(daemon, 1.0)
        reps5 = max(reps, 7)
        pass_ = [s.PYTHON, "-c", "pass"]

        status, python = paired([*base, "status"], pass_, 2 * reps5)
        request(daemon.run_dir, {"cmd": "status", "report": "text"})  # now from the cache
        started = time.perf_counter()
        answer = request(daemon.run_dir, {"cmd": "status", "report": "text"})
        round_trip = time.perf_counter() - started
        results.add(
            s.Row(
                f"`bondctl status` process, {bonds} bonds, daemon running",
                s.ms(status),
                f"python -c pass {s.ms(python)}",
                status / python,
                "<= 1.5x",
                status / python <= 1.5,
                f"best of {2 * reps5}, turn about with the reference;"
                f" the daemon's answer alone {s.ms(round_trip)}"
                f" ({answer.get('source')})",
            )
        )
        plan, python = paired([*base, "plan"], pass_, reps5)
        results.add(
            s.Row(
                f"`bondctl plan` process, {bonds} bonds converged",
                s.ms(plan),
                f"python -c pass {s.ms(python)}",
                plan / python,
                note=f"best of {reps5}, turn about; the daemon reads and plans",
            )
        )
        noop, python = paired([*base, "apply", "--yes", str(new)], pass_, reps5)
        results.add(
            s.Row(
                f"`bondctl apply --yes` process, no-op, {bonds} bonds",
                s.ms(noop),
                f"python -c pass {s.ms(python)}",
                noop / python,
                note=f"best of {reps5}, turn about; nothing to do",
            )
        )
        confirm, rollback = [], []
        for _ in range(reps):
            window = [*base, "apply", "--yes", "--confirm-timeout", CONFIRM_TIMEOUT, "--no-wait"]
            run([*window, str(changed)])
            assert s.sysfs("bond0/bonding/miimon") == "50"
            confirm.append(run([*base, "confirm"]))
            assert daemon_idle_of_pending(daemon)
            run([*window, str(new)])
            assert s.sysfs("bond0/bonding/miimon") == "100"
            rollback.append(run([*base, "rollback"]))
            assert s.sysfs("bond0/bonding/miimon") == "50"  # back to the confirmed change
            run([*base, "apply", "--yes", str(new)])  # miimon 100 again, committed
            assert s.sysfs("bond0/bonding/miimon") == "100"
            s.quiet(daemon)
        for name, samples, what in (
            ("confirm", confirm, "commits the waiting change"),
            ("rollback", rollback, "restores bond0's miimon and verifies"),
        ):
            fastest = min(samples)
            results.add(
                s.Row(
                    f"`bondctl {name}` process, {bonds} bonds",
                    s.ms(fastest),
                    f"python -c pass {s.ms(python)}",
                    fastest / python,
                    note=f"best of {reps}; {what}",
                )
            )
        validate, yaml_import = paired(
            [s.BONDCTL, "--config-dir", str(daemon.config_dir), "validate"],
            [s.PYTHON, "-c", "import yaml"],
            2 * reps5,
        )
        results.add(
            s.Row(
                f"`bondctl validate` process, {bonds} bonds",
                s.ms(validate),
                f"python -c 'import yaml' {s.ms(yaml_import)}",
                validate / yaml_import,
                "<= 2x",
                validate / yaml_import <= 2.0,
                f"best of {2 * reps5}, turn about; no kernel, no pyroute2, no engine",
            )
        )


def daemon_idle_of_pending(daemon: Daemon) -> bool:
    answer = request(daemon.run_dir, {"cmd": "status"})
    return answer.get("pending") is None
