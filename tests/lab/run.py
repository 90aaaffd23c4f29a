#!/usr/bin/env python3
"""Boot the bondd lab kernel and run one command inside it.

The hosts bondd is developed and tested on have no bonding driver, so the
kernel tier runs in a User-Mode Linux kernel (Debian's `user-mode-linux`)
whose root filesystem is the host's `/`. The command sees the same files,
the same virtualenv and the same working directory as on the host, but a
kernel of its own: a private network stack with the bonding, veth, dummy,
bridge and 8021q drivers, and private /run and /tmp.

    python3 tests/lab/run.py [--mem 1G] [--timeout S] -- COMMAND [ARG...]

The exit status is the command's; 125 means the lab itself failed.
Only the standard library is used: this runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.lab.uml import (  # noqa: E402
    Console,
    Kernel,
    LabError,
    diagnose,
    end_on_signals,
    find_kernel,
    kernel_version,
    xstate_shim,
)

INIT = REPO / "tests" / "lab" / "init.sh"
UML_MODULES = Path("/usr/lib/uml/modules")
LAB_FAILED = 125


def lab_dir() -> Path:
    path = REPO / ".lab"
    path.mkdir(parents=True, exist_ok=True)
    return path


def module_root(base: Path) -> Path:
    """A directory laid out as ROOT/lib/modules/VERSION for `modprobe -d ROOT`.

    The version is whatever the installed UML package ships, so an upgraded
    package needs no change here.
    """
    versions = sorted(p.name for p in UML_MODULES.iterdir()) if UML_MODULES.is_dir() else []
    if not versions:
        raise LabError(f"no UML modules under {UML_MODULES}; install user-mode-linux")
    root = base / "modroot"
    (root / "lib" / "modules").mkdir(parents=True, exist_ok=True)
    for version in versions:
        link = root / "lib" / "modules" / version
        # Two labs booting at once (CI runs two kernel stages side by side)
        # both find the link missing on a fresh checkout: one of them wins.
        with contextlib.suppress(FileExistsError):
            link.symlink_to(UML_MODULES / version)
    return root


def write_job(base: Path, command: list[str], rc_file: Path) -> Path:
    job = base / f"job-{os.getpid()}.sh"
    env_lines = [
        f"export {name}={shlex.quote(value)}"
        for name, value in sorted(os.environ.items())
        if name
        in {
            "PATH",
            "HOME",
            "LANG",
            "LC_ALL",
            "TERM",
            "CI",
            "PYTHONPATH",
            "VIRTUAL_ENV",
            "PY_COLORS",
            "NO_COLOR",
        }
        or name.startswith(("BONDD_", "PYTEST_"))
    ]
    job.write_text(
        "\n".join(
            [
                *env_lines,
                "export BONDD_LAB=1",
                # Progress reaches the console (and CI's log) as it happens, so a
                # lab that hangs or dies shows how far it got.
                "export PYTHONUNBUFFERED=1",
                f"cd {shlex.quote(os.getcwd())} || exit 125",
                f"{shlex.join(command)} </dev/null",
                f"echo $? > {shlex.quote(str(rc_file))}",
                "",
            ]
        )
    )
    return job


def boot(command: list[str], mem: str, timeout: float) -> int:
    base = lab_dir()
    for path in (base, INIT, REPO):
        if any(c.isspace() for c in str(path)):
            raise LabError(f"{path} contains white space; kernel parameters cannot carry it")
    kernel = find_kernel()
    shim = xstate_shim(base)
    rc_file = base / f"job-{os.getpid()}.rc"
    rc_file.unlink(missing_ok=True)
    job = write_job(base, command, rc_file)
    uml_dir = base / "uml"
    uml_dir.mkdir(exist_ok=True)
    argv = [
        str(kernel),
        f"mem={mem}",
        f"uml_dir={uml_dir}",
        "rootfstype=hostfs",
        "rootflags=/",
        "rw",
        f"init={INIT}",
        f"BONDD_LAB_JOB={job}",
        f"BONDD_LAB_KEEP={REPO}",
        f"BONDD_LAB_MODS={module_root(base)}",
        "con=null",
        "con0=null,fd:1",
        "quiet",
    ]
    console = Console()
    started = time.monotonic()
    lab = Kernel(argv, subprocess.PIPE, shim)
    # The deadline holds even while the kernel prints nothing.
    alarm = threading.Timer(timeout, lab.kill)
    alarm.daemon = True
    alarm.start()
    try:
        stdout = lab.proc.stdout
        assert stdout is not None
        for raw in stdout:
            text = raw.decode("utf-8", "replace").replace("\r", "")
            console.feed(text)
            sys.stdout.write(text)
            sys.stdout.flush()
        lab.proc.wait()
    finally:
        alarm.cancel()
        status = lab.stop()
        job.unlink(missing_ok=True)
    elapsed = time.monotonic() - started
    version = kernel_version(kernel)
    if lab.killed:
        print(
            f"bondd-lab: timed out after {timeout:.0f}s (BONDD_LAB_TIMEOUT or --timeout "
            "sets the limit); the lab kernel was stopped",
            file=sys.stderr,
        )
        print(diagnose(kernel, version, console.tail(), None, shim), file=sys.stderr)
        return LAB_FAILED
    if not rc_file.exists():
        print(diagnose(kernel, version, console.tail(), status, shim), file=sys.stderr)
        return LAB_FAILED
    rc = int(rc_file.read_text().strip() or LAB_FAILED)
    rc_file.unlink()
    print(f"bondd-lab: command exited {rc}; lab wall time {elapsed:.1f}s", file=sys.stderr)
    return rc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mem", default=os.environ.get("BONDD_LAB_MEM", "1536M"))
    parser.add_argument(
        "--timeout", type=float, default=float(os.environ.get("BONDD_LAB_TIMEOUT", "1800"))
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to run inside the lab, e.g. -- uname -r")
    if os.geteuid() != 0:
        sys.exit("bondd-lab: run as root (the lab kernel mounts and loads modules as its PID 1)")
    end_on_signals()
    try:
        return boot(command, args.mem, args.timeout)
    except LabError as err:
        print(f"bondd-lab: {err}", file=sys.stderr)
        return LAB_FAILED


if __name__ == "__main__":
    sys.exit(main())
