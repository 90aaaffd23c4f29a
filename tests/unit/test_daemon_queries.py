"""The daemon's status cache: fresh until an event or its age; config parsed again on change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bondd.daemon import queries
from bondd.errors import BonddError
from bondd.model import ActualState, DesiredState

pytestmark = pytest.mark.unit


def test_a_read_is_fresh_until_an_event_or_its_age() -> None:
    last = queries.LastRead()
    actual = ActualState()
    assert last.fresh(10.0) is None
    last.keep(actual, 10.0)
    assert last.fresh(10.0 + queries.FRESH_FOR) is actual
    assert last.fresh(10.1 + queries.FRESH_FOR) is None
    last.keep(actual, 20.0)
    last.forget()
    assert last.fresh(20.0) is None


def test_the_configuration_is_parsed_again_only_when_a_file_changes(tmp_path: Path) -> None:
    last = queries.LastRead()
    loads: list[int] = []

    def load() -> DesiredState:
        loads.append(1)
        return DesiredState()

    (tmp_path / "10-a.yaml").write_text("network: {version: 2}\n")
    last.configuration([tmp_path], load)
    last.configuration([tmp_path], load)
    assert len(loads) == 1
    (tmp_path / "10-a.yaml").write_text("network: {version: 2, bonds: {}}\n")
    last.configuration([tmp_path], load)
    assert len(loads) == 2
    (tmp_path / "20-b.yaml").write_text("network: {version: 2}\n")
    last.configuration([tmp_path], load)
    os.utime(tmp_path / "20-b.yaml", ns=(1, 1))
    last.configuration([tmp_path], load)
    assert len(loads) == 4


def test_an_invalid_configuration_stays_an_error_until_it_changes(tmp_path: Path) -> None:
    last = queries.LastRead()
    loads: list[int] = []

    def broken() -> DesiredState:
        loads.append(1)
        raise BonddError("bad file", "fix it")

    for _ in range(2):
        with pytest.raises(BonddError, match="bad file"):
            last.configuration([tmp_path / "missing"], broken)
    assert len(loads) == 1
