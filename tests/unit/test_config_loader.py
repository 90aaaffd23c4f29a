"""Finding, reading and merging files: netplan's shadowing and merge rules, clean file errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bondd.config import check
from bondd.config.loader import discover, load, parse_text
from bondd.config.nodes import YMap, plain
from bondd.errors import ConfigDirMissingError
from bondd.model import Severity, SourcePos

pytestmark = pytest.mark.unit


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_run_shadows_etc_and_the_rest_merge_in_lexical_order(tmp_path: Path) -> None:
    etc, run = tmp_path / "etc", tmp_path / "run"
    write(etc / "10-a.yaml", "x: etc-a\n")
    write(run / "10-a.yaml", "x: run-a\n")
    write(etc / "20-b.yaml", "y: etc-b\n")
    write(run / "05-c.yaml", "z: run-c\n")
    write(etc / ".hidden.yaml", "h: 1\n")
    write(etc / "notes.txt", "n: 1\n")
    files = discover([etc, run], explicit=True)
    assert files == [run / "05-c.yaml", run / "10-a.yaml", etc / "20-b.yaml"]
    tree = load([etc, run], explicit=True).tree
    assert tree is not None
    assert plain(tree) == {"z": "run-c", "x": "run-a", "y": "etc-b"}


def test_later_files_amend_earlier_ones(tmp_path: Path) -> None:
    write(
        tmp_path / "10.yaml",
        """
network:
  ethernets: {eno1: {}, eno2: {}}
  bonds:
    bond0:
      interfaces: [eno1]
      mtu: 1500
      parameters: {mode: active-backup, mii-monitor-interval: 100}
""",
    )
    write(
        tmp_path / "20.yaml",
        """
network:
  ethernets: {eno3: {}}
  bonds:
    bond0:
      interfaces: [eno1, eno2]
      mtu: 9000
      parameters: {mii-monitor-interval: 50}
