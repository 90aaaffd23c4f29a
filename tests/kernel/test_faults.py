"""The fault campaign, sampled: each mode meets each kind of fault once, at a
different op or step per mode, and must end in the old state or the new one.

The whole campaign (every op, every step, every mode) is `bench/faults.py`;
see tests/kernel/faults.py for what each fault does and how the end state is
judged on the kernel's own view.
"""

from __future__ import annotations

import pytest

from tests.kernel import faults
from tests.lab.guard import REFUSAL, in_lab

# The probe timeout costs its deadline plus a ping wait: one mode carries it,
# the one where LACP (or its absence: the switch is a plain bridge) is in play.
PROBED = frozenset({"802.3ad"})


@pytest.mark.parametrize("mode", faults.MODES)
def test_every_fault_kind_ends_in_the_old_or_the_new_state(mode: str) -> None:
    if not in_lab():
        pytest.fail(REFUSAL, pytrace=False)
    spread = faults.MODES.index(mode)

    def sample(kind: str, count: int) -> list[int]:
        # A different position per mode, so the CI run covers early, middle and
        # late ops and steps across the modes; the signals alternate by mode
        # (bench/faults.py runs every one of them at every step).
        if kind in ("sigterm", "sighup") and kind != ("sigterm", "sighup")[spread % 2]:
            return []
        if kind.startswith("daemon-") and kind != ("daemon-sigterm", "daemon-sigkill")[spread % 2]:
            return []
        stride = {"kernel-error": 5, "port-gone": 2}.get(kind, 3)
        offset = {"sigterm": 1, "sighup": 1, "daemon-sigterm": 2, "daemon-sigkill": 2}.get(kind, 0)
        return [(spread * stride + 1 + offset) % count]

    outcomes = []
    with faults.campaign() as run:
        for case in faults.cases(run, mode, sample):
            if case.kind == "probe-timeout" and mode not in PROBED:
                continue
            outcomes.append(run.run(case))
        print("\n" + faults.signal_figures(run))
    print("\n" + faults.matrix(outcomes))
    assert all(o.ok for o in outcomes), faults.matrix(outcomes)
