"""Fixtures for the kernel tier: each test runs inside its own host namespace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kernel.daemon_harness import Daemon
from tests.kernel.harness import Bondd
from tests.lab import nsutil
from tests.lab.events import LinkEvents
from tests.lab.guard import REFUSAL, in_lab
from tests.lab.netlab import Lab


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fleet: the Ansible fleet in the lab (tests/kernel/test_fleet.py, its own CI stage)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/kernel/" in str(item.path):
            item.add_marker(pytest.mark.kernel)


@pytest.fixture
def lab() -> Iterator[Lab]:
    """Fresh host and switch namespaces; the test body runs inside the host one."""
    if not in_lab():  # second line of defence behind the setup hook
        pytest.fail(REFUSAL, pytrace=False)
    lab = Lab.create()
    try:
        with nsutil.entered(lab.host_path):
            yield lab
    finally:
        lab.destroy()


@pytest.fixture
def bondd(lab: Lab, tmp_path: Path) -> Iterator[Bondd]:
    """bondd in-process in the lab's host namespace, config and state under tmp_path."""
    harness = Bondd(config_dir=tmp_path / "bondd.d", state_dir=tmp_path / "state")
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture
def events(lab: Lab) -> Iterator[LinkEvents]:
    watcher = LinkEvents()
    try:
        yield watcher
    finally:
        watcher.close()


@pytest.fixture
def daemon(lab: Lab, tmp_path: Path) -> Iterator[Daemon]:
    """The real bondd daemon (not started yet) with its own dirs and listening sockets."""
    handle = Daemon(tmp_path, tmp_path / "bondd.d", tmp_path / "state", tmp_path / "run")
    try:
        yield handle
    finally:
        handle.close()
