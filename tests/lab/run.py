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
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INIT = REPO / "tests" / "lab" / "init.sh"
UML_MODULES = Path("/usr/lib/uml/modules")
LAB_FAILED = 125


def lab_dir() -> Path:
    path = REPO / ".lab"
    path.mkdir(parents=True, exist_ok=True)
    return path


def find_kernel() -> Path:
    found = shutil.which("linux.uml") or shutil.which("linux")
    if found is None or not Path(found).name.startswith("linux"):
        sys.exit(
            "bondd-lab: no User-Mode Linux kernel; install it: apt-get install user-mode-linux"
        )
    return Path(found)


def module_root(base: Path) -> Path:
    """A directory laid out as ROOT/lib/modules/VERSION for `modprobe -d ROOT`.

    The version is whatever the installed UML package ships, so an upgraded
    package needs no change here.
    """
    versions = sorted(p.name for p in UML_MODULES.iterdir()) if UML_MODULES.is_dir() else []
    if not versions:
        sys.exit(f"bondd-lab: no UML modules under {UML_MODULES}; install user-mode-linux")
    root = base / "modroot"
    (root / "lib" / "modules").mkdir(parents=True, exist_ok=True)
    for version in versions:
        link = root / "lib" / "modules" / version
        if not link.is_symlink():
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
            sys.exit(f"bondd-lab: {path} contains white space; kernel parameters cannot carry it")
    rc_file = base / f"job-{os.getpid()}.rc"
    rc_file.unlink(missing_ok=True)
    job = write_job(base, command, rc_file)
    uml_dir = base / "uml"
    uml_dir.mkdir(exist_ok=True)
    argv = [
        str(find_kernel()),
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
    # UML backs its memory with a file in TMPDIR: keep that in RAM.
    env = dict(os.environ, TMPDIR="/dev/shm")
    started = time.monotonic()
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    assert proc.stdout is not None
    try:
        deadline = started + timeout
        for raw in proc.stdout:
            sys.stdout.write(raw.decode("utf-8", "replace").replace("\r", ""))
            sys.stdout.flush()
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(argv, timeout)
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        print(f"bondd-lab: timed out after {timeout:.0f}s", file=sys.stderr)
        proc.kill()
        proc.wait()
        return LAB_FAILED
    finally:
        job.unlink(missing_ok=True)
    elapsed = time.monotonic() - started
    if not rc_file.exists():
        print("bondd-lab: the lab kernel stopped without a result (crash?)", file=sys.stderr)
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
    return boot(command, args.mem, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
