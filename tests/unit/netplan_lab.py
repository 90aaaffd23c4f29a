"""netplan 0.106 itself, run from its unpacked .deb (scripts/setup.sh puts it in .lab/netplan).

`verdict(files)` writes the files into a fresh root's etc/netplan and runs
netplan's own `generate --root-dir`, with LD_LIBRARY_PATH pointing at the
unpacked libnetplan: nothing is installed and nothing outside the temporary
root is written. Returns whether netplan accepted the files and its message.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(os.environ.get("BONDD_NETPLAN_ROOT", Path(__file__).parents[2] / ".lab/netplan/root"))
GENERATE = ROOT / "usr/libexec/netplan/generate"
LIBS = ROOT / "usr/lib/x86_64-linux-gnu"


def available() -> bool:
    return GENERATE.is_file() and os.access(GENERATE, os.X_OK)


def verdict(files: dict[str, str], workdir: Path) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(dir=workdir) as root:
        conf = Path(root) / "etc/netplan"
        conf.mkdir(parents=True)
        for name, text in files.items():
            path = conf / name
            path.write_text(text)
            path.chmod(0o600)
        run = subprocess.run(
            [str(GENERATE), "--root-dir", root],
            env={"LD_LIBRARY_PATH": str(LIBS), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        message = run.stderr.replace(root + "/", "")
        return run.returncode == 0, message.strip()
