"""The pure layers (model, options, config) import nothing from kernel, daemon, cli or pyroute2."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2] / "bondd"
PURE = [ROOT / "model.py", ROOT / "options.py", ROOT / "errors.py", *sorted(
    (ROOT / "config").glob("*.py"))]
FORBIDDEN = ("pyroute2", "bondd.kernel", "bondd.daemon", "bondd.cli", "bondd.engine")


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
