"""State and config files: explicit modes, unpredictable O_EXCL temp names, never through a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bondd import atomic
from bondd.engine.store import write_json
from bondd.metrics import textfile

pytestmark = pytest.mark.unit


def test_modes_are_explicit_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_json(tmp_path / "state.json", {"a": 1})
        atomic.write_bytes(tmp_path / "10-bond.yaml", b"x: 1\n", 0o644)
    finally:
        os.umask(old)
    assert (tmp_path / "state.json").stat().st_mode & 0o777 == 0o600
    old = os.umask(0o077)
    try:
        atomic.write_bytes(tmp_path / "10-bond.yaml", b"x: 2\n", 0o644)
    finally:
        os.umask(old)
    assert (tmp_path / "10-bond.yaml").stat().st_mode & 0o777 == 0o644


def test_temp_names_are_unpredictable_and_opened_exclusively_without_following_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[tuple[str, int]] = []
    real_open = os.open

    def spy(path: object, flags: int, *rest: int) -> int:
        opened.append((str(path), flags))
        return real_open(path, flags, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", spy)
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    # The old fixed name, planted as a link: it must be neither followed nor used.
    (tmp_path / ".pending.json.tmp").symlink_to(victim)
    for _ in range(2):
        write_json(tmp_path / "pending.json", {"b": 2})
    temps = [(p, f) for p, f in opened if p.endswith(".tmp")]
    assert len({p for p, _ in temps}) == 2
    assert all(f & os.O_EXCL and f & os.O_NOFOLLOW and f & os.O_CREAT for _, f in temps)
    assert victim.read_text() == "untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".pending.json.tmp",
        "pending.json",
        "victim",
    ]


def test_a_missing_directory_is_created_unless_the_caller_says_not_to(tmp_path: Path) -> None:
    target = tmp_path / "state" / "ownership.json"
    atomic.write_bytes(target, b"{}")
    assert target.read_bytes() == b"{}"
    # node_exporter's textfile directory is node_exporter's: bondd never creates it.
    elsewhere = tmp_path / "node_exporter" / "bondd.prom"
    with pytest.raises(FileNotFoundError):
        textfile.write_atomic(elsewhere, b"x 1\n")
    assert not elsewhere.parent.exists()
    textfile.write_atomic(target.with_name("bondd.prom"), b"x 1\n")
    assert (target.parent / "bondd.prom").stat().st_mode & 0o777 == textfile.MODE
