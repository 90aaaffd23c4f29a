"""A proposal's identity: the files' names and bytes, and the release reading them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bondd import config
from bondd.config import digest
from bondd.config.loader import load

pytestmark = pytest.mark.unit

YAML = b"network:\n  version: 2\n  ethernets: {p0: {}}\n"


def test_the_loader_and_content_hash_agree_on_the_same_bytes(tmp_path: Path) -> None:
    (tmp_path / "10-a.yaml").write_bytes(YAML)
    loaded = load([tmp_path])
    assert loaded.digest == config.content_hash(list(loaded.files))


def test_a_renamed_file_or_changed_byte_is_another_proposal(tmp_path: Path) -> None:
    one = digest.FilesDigest()
    one.add(tmp_path / "10-a.yaml", YAML)
    renamed = digest.FilesDigest()
    renamed.add(tmp_path / "20-a.yaml", YAML)
    changed = digest.FilesDigest()
    changed.add(tmp_path / "10-a.yaml", YAML.replace(b"p0", b"p1"))
    assert len({one.hexdigest(), renamed.hexdigest(), changed.hexdigest()}) == 3


def test_after_an_upgrade_the_same_files_are_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "10-a.yaml").write_bytes(YAML)
    before = config.content_hash([tmp_path / "10-a.yaml"])
    monkeypatch.setattr(digest, "__version__", "99.0.0")
    assert config.content_hash([tmp_path / "10-a.yaml"]) != before
