"""`bondctl plan FILE`: a proposal is planned as apply would install it, nothing written."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bondd.cli import plan as plan_cmd
from bondd.cli.main import _normalise, build_parser, main
from bondd.errors import ConfigError

pytestmark = pytest.mark.unit

OLD = """network:
  ethernets: {eno1: {}, eno2: {}}
  bonds:
    bond0:
      interfaces: [eno1, eno2]
      parameters: {mode: active-backup}
"""
NEW = OLD.replace("active-backup", "802.3ad")


def args_for(*argv: str) -> argparse.Namespace:
    return _normalise(build_parser().parse_args(list(argv)))


def setup_dirs(tmp_path: Path) -> tuple[Path, Path]:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "10-bond.yaml").write_text(OLD)
    proposal = tmp_path / "proposal" / "10-bond.yaml"
    proposal.parent.mkdir()
    proposal.write_text(NEW)
    return conf, proposal


def test_a_named_file_replaces_its_namesake_without_being_written(tmp_path: Path) -> None:
    conf, proposal = setup_dirs(tmp_path)
    desired = plan_cmd.proposed(args_for("plan", "--config-dir", str(conf), str(proposal)))
    assert [b.mode.value for b in desired.bonds] == ["802.3ad"]
    assert (conf / "10-bond.yaml").read_text() == OLD


def test_without_files_the_directory_is_planned(tmp_path: Path) -> None:
    conf, _ = setup_dirs(tmp_path)
    desired = plan_cmd.proposed(args_for("plan", "--config-dir", str(conf)))
    assert [b.mode.value for b in desired.bonds] == ["active-backup"]


def test_a_new_file_adds_to_the_directory(tmp_path: Path) -> None:
    conf, proposal = setup_dirs(tmp_path)
    extra = proposal.with_name("20-bond1.yaml")
    extra.write_text(OLD.replace("bond0", "bond1").replace("eno1", "eno3").replace("eno2", "eno4"))
    desired = plan_cmd.proposed(args_for("plan", "--config-dir", str(conf), str(extra)))
    assert sorted(b.name for b in desired.bonds) == ["bond0", "bond1"]
    assert not (conf / "20-bond1.yaml").exists()


def test_an_invalid_proposal_is_reported_against_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf, proposal = setup_dirs(tmp_path)
    proposal.write_text(OLD.replace("active-backup", "no-such-mode"))
    with pytest.raises(ConfigError):
        plan_cmd.proposed(args_for("plan", "--config-dir", str(conf), str(proposal)))
    assert main(["plan", "--config-dir", str(conf), str(proposal)]) == 65
    err = capsys.readouterr().err
    assert f"{conf}/10-bond.yaml:6:" in err and "no-such-mode" in err
    assert conf.joinpath("10-bond.yaml").read_text() == OLD


def test_an_unreadable_proposal_exits_66(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf, _ = setup_dirs(tmp_path)
    assert main(["plan", "--config-dir", str(conf), str(tmp_path / "nope.yaml")]) == 66
    assert "cannot read" in capsys.readouterr().err


def test_apply_accepts_no_wait() -> None:
    args = args_for("apply", "--yes", "--confirm-timeout", "30", "--no-wait", "--json")
    assert args.no_wait and args.confirm_timeout == 30 and args.json
