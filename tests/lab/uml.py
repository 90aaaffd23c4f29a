"""Start User-Mode Linux for the lab and the system tier, and say why it died.

Shared by tests/lab/run.py (the kernel tier, the demo, the benchmarks) and
tests/system/run.py (the systemd guest), so that both:
- find the same kernel (`BONDD_LAB_KERNEL` overrides the installed one);
- preload the xstate shim (tests/lab/xstate.c), without which UML panics at
  its first return to user space on hosts whose FPU state is larger than
  UML's XSAVE buffer (Intel CPUs with AMX). It is built here on first use
  with the system's C compiler and loaded on every host: where it is not
  needed it passes every call straight to libc after the first;
- never leave a kernel running after the process that booted it ends, however
  it ends (a keeper process kills UML's whole process group when the booting
  process's pipe closes, SIGKILL included);
- turn a boot that died into a diagnosis: the panic, the last console lines,
  which kernel, and what to do.

Only the standard library: this runs before any virtualenv exists.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
XSTATE_SOURCE = HERE / "xstate.c"
CONSOLE_LINES = 300
SHOWN_LINES = 25
# Stack traces and register dumps say nothing to the person reading the diagnosis.
_NOISE = re.compile(r"\[<[0-9a-f]+>\]|^\s*([0-9a-f]{8,16}\s*)+$|^(Stack|Call Trace):")
_LEVEL = re.compile(r"^<\d>")

# The keeper reads the kernel's process group from its stdin, then waits for
# end of file: the booting process closed the pipe, by exiting or by dying.
# Unless it said "done" first, the kernel is still running: kill the group.
_KEEPER = """
import os, signal, sys
for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(number, signal.SIG_IGN)
group = int(sys.stdin.readline())
if sys.stdin.read().strip() != "done":
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
"""


class LabError(Exception):
    """The lab could not be started; the message says what to do."""


def find_kernel() -> Path:
    """The UML kernel: $BONDD_LAB_KERNEL, or Debian's `linux.uml`."""
    override = os.environ.get("BONDD_LAB_KERNEL")
    if override:
        path = Path(override)
        if not path.is_file() or not os.access(path, os.X_OK):
            raise LabError(
                f"BONDD_LAB_KERNEL={override}: no executable kernel there; "
                "unset it to use Debian's linux.uml (apt-get install user-mode-linux)"
            )
        return path
    found = shutil.which("linux.uml") or shutil.which("linux")
    if found is None or not Path(found).name.startswith("linux"):
        raise LabError(
            "no User-Mode Linux kernel; install it: apt-get install user-mode-linux "
            "(scripts/setup.sh does)"
        )
    return Path(found)


