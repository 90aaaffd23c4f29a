"""The fuzz campaign, sampled: generated and mutated configs through validate and plan.

No input may end in a traceback, and an invalid one must never reach the
writer. The full campaign (10,000 configs) is `bench/fuzz.py`; this runs a
slice of the same seeds, so a failure here reproduces there by its number.
"""

from __future__ import annotations

import pytest

from tests.unit import fuzzgen

pytestmark = pytest.mark.unit


def test_no_generated_config_ends_in_a_traceback_or_writes_when_invalid() -> None:
    tally = fuzzgen.campaign(400, seed=0)
    print("\n" + tally.line())
    assert tally.tracebacks == []
    assert tally.invalid_writes == 0
    assert tally.nondeterministic == []
    # The generator must reach both sides, or the campaign proves little.
    assert tally.invalid > 50 and tally.valid - tally.refused_by_planner > 20
    assert tally.ops > 0


def test_generation_is_reproducible_from_the_seed() -> None:
    assert fuzzgen.generate(1234) == fuzzgen.generate(1234)
    assert fuzzgen.generate(1234) != fuzzgen.generate(1235)
