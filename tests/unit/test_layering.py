"""Every module of bondd keeps the layer contract, and only bondd.kernel touches the kernel.

The contract is .importlinter at the top of the tree (import-linter checks it
in CI, indirect imports included). This test reads the same file and checks
each module's own imports, one test per module, so a new module is covered
the moment it exists and a failure names the file and the import. It also
checks what import-linter cannot see: raw sockets, netlink sockets, ioctls
and sysfs paths appear only under bondd/kernel.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

TREE = Path(__file__).resolve().parents[2]
ROOT = TREE / "bondd"
MODULES = sorted(ROOT.rglob("*.py"))
# Socket families and calls that reach the kernel directly (not a Unix socket,
# which the daemon's control server and the journald writer use).
KERNEL_ONLY_NAMES = frozenset({"SOCK_RAW", "AF_PACKET", "AF_NETLINK", "ioctl"})


@dataclass(frozen=True)
class Place:
    rank: int  # 0 is the top layer
    independent: bool  # siblings on its line may not import each other


def contract() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(TREE / ".importlinter")
    return parser


def layers() -> dict[str, Place]:
    places: dict[str, Place] = {}
    text = contract()["importlinter:contract:layers"]["layers"]
    for rank, line in enumerate(line for line in text.splitlines() if line.strip()):
        independent = "|" in line
        for name in re.split(r"[|:]", line):
            places[name.strip().strip("()")] = Place(rank, independent)
    return places


def ignored() -> list[tuple[str, str]]:
    text = contract()["importlinter:contract:layers"].get("ignore_imports", "")
    pairs = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            source, target = (part.strip() for part in line.split("->"))
            pairs.append((source.replace(".**", "*"), target))
    return pairs


def module_name(path: Path) -> str:
    parts = path.relative_to(TREE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            # `from bondd import options` imports bondd.options
            if node.module == "bondd":
                names.update(f"bondd.{a.name}" for a in node.names if not a.name.startswith("_"))
    return names


def violations(source: str, targets: set[str]) -> list[str]:
    """The imports of module `source` that go up a layer, or sideways between independents."""
    places, skip = layers(), ignored()
    here = places[top_level(source)]
    bad = []
    for target in sorted(targets):
        if not target.startswith("bondd.") or top_level(target) == top_level(source):
            continue
        if any(fnmatch.fnmatch(source, s) and target.startswith(t) for s, t in skip):
            continue
        there = places[top_level(target)]
        if there.rank < here.rank or (there.rank == here.rank and here.independent):
            bad.append(target)
    return bad


def ids(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_every_module_has_a_layer() -> None:
    missing = sorted(
        {top_level(module_name(p)) for p in MODULES if module_name(p) != "bondd"} - set(layers())
    )
    assert missing == [], f"add {missing} to the layers in .importlinter"


@pytest.mark.parametrize("path", MODULES, ids=ids)
def test_module_imports_only_its_own_layer_or_lower(path: Path) -> None:
    source = module_name(path)
    if source == "bondd":
        return  # the package's __init__: the version, nothing else
    bad = violations(source, imported(path))
    assert bad == [], f"{source} imports {bad}, above or beside it in .importlinter"


def test_the_check_catches_what_the_contract_forbids() -> None:
    assert violations("bondd.model", {"bondd.cli.main"}) == ["bondd.cli.main"]
    assert violations("bondd.config.schema", {"bondd.kernel.reader"}) == ["bondd.kernel.reader"]
    assert violations("bondd.engine.converge", {"bondd.kernel.writer"}) == ["bondd.kernel.writer"]
    assert violations("bondd.cli.apply", {"bondd.daemon.loop"}) == ["bondd.daemon.loop"]
    assert violations("bondd.cli.apply", {"bondd.wiring", "bondd.model"}) == []


@pytest.mark.parametrize(
    "path", [p for p in MODULES if "kernel" not in p.relative_to(ROOT).parts], ids=ids
)
def test_only_the_kernel_layer_reaches_the_kernel(path: Path) -> None:
    tree = ast.parse(path.read_text())
    found = sorted(
        {n for n in imported(path) if n.split(".")[0] == "pyroute2"}
        | {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in KERNEL_ONLY_NAMES
        }
        | {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("/sys/")
        }
    )
    assert found == [], f"{path.name} reaches the kernel ({found}): move that into bondd/kernel"


def test_the_control_protocol_stands_alone() -> None:
    # bondctl's thin commands import it alone: it must pull in nothing of bondd.
    bad = {n for n in imported(ROOT / "protocol.py") if n.startswith(("bondd", "pyroute2"))}
    assert not bad, f"protocol.py imports {bad}"