def kernel_version(kernel: Path) -> str:
    try:
        done = subprocess.run(
            [str(kernel), "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"version unknown: {err}"
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else "version unknown"


def host_has_amx() -> bool:
    try:
        return " amx_tile" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def xstate_shim(build_dir: Path) -> Path | None:
    """The shim's shared object, built once per source version; None without a compiler.

    `BONDD_LAB_XSTATE=off` boots without it (to measure what it costs).
    """
    if os.environ.get("BONDD_LAB_XSTATE") == "off":
        return None
    digest = hashlib.sha256(XSTATE_SOURCE.read_bytes()).hexdigest()[:12]
    built = build_dir / f"xstate-{digest}.so"
    if built.is_file():
        return built
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        print(
            "bondd-lab: no C compiler, so the xstate shim is not built; hosts with AMX "
            "need it: apt-get install gcc libc6-dev (scripts/setup.sh does)",
            file=sys.stderr,
        )
        return None
    build_dir.mkdir(parents=True, exist_ok=True)
    # Two labs may start at once: build under a private name, rename into place.
    partial = build_dir / f".xstate-{digest}-{os.getpid()}.so"
    flags = ["-shared", "-fPIC", "-O2", "-Wall"]
    done = subprocess.run(
        [compiler, *flags, "-o", str(partial), str(XSTATE_SOURCE), "-ldl"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise LabError(f"building the xstate shim failed:\n{done.stderr.strip()}")
    os.replace(partial, built)
    return built


class Console:
    """The last lines a kernel printed, kept for the diagnosis."""

    def __init__(self, lines: int = CONSOLE_LINES) -> None:
        self._lines: collections.deque[str] = collections.deque(maxlen=lines)
        self._partial = ""

    def feed(self, text: str) -> None:
        text = self._partial + text.replace("\r", "")
        *complete, self._partial = text.split("\n")
        self._lines.extend(complete)

    def tail(self) -> list[str]:
        return [*self._lines, *([self._partial] if self._partial else [])]


_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"ptrace set fp regs failed|fp regs"),
        "UML could not restore a process's FPU state: the host's xstate is larger than "
        "UML's XSAVE buffer (AMX: {amx}). The xstate shim (tests/lab/xstate.c) fixes this; "
        "it was {shim}.",
    ),
    (
        re.compile(r"Out of memory|oom-kill|Killed process|Failed to allocate|deadlocked on mem"),
        "the lab ran out of memory: give it more (BONDD_LAB_MEM=2G or --mem 2G).",
    ),
    (
        re.compile(r"No working init found|Requested init .* failed|Failed to execute"),
        "the kernel found no init to run: check the init path on its command line.",
    ),
    (
        re.compile(r"VFS: Unable to mount root|hostfs"),
        "the kernel could not mount its root filesystem (hostfs): check rootflags=.",
    ),
)


def diagnose(
    kernel: Path, version: str, console: Iterable[str], status: int | None, shim: Path | None
) -> str:
    """One screen saying why a boot ended without a result."""
    lines = [_LEVEL.sub("", line) for line in console]
    lines = [line for line in lines if line.strip() and not _NOISE.search(line)][-SHOWN_LINES:]
    how = "still running" if status is None else f"exit status {status}"
    if status is not None and status < 0:
        how = f"killed by signal {-status}"
    out = [f"bondd-lab: the lab kernel ended without a result ({kernel}, {version}; {how})"]
    panics = [line for line in lines if "Kernel panic" in line]
    if panics:
        out.append(f"  panic: {panics[0].strip()}")
    text = "\n".join(lines)
    shim_state = f"loaded from {shim}" if shim is not None else "not loaded"
    if not lines:
        out.append(
            f"  why: the kernel printed nothing: check that {kernel} is a User-Mode Linux "
            "kernel (apt-get install user-mode-linux) and, if BONDD_LAB_KERNEL is set, "
            "that it names one"
        )
        return "\n".join(out)
    for pattern, hint in _HINTS:
        if pattern.search(text):
            amx = "yes" if host_has_amx() else "no"
            out.append("  why: " + hint.format(amx=amx, shim=shim_state))
            break
    else:
        out.append(
            "  why: not recognised; read the console lines below, and rerun the same "
            "command to see whether it repeats"
        )
    out.append(f"  last {len(lines)} console lines:")
    out.extend(f"    | {line}" for line in lines)
    return "\n".join(out)


class Kernel:
    """A running UML kernel whose whole process group ends with this object's owner."""

    def __init__(self, argv: list[str], stdout: IO[bytes] | int, shim: Path | None) -> None:
        env = dict(os.environ, TMPDIR="/dev/shm")  # UML backs its memory with a file there
        if shim is not None:
            env["LD_PRELOAD"] = " ".join(filter(None, [str(shim), env.get("LD_PRELOAD", "")]))
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        except OSError as err:
            raise LabError(f"cannot start {argv[0]}: {err.strerror}") from err
        self._keeper = subprocess.Popen(
            [sys.executable, "-I", "-c", _KEEPER],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            cwd="/",
        )
        assert self._keeper.stdin is not None
        self._keeper.stdin.write(f"{self.proc.pid}\n")
        self._keeper.stdin.flush()
        self.killed = False

    def kill(self) -> None:
        """End the kernel now (a deadline ran out); its output pipe closes."""
        self.killed = True
        self._kill_group()

    def _kill_group(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def stop(self) -> int | None:
        """Kill what is left of the kernel's group; its exit status, or None if it was running."""
        status = None if self.killed else self.proc.poll()
        self._kill_group()
        self.proc.wait()
        stdin = self._keeper.stdin
        if stdin is not None and not stdin.closed:
            with contextlib.suppress(OSError):
                stdin.write("done\n")
                stdin.close()
        self._keeper.wait()
        return status


def end_on_signals() -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so `finally` blocks stop the kernel."""

    def leave(number: int, _frame: object) -> None:
        raise SystemExit(128 + number)

    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, leave)
