#!/usr/bin/env python3
"""Boot the system-tier guest: Debian 12 with systemd as PID 1, under UML.

The root filesystem comes from tests/system/rootfs.sh (built once per
machine and cached). Each guest boots it through a throwaway overlayfs on
the host, so every run starts from the pristine tree; several boots of one
`Guest` share the overlay, so a second boot sees what the first installed
(a reboot). Files for a boot are copied into the guest's /lab; the job
script runs as /lab/job.sh once multi-user.target is reached; its output,
exit status and the boot's journal come back through /lab.

    python3 tests/system/run.py [--file PATH]... [--keep] SCRIPT

prints the job's output and exits with its status (125: the guest failed).
Only the standard library: this runs on the host, outside any virtualenv.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.lab.uml import (  # noqa: E402
    Console,
    Kernel,
    diagnose,
    end_on_signals,
    find_kernel,
    kernel_version,
    xstate_shim,
)

ROOTFS_SH = REPO / "tests" / "system" / "rootfs.sh"
GUEST_FAILED = 125
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class BootResult:
    rc: int
    output: str  # what /lab/job.sh printed
    journal: str  # journalctl -b of the guest, short-monotonic
    console: str  # the guest's console
    seconds: float  # wall time of the boot, power-on to power-off


def rootfs() -> Path:
    """The cached root filesystem, built first if missing."""
    done = subprocess.run(["bash", str(ROOTFS_SH)], check=False, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"tests/system/rootfs.sh failed with exit {done.returncode}")
    return Path(done.stdout.strip().splitlines()[-1])


def sweep_stale(parent: Path) -> None:
    """Guests of runs that died still mounted (named NAME-PID, the PID gone):
    unmount, remove.

    A killed run never reaches `close`, and its overlay would stay mounted
    under .lab/system until the machine reboots.
    """
    if not parent.is_dir():
        return
    for old in parent.iterdir():
        pid = old.name.rpartition("-")[2]
        alive = not pid.isdigit() or Path(f"/proc/{pid}").exists()
        if alive or not os.path.ismount(old / "merged"):
            continue  # a live run's, or one closed with --keep: left as it is
        subprocess.run(["umount", str(old / "merged")], check=False)
        if not os.path.ismount(old / "merged"):
            shutil.rmtree(old, ignore_errors=True)


class Guest:
    """One guest disk (an overlay over the cached tree) that can be booted several times."""

    def __init__(self, name: str, base: Path | None = None, keep: bool = False) -> None:
        self.base = base if base is not None else rootfs()
        self.keep = keep
        sweep_stale(REPO / ".lab" / "system")
        self.dir = REPO / ".lab" / "system" / f"{name}-{os.getpid()}"
        for path in (self.dir, self.base):
            if any(c.isspace() or c == "," for c in str(path)):
                raise RuntimeError(f"{path}: spaces and commas cannot pass as kernel parameters")
        if self.dir.exists():
            self._unmount()
            shutil.rmtree(self.dir)
        self.upper = self.dir / "upper"
        self.merged = self.dir / "merged"
        for sub in (self.upper, self.dir / "work", self.merged, self.dir / "uml"):
            sub.mkdir(parents=True)
        subprocess.run(
            [
                "mount", "-t", "overlay", "overlay", "-o",
                f"lowerdir={self.base},upperdir={self.upper},workdir={self.dir / 'work'}",
                str(self.merged),
            ],
            check=True,
        )  # fmt: skip
        self.mounted = True
        self.boots = 0

    def __enter__(self) -> Guest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def boot(
        self, script: Path, files: Sequence[Path] = (), timeout: float = DEFAULT_TIMEOUT
    ) -> BootResult:
        self.boots += 1
        lab = self.merged / "lab"
        lab.mkdir(exist_ok=True)
        for stale in ("job.sh", "rc", "rc.tmp", "out.log", "journal.txt"):
            (lab / stale).unlink(missing_ok=True)
        for path in files:
            shutil.copy2(path, lab / path.name)
        shutil.copy2(script, lab / "job.sh")
        argv = [
            str(find_kernel()),
            "mem=1G",
            f"uml_dir={self.dir / 'uml'}",
            "rootfstype=hostfs",
            f"rootflags={self.merged}",
            "rw",
            "init=/lib/systemd/systemd",
            "con=null",
            "con0=null,fd:1",
            "quiet",
            "systemd.show_status=0",
        ]
        console_path = self.dir / f"console-{self.boots}.log"
        kernel = argv[0]
        shim = xstate_shim(REPO / ".lab")
        started = time.monotonic()
        with console_path.open("wb") as console:
            guest = Kernel(argv, console, shim)
            try:
                guest.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                print(f"bondd-system: guest timed out after {timeout:.0f}s", file=sys.stderr)
            finally:
                status = guest.stop()
        seconds = time.monotonic() - started
        if not (lab / "rc").exists():
            tail = Console()
            tail.feed(_read(console_path))
            print(
                diagnose(Path(kernel), kernel_version(Path(kernel)), tail.tail(), status, shim),
                file=sys.stderr,
            )
        rc_text = _read(lab / "rc").strip()
        return BootResult(
            rc=int(rc_text) if rc_text.lstrip("-").isdigit() else GUEST_FAILED,
            output=_read(lab / "out.log"),
            journal=_read(lab / "journal.txt"),
            console=_read(console_path).replace("\r", ""),
            seconds=seconds,
        )

    def close(self) -> None:
        self._unmount()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _unmount(self) -> None:
        merged = self.dir / "merged"
        if os.path.ismount(merged):
            subprocess.run(["umount", str(merged)], check=False)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("script", type=Path, help="shell script to run in the guest")
    parser.add_argument("--file", type=Path, action="append", default=[], help="copy into /lab")
    parser.add_argument("--keep", action="store_true", help="keep the overlay in .lab/system")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run as root (overlay mounts and the guest's systemd need it)")
    end_on_signals()
    with Guest(args.script.stem, keep=args.keep) as guest:
        result = guest.boot(args.script, args.file, args.timeout)
        if args.keep:
            print(f"bondd-system: guest disk kept in {guest.dir}", file=sys.stderr)
    sys.stdout.write(result.output)
    if result.rc == GUEST_FAILED:
        sys.stdout.write(result.console[-4000:])
    print(f"bondd-system: job exited {result.rc}; boot wall time {result.seconds:.1f}s")
    return result.rc


if __name__ == "__main__":
    sys.exit(main())
