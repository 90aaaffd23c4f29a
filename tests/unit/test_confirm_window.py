"""The confirm window's rules over a fake clock, and the Enter path on a real pseudo-terminal."""

from __future__ import annotations

import os
import threading
import time

import pytest

from bondd.engine.window import ConfirmWindow, Ending, TerminalKeys, terminal_keys

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def wall(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Typed:
    """Input that yields the given lines at the given fake times (then nothing)."""

    def __init__(self, clock: Clock, lines: dict[float, str]) -> None:
        self.clock = clock
        self.lines = dict(lines)

    def line(self, timeout: float) -> str | None:
        for at in sorted(self.lines):
            if at <= self.clock.now + timeout:
                self.clock.now = max(self.clock.now, at)
                return self.lines.pop(at)
        self.clock.now += timeout
        return None


def window(clock: Clock, seconds: float, **kwargs: object) -> ConfirmWindow:
    return ConfirmWindow(clock.now + seconds, clock.wall, clock.sleep, **kwargs)  # type: ignore[arg-type]


def test_without_a_terminal_the_window_ends_at_the_deadline() -> None:
    clock = Clock()
    assert window(clock, 60).run() is Ending.EXPIRED
    assert clock.now == pytest.approx(1060.0)


def test_enter_confirms_before_the_deadline() -> None:
    clock = Clock()
    shown: list[int] = []
    ending = window(clock, 60, keys=Typed(clock, {1010.0: "\n"}), show=shown.append).run()
    assert ending is Ending.ENTER and clock.now == pytest.approx(1010.0)
    assert shown[0] == 60 and shown[-1] == 50  # the countdown, once a second


def test_end_of_input_is_never_a_confirmation() -> None:
    clock = Clock()
    assert window(clock, 30, keys=Typed(clock, {1005.0: ""})).run() is Ending.EXPIRED
    assert clock.now == pytest.approx(1030.0)


def test_an_ending_elsewhere_is_seen_within_a_tick() -> None:
    clock = Clock()
    ending = window(clock, 60, ended=lambda: clock.now >= 1020.0).run()
    assert ending is Ending.ELSEWHERE and clock.now == pytest.approx(1020.0)


def test_enter_on_a_real_pseudo_terminal_confirms() -> None:
    leader, follower = os.openpty()
    with os.fdopen(follower, "r") as tty:
        keys = terminal_keys(tty)
        assert isinstance(keys, TerminalKeys)
        typist = threading.Timer(0.3, os.write, (leader, b"\n"))
        typist.start()
        started = time.monotonic()
        ending = ConfirmWindow(time.time() + 10, time.time, time.sleep, keys=keys).run()
        typist.join()
    os.close(leader)
    assert ending is Ending.ENTER
    assert time.monotonic() - started < 5


def test_a_hung_up_pseudo_terminal_waits_out_the_window() -> None:
    leader, follower = os.openpty()
    with os.fdopen(follower, "r") as tty:
        keys = terminal_keys(tty)
        os.close(leader)  # the SSH session is gone: reads fail (EIO) or see end of input
        ending = ConfirmWindow(time.time() + 0.5, time.time, time.sleep, keys=keys).run()
    assert ending is Ending.EXPIRED


def test_a_pipe_is_no_terminal() -> None:
    read, write = os.pipe()
    with os.fdopen(read, "r") as pipe:
        assert terminal_keys(pipe) is None
    os.close(write)
