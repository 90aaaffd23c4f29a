"""bench/steps.py: a stalled benchmark step ends with an error naming it."""

from __future__ import annotations

import time

import pytest

from bench.steps import StepTimeoutError, step

pytestmark = pytest.mark.unit


def test_a_step_that_runs_out_raises_naming_it() -> None:
    started = time.monotonic()
    expected = r"'drift repair' did not finish within its 0\.2 s deadline"
    with pytest.raises(StepTimeoutError, match=expected), step("drift repair", 0.2):
        time.sleep(5)  # a blocking wait, as on a socket that never answers
    assert time.monotonic() - started < 2


def test_the_innermost_step_that_ran_out_is_named() -> None:
    with pytest.raises(StepTimeoutError) as caught, step("steady state", 10), step("no-op", 0.1):
        time.sleep(5)
    assert caught.value.name == "no-op"


def test_an_outer_deadline_cuts_an_inner_step_short() -> None:
    with pytest.raises(StepTimeoutError) as caught, step("steady state", 0.2), step("idle", 30):
        time.sleep(5)
    assert caught.value.name == "steady state"


def test_a_step_that_finishes_disarms_its_timer() -> None:
    with step("outer", 5):
        with step("quick", 0.2):
            pass
        time.sleep(0.4)  # past the inner deadline: nothing fires
    with step("again", 0.3):
        time.sleep(0.05)
