"""The watchdog is fed from inside a long pass only while the pass is within its bound."""

from __future__ import annotations

import time

import pytest

from bondd.daemon.main import WatchdogClock
from bondd.daemon.notify import Notifier
from bondd.durations import MAX_BUSY

pytestmark = pytest.mark.unit


class CountingNotifier(Notifier):
    def __init__(self) -> None:
        super().__init__()
        self.watchdog_interval = 0.01
        self.fed = 0

    def watchdog(self) -> None:
        self.fed += 1


def test_sleeping_in_a_pass_feeds_the_watchdog_until_the_pass_is_too_long() -> None:
    notifier = CountingNotifier()
    clock = WatchdogClock(notifier)
    notifier.status("busy")  # the loop finished a pass just now
    clock.sleep(0.6)
    assert notifier.fed >= 1
    notifier.fed = 0
    notifier.last_pass = time.monotonic() - MAX_BUSY - 1  # a pass wedged for over an hour
    clock.sleep(0.6)
    assert notifier.fed == 0, "a wedged loop kept systemd from restarting it"
