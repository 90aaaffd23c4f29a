"""bondd's own state files, damaged: each reader says which file and why
(StateError), never anything else, so the daemon serves on and refuses to
change what it cannot account for.

A file of the right format version but the wrong shape is what a hand edit,
a full disk restored from backup or a buggy build leaves behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bondd.drill.records import DrillRecords
from bondd.engine.counters import Counters
from bondd.engine.store import FORMAT_VERSION, StateError, Store

pytestmark = pytest.mark.unit

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = ["hash", "desired", "txn", "bonds", "rejected", "owned", "adopted", "phase", "summary"]
RECORDS = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), JSON, max_size=6)

READERS: dict[str, Callable[[Path], object]] = {
    "committed.json": lambda d: Store(d).committed(),
    "pending.json": lambda d: Store(d).pending(),
    "ownership.json": lambda d: Store(d).ownership(),
    "rejected.json": lambda d: Store(d).rejected(),
    "counters.json": lambda d: Counters(d).read(),
    "failover-tests.json": lambda d: (DrillRecords(d).summaries(), DrillRecords(d).result("bond0")),
}


@pytest.mark.parametrize("name", sorted(READERS))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(record=RECORDS)
def test_a_damaged_record_is_a_state_error_naming_the_file(
    tmp_path: Path, name: str, record: dict[str, Any]
) -> None:
    path = tmp_path / name
    path.write_text(json.dumps({"version": FORMAT_VERSION, **record}))
    try:
        READERS[name](tmp_path)
    except StateError as exc:
        assert str(path) in exc.message
    path.unlink()


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_record_without_its_fields_is_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(json.dumps({"version": FORMAT_VERSION, "bonds": {"bond0": 1}}))
    if name in ("ownership.json", "rejected.json", "counters.json"):
        READERS[name](tmp_path)  # every field has a default: an empty record is a valid one
        return
    with pytest.raises(StateError, match=name):
        READERS[name](tmp_path)
