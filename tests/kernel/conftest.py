"""Fixtures for the kernel tier: each test runs inside its own host namespace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lab import nsutil
from tests.lab.guard import REFUSAL, in_lab
from tests.lab.netlab import Lab


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
