"""The pure layers (model, options, config) import nothing from kernel, daemon, cli or pyroute2.

The CLI and the daemon meet only in bondd/protocol.py: nothing under bondd/cli
imports the daemon, and the protocol imports nothing of bondd.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2] / "bondd"
PURE = [
    ROOT / "model.py",
    ROOT / "options.py",
    ROOT / "errors.py",
    ROOT / "text.py",
    ROOT / "durations.py",
    *sorted((ROOT / "config").glob("*.py")),
    *sorted((ROOT / "plan").glob("*.py")),
    *sorted((ROOT / "importers").glob("*.py")),
]
FORBIDDEN = ("pyroute2", "bondd.kernel", "bondd.daemon", "bondd.cli", "bondd.engine")
# The engine orchestrates over interfaces; the CLI and daemon wire in the kernel.
ENGINE = sorted((ROOT / "engine").glob("*.py"))
ENGINE_FORBIDDEN = ("pyroute2", "bondd.kernel", "bondd.daemon", "bondd.cli")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_imports(path: Path) -> None:
    bad = {n for n in imported(path) if n.startswith(FORBIDDEN)}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_does_not_import_the_kernel(path: Path) -> None:
    bad = {n for n in imported(path) if n.startswith(ENGINE_FORBIDDEN)}
    assert not bad, f"{path.name} imports {bad}"


def test_only_the_kernel_layer_imports_pyroute2() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if "kernel" not in path.relative_to(ROOT).parts
        and any(n.startswith("pyroute2") for n in imported(path))
    ]
    assert offenders == []


CLI = sorted((ROOT / "cli").glob("*.py"))


@pytest.mark.parametrize("path", CLI, ids=lambda p: str(p.relative_to(ROOT)))
def test_cli_does_not_import_the_daemon(path: Path) -> None:
    bad = {n for n in imported(path) if n.startswith("bondd.daemon")}
    assert not bad, f"{path.name} imports {bad}: the daemon is reached through bondd.protocol"


def test_the_control_protocol_stands_alone() -> None:
    bad = {n for n in imported(ROOT / "protocol.py") if n.startswith(("bondd", "pyroute2"))}
    assert not bad, f"protocol.py imports {bad}"