""",
    )
    result = check([tmp_path], explicit=True)
    assert result.ok, [d.format() for d in result.diagnostics]
    bond = result.state.bonds[0]
    # sequences concatenate (restated items are not doubled), scalars are replaced,
    # mappings merge key by key
    assert [p.id for p in bond.ports] == ["eno1", "eno2"]
    assert bond.mtu == 9000
    assert dict(bond.options) == {"mode": "active-backup", "miimon": 50}


def test_positions_survive_the_merge(tmp_path: Path) -> None:
    write(
        tmp_path / "10.yaml",
        "network:\n  ethernets: {eno1: {}}\n  bonds:\n    bond0:\n      interfaces: [eno1]\n",
    )
    second = write(
        tmp_path / "20.yaml",
        "network:\n  bonds:\n    bond0:\n      parameters:\n        lacp-rate: 0x1\n",
    )
    result = check([tmp_path], explicit=True, strict=True)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert len(errors) == 1
    assert errors[0].pos == SourcePos(str(second), 5, 20)


def test_missing_default_directory_is_fine(tmp_path: Path) -> None:
    assert discover([tmp_path / "nope"], explicit=False) == []


def test_missing_named_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigDirMissingError) as caught:
        discover([tmp_path / "nope"], explicit=True)
    assert caught.value.exit_code == 66


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"network:\n  version: 2\n  x: caf\xe9\n")
    result = check([tmp_path], explicit=True)
    [diagnostic] = result.diagnostics
    assert diagnostic.format() == (
        f"{path}:3:9: error: file is not valid UTF-8 (byte 0xe9) (save the file as UTF-8)"
    )


def test_unreadable_file(tmp_path: Path) -> None:
    # Reading /proc/self/mem from offset 0 fails with EIO even for root, so this
    # runs the real read error path wherever the tests run (CI is root).
    (tmp_path / "broken.yaml").symlink_to("/proc/self/mem")
    [diagnostic] = check([tmp_path], explicit=True).diagnostics
    assert diagnostic.message.startswith("cannot read file")
    assert diagnostic.pos is not None and diagnostic.pos.file.endswith("broken.yaml")


def test_a_directory_fifo_or_dangling_link_named_yaml_is_an_error_naming_it(
    tmp_path: Path,
) -> None:
    # Dropping them silently once made the daemon delete the bonds they described.
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "missing")
    os.mkfifo(tmp_path / "fifo.yaml")  # opening it for reading must not block
    result = check([tmp_path], explicit=True)
    assert not result.ok
    found = {Path(d.pos.file).name: d.message for d in result.diagnostics if d.pos}
    assert found == {
        "dangling.yaml": "the file vanished or is a link to nothing",
        "dir.yaml": "this is a directory, not a file",
        "fifo.yaml": "this is not a regular file",
    }


def test_yaml_syntax_error_position() -> None:
    _, [diagnostic] = parse_text("network:\n  bonds: [\n", "f.yaml")
    assert diagnostic.severity is Severity.ERROR
    assert diagnostic.pos is not None and diagnostic.pos.file == "f.yaml"
    assert diagnostic.message.startswith("YAML syntax error")


def test_tab_indentation_is_a_clean_error() -> None:
    _, [diagnostic] = parse_text("network:\n\tbonds: {}\n", "f.yaml")
    assert diagnostic.pos == SourcePos("f.yaml", 2, 1)


def test_only_the_first_document_is_read_as_netplan_does() -> None:
    tree, [diagnostic] = parse_text("a: 1\n---\nb: [\n", "f.yaml")
    assert diagnostic.severity is Severity.WARNING
    assert diagnostic.message == "only the first YAML document of this file is read"
    assert tree is not None and plain(tree) == {"a": "1"}


def test_repeated_keys_merge_and_the_last_scalar_wins() -> None:
    tree, diagnostics = parse_text("a: 1\nb: {x: 1}\na: 3\nb: {y: 2}\n", "f.yaml")
    assert diagnostics == [] and tree is not None
    assert plain(tree) == {"a": "3", "b": {"x": "1", "y": "2"}}
    _, [diagnostic] = parse_text("a: 1\na: {x: 1}\n", "f.yaml")
    assert diagnostic.pos == SourcePos("f.yaml", 2, 1) and "given again" in diagnostic.message


def test_scalars_stay_text() -> None:
    tree, _ = parse_text("m: 52:54:00:12:34:56\nn: 0x64\nu: 9_000\nb: yes\nt: 2024-02-30\n", "f")
    assert tree is not None
    assert plain(tree) == {
        "m": "52:54:00:12:34:56",
        "n": "0x64",
        "u": "9_000",
        "b": "yes",
        "t": "2024-02-30",
    }


def test_recursive_alias() -> None:
    _, [diagnostic] = parse_text("a: &x [*x]\n", "f.yaml")
    assert diagnostic.message == "a YAML alias refers to itself"


def test_billion_laughs_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    _, [diagnostic] = parse_text("\n".join(lines) + "\n", "f.yaml")
    assert "expands to more than" in diagnostic.message


def test_anchors_work_and_merge_keys_are_plain_keys_as_in_netplan() -> None:
    tree, diagnostics = parse_text(
        "base: &b {mode: active-backup}\nbond: {<<: *b, primary: eno1}\n", "f.yaml"
    )
    assert not diagnostics and isinstance(tree, YMap)
    assert plain(tree.entries["bond"].value) == {
        "<<": {"mode": "active-backup"},
        "primary": "eno1",
    }


def test_control_character() -> None:
    _, [diagnostic] = parse_text("a: b\x07\n", "f.yaml")
    assert diagnostic.pos == SourcePos("f.yaml", 1, 5)


def test_empty_and_scalar_files(tmp_path: Path) -> None:
    write(tmp_path / "10-empty.yaml", "")
    write(tmp_path / "20-comment.yaml", "# nothing\n")
    scalar = write(tmp_path / "30-scalar.yaml", "just text\n")
    [diagnostic] = check([tmp_path], explicit=True).diagnostics
    assert diagnostic.pos == SourcePos(str(scalar), 1, 1)
    assert "must hold a mapping" in diagnostic.message


def test_a_broken_file_does_not_hide_the_others(tmp_path: Path) -> None:
    write(tmp_path / "10.yaml", "network: [\n")
    write(tmp_path / "20.yaml", "network:\n  bogus: 1\n")
    result = check([tmp_path], explicit=True)
    messages = [d.message for d in result.diagnostics]
    assert any(m.startswith("YAML syntax error") for m in messages)
    assert "unknown key `bogus` in network" in messages
