"""Test tiers: a kernel test refuses to start anywhere but the lab.

The refusal happens in setup, before any fixture runs, so a kernel test
started on a real host fails loudly without touching a single interface.
"""

from __future__ import annotations

import pytest

from tests.lab.guard import REFUSAL, in_lab


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("kernel") is not None and not in_lab():
        pytest.fail(REFUSAL, pytrace=False)
