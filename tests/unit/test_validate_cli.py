"""`bondctl validate`: output form, exit codes, option placement; one real subprocess run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bondd.cli.main import main

pytestmark = pytest.mark.unit

GOOD = """network:
  ethernets: {eno1: {}, eno2: {}}
  bonds:
    bond0:
      interfaces: [eno1, eno2]
      parameters: {mode: active-backup, up-delay: 150}
"""
BAD = GOOD.replace("mode: active-backup", "mode: active-backup, min-links: 0x2")
# netplan passes lacp-rate in active-backup through; bondd warns, and refuses it with --strict
PASSED = GOOD.replace("mode: active-backup", "mode: active-backup, lacp-rate: fast")


def conf(tmp_path: Path, text: str, name: str = "10-bond.yaml") -> Path:
    directory = tmp_path / "conf"
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(text)
    return directory


def test_valid_config_exits_0_and_prints_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = conf(tmp_path, GOOD)
    assert main(["validate", "--config-dir", str(directory)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{directory}/10-bond.yaml:6:51: warning: up-delay 150 ms")
    assert out[-1] == "valid: 1 file, 1 bond, 0 errors, 1 warning, 0 notes"


def test_invalid_config_exits_65(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = conf(tmp_path, BAD)
    assert main(["--config-dir", str(directory), "validate"]) == 65
    out = capsys.readouterr().out
    assert (
        f"{directory}/10-bond.yaml:6:52: error: invalid unsigned int value '0x2' for min-links"
        in out
    )


def test_strict_turns_passed_through_values_into_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = conf(tmp_path, PASSED)
    assert main(["--config-dir", str(directory), "validate"]) == 0
    warned = capsys.readouterr().out
    assert "warning: lacp-rate of bond0 is not applied: the kernel refuses it in mode" in warned
    assert main(["--config-dir", str(directory), "--strict", "validate"]) == 65
    assert "error: lacp-rate of bond0 is not applied" in capsys.readouterr().out
    conf(tmp_path, PASSED + "bondd: {strict: true}\n")
    assert main(["--config-dir", str(directory), "validate"]) == 65


def test_missing_named_directory_exits_66(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--config-dir", str(tmp_path / "missing")]) == 66
    err = capsys.readouterr().err
    assert err == (
        f"bondctl: error: configuration directory {tmp_path / 'missing'} does not exist"
        " (create it or fix the --config-dir argument)\n"
    )


def test_config_dir_before_and_after_the_subcommand_both_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "etc"
    second = tmp_path / "run"
    first.mkdir()
    second.mkdir()
    (first / "10.yaml").write_text(BAD)
    (second / "10.yaml").write_text(GOOD)  # shadows the bad one
    assert main(["--config-dir", str(first), "validate", "--config-dir", str(second)]) == 0
    assert main(["--config-dir", str(second), "validate", "--config-dir", str(first)]) == 65


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = conf(tmp_path, BAD)
    assert main(["validate", "--json", "--config-dir", str(directory)]) == 65
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert report["bonds"] == ["bond0"]
    error = next(d for d in report["diagnostics"] if d["severity"] == "error")
    assert (error["line"], error["column"]) == (6, 52)


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00garbage", b"network: [\n", b"network:\n\tbonds: {}\n", b"a: &x [*x]\n"],
)
def test_broken_files_never_give_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    directory = tmp_path / "conf"
    directory.mkdir()
    (directory / "x.yaml").write_bytes(content)
    assert main(["validate", "--config-dir", str(directory)]) == 65
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert captured.out.startswith(f"{directory}/x.yaml:")


def test_unexpected_failure_is_one_line_without_debug(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("bondd.config.check", boom)
    assert main(["validate", "--config-dir", str(tmp_path)]) == 70
    assert "internal error" in capsys.readouterr().err
    with pytest.raises(RuntimeError):
        main(["--debug", "validate", "--config-dir", str(tmp_path)])


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith("bondctl ")


def test_real_bondctl_subprocess(tmp_path: Path) -> None:
    bondctl = Path(sys.executable).parent / "bondctl"
    if not bondctl.exists():
        pytest.fail(f"{bondctl} is missing: pip install -e . in the virtualenv")
    directory = conf(tmp_path, BAD)
    done = subprocess.run(
        [str(bondctl), "validate", "--config-dir", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 65
    assert "error: invalid unsigned int value '0x2' for min-links" in done.stdout
    assert done.stderr == ""
    missing = subprocess.run(
        [str(bondctl), "--config-dir", str(tmp_path / "nope"), "validate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 66
