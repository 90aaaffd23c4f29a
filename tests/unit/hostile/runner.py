"""Run hostile cases through `bondctl validate` in this process, under a memory limit.

`python -m tests.unit.hostile.runner [NAME...]`: sets RLIMIT_AS to 1 GiB, then
prints one JSON line per case (exit code, output, seconds, peak RSS so far)
as soon as it is done, so a case that kills the process (a signal, the
memory limit) is the one after the last line. A case that runs past its
alarm is reported as a time-out.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from tests.unit.hostile import files

MEMORY_LIMIT = 1 << 30
CASE_SECONDS = 60  # far above the slowest case (a few seconds), for a loaded CI machine


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException so bondctl's `except Exception` cannot eat it."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise CaseTimeout


def run_case(name: str) -> dict[str, object]:
    from bondd.cli.main import main  # noqa: PLC0415 (after the limit is set)

    out, err = io.StringIO(), io.StringIO()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        files.write(name, directory)
        started = time.monotonic()
        signal.alarm(CASE_SECONDS)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code: object = main(["validate", "--config-dir", str(directory)])
        except CaseTimeout:
            code = "timeout"
        except SystemExit as exc:
            code = exc.code
        finally:
            signal.alarm(0)
        seconds = time.monotonic() - started
    return {
        "name": name,
        "exit": code,
        "output": out.getvalue() + err.getvalue(),
        "dir": str(directory),
        "seconds": round(seconds, 3),
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def main(argv: list[str]) -> int:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    signal.signal(signal.SIGALRM, _alarm)
    for name in argv or files.names():
        print(json.dumps(run_case(name)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
