"""bondctl refuses what it cannot honour (skipped names, unbounded spans); hashes what it read."""

from __future__ import annotations

from pathlib import Path

import pytest

from bondd import config
from bondd.cli.main import main
from bondd.cli.output import print_error
from bondd.config import limits, staging
from bondd.config.digest import FilesDigest
from bondd.durations import CONFIRM_TIMEOUT, SpanError, seconds
from bondd.errors import StagingError
from bondd.log import event, setup

pytestmark = pytest.mark.unit

GOOD = "network:\n  version: 2\n"


@pytest.mark.parametrize("name", ["bond0.yml", ".bond0.yaml", "bond0.yaml~", "bond0"])
def test_apply_refuses_a_file_name_the_loader_would_not_read(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / name
    source.write_text(GOOD)
    (tmp_path / "etc").mkdir()
    code = main(["apply", "--config-dir", str(tmp_path / "etc"), "--yes", str(source)])
    assert code == 65
    captured = capsys.readouterr()
    assert "will not install" in captured.err
    assert list((tmp_path / "etc").iterdir()) == []


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "1e300", "0.5", "86401", "soon"])
def test_confirm_timeout_outside_its_range_is_a_usage_error(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["apply", "--confirm-timeout", value])
    assert caught.value.code == 2
    assert "confirm timeout must be" in capsys.readouterr().err


def test_spans_accept_their_range_and_zero_where_it_means_no_window() -> None:
    assert seconds("60", CONFIRM_TIMEOUT) == 60.0
    assert seconds(0, CONFIRM_TIMEOUT) == 0.0
    with pytest.raises(SpanError):
        seconds(True, CONFIRM_TIMEOUT)


def test_the_digest_is_of_the_bytes_parsed_even_when_the_file_changes_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "10-a.yaml"
    old = b"network:\n  version: 2\n  ethernets: {eno1: {}}\n"
    path.write_bytes(old)
    real = limits.read_bounded

    def read_then_overwrite(p: Path, budget: int = limits.MAX_FILE_BYTES) -> bytes:
        data = real(p, budget)
        p.write_bytes(b"network:\n  version: 2\n")  # a writer races the daemon
        return data

    monkeypatch.setattr(limits, "read_bounded", read_then_overwrite)
    result = config.check([tmp_path], explicit=True)
    expected = FilesDigest()
    expected.add(path, old)
    assert result.digest == expected.hexdigest()
    assert result.digest != config.content_hash(result.files)  # a second read sees the new file


def test_an_installed_file_that_is_not_utf8_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    target = tmp_path / "10-bond.yaml"
    target.write_bytes(b"network: {}\n# \xff\xfe\n")
    with pytest.raises(StagingError, match="is not UTF-8"):
        staging.installed_text(target)
    assert staging.installed_text(tmp_path / "absent.yaml") is None


def test_log_lines_and_errors_cannot_be_forged_by_config_strings(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    monkeypatch.delenv("BONDD_JOURNAL_SOCKET", raising=False)
    logger = setup()
    event(logger, "x", "bond `b\nbondd: INFO: forged` \x1b[2J\u202e", bond="b\nx")
    print_error("name `a\nb`")
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 2 and err.isprintable() is False  # only the two newlines
    assert all(line.isprintable() for line in err.splitlines())
