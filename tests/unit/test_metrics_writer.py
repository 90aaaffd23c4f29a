"""The daemon's metrics writer on a fake kernel and clock: rate limit, coalescing,
the minute refresh, counters that outlive it, and the atomic textfile."""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path

import pytest

from bondd import config
from bondd.daemon.metrics import (
    MAX_INTERVAL,
    MIN_INTERVAL,
    SETTLE_INTERVAL,
    SETTLE_WINDOW,
    UNSETTLED_INTERVAL,
    MetricsWriter,
)
from bondd.engine.counters import Counters, Counts
from bondd.engine.serial import desired_from_json, desired_to_json
from bondd.metrics.collect import Collector
from bondd.metrics.textfile import write_atomic
from bondd.model import ActualState, BondOptions, BondState, PortState

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Reader:
    def __init__(self) -> None:
        self.reads = 0
        self.up = True
        self.lacp = False  # an 802.3ad bond that has not negotiated

    def read(self) -> ActualState:
        self.reads += 1
        port = PortState(name="p0", ifindex=3, mii_up=self.up)
        bond = BondState(
            name="bond0",
            ifindex=2,
            ports=(port,),
            options=BondOptions({"mode": "802.3ad" if self.lacp else "active-backup"}),
            up=True,
            carrier=True,
        )
        return ActualState(bonds=(bond,), links=(port,))

    def close(self) -> None:
        pass


def writer(tmp_path: Path) -> tuple[MetricsWriter, Reader, Clock, Path]:
    conf = tmp_path / "conf"
    conf.mkdir()
    target = tmp_path / "out" / "bondd.prom"
    target.parent.mkdir()
    reader, clock = Reader(), Clock()
    collector = Collector([conf], True, tmp_path / "state", target)
    return MetricsWriter(reader, collector, logging.getLogger("test"), clock), reader, clock, target


def settle(w: MetricsWriter) -> None:
    w.close()
    w._thread = None  # the next tick starts a new thread
    w._closed = False


def test_a_burst_of_events_is_one_write_and_writes_are_rate_limited(tmp_path: Path) -> None:
    w, reader, clock, target = writer(tmp_path)
    w.tick()  # the first write at start
    assert reader.reads == 1
    for _ in range(100):
        w.changed()
        clock.now += 0.001
        w.tick()
    assert reader.reads == 1  # within MIN_INTERVAL of the last write
    clock.now += MIN_INTERVAL
    w.tick()
    assert reader.reads == 2
    settle(w)
    assert "bondd_bond_up" in target.read_text()


def test_nothing_changed_still_writes_once_a_minute(tmp_path: Path) -> None:
    w, reader, clock, _ = writer(tmp_path)
    w.tick()
    clock.now += MAX_INTERVAL - 1
    w.tick()
    assert reader.reads == 1
    clock.now += 1
    assert w.due() <= clock.now
    w.tick()
    assert reader.reads == 2
    settle(w)


def test_an_lacp_bond_not_negotiated_is_looked_at_every_second_then_every_ten(
    tmp_path: Path,
) -> None:
    w, reader, clock, _ = writer(tmp_path)
    reader.lacp = True
    w.tick()
    clock.now += SETTLE_INTERVAL
    w.tick()
    assert reader.reads == 2
    clock.now += SETTLE_WINDOW
    w.tick()
    clock.now += SETTLE_INTERVAL
    w.tick()
    assert reader.reads == 3  # past the window: every ten seconds
    clock.now += UNSETTLED_INTERVAL
    w.tick()
    assert reader.reads == 4
    settle(w)


def test_failovers_and_repairs_are_saved_and_shown(tmp_path: Path) -> None:
    w, _, clock, target = writer(tmp_path)
    w.failover("bond0")
    w.failover("bond0")
    w.repaired(["bond0"])
    w.tick()
    settle(w)
    text = target.read_text()
    assert 'bondd_failovers_total{bond="bond0"} 2' in text
    assert 'bondd_drift_repairs_total{bond="bond0"} 1' in text
    # what a restarted daemon starts from
    assert Counters(tmp_path / "state").read().failovers == {"bond0": 2}
    w.failover("bond0")
    clock.now += 1
    w.tick()
    settle(w)
    assert 'bondd_failovers_total{bond="bond0"} 3' in target.read_text()


def test_the_textfile_is_readable_by_node_exporter_and_no_temporary_is_left(
    tmp_path: Path,
) -> None:
    old = os.umask(0o077)  # as under bondd.service
    try:
        w, _, _, target = writer(tmp_path)
        w.tick()
        settle(w)
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert os.listdir(target.parent) == ["bondd.prom"]


def test_an_unwritable_directory_is_reported_once_and_the_loop_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    w, reader, clock, target = writer(tmp_path)
    target.parent.rmdir()
    for _ in range(3):
        w.tick()
        clock.now += 1
        w.changed()
        clock.now += 1
        settle(w)
    assert reader.reads == 3
    assert sum("cannot write metrics" in r.getMessage() for r in caplog.records) == 1


def test_a_kernel_read_that_fails_is_reported_and_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    w, _, clock, target = writer(tmp_path)

    def broken() -> ActualState:
        raise OSError(105, "No buffer space available")

    w.reader.read = broken  # type: ignore[method-assign]
    w.tick()
    clock.now += MAX_INTERVAL
    w.tick()
    assert sum("cannot read the kernel" in r.getMessage() for r in caplog.records) == 1
    del w.reader.read  # back to the class's
    clock.now += MAX_INTERVAL
    w.tick()
    settle(w)
    assert target.exists()


def test_a_slow_disk_never_holds_the_loop(tmp_path: Path) -> None:
    w, reader, clock, target = writer(tmp_path)
    gate = threading.Event()
    real = w._write

    def slow(actual: ActualState, delta: Counts) -> None:
        gate.wait(5)
        real(actual, delta)

    w._write = slow  # type: ignore[method-assign]
    w.tick()
    for _ in range(5):  # the loop keeps ticking while the first write hangs
        w.failover("bond0")
        clock.now += 1
        w.tick()
    assert reader.reads == 6
    gate.set()
    settle(w)
    assert 'bondd_failovers_total{bond="bond0"} 5' in target.read_text()


def test_write_atomic_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.prom"
    write_atomic(path, b"one\n")
    write_atomic(path, b"two\n")
    assert path.read_text() == "two\n" and os.listdir(tmp_path) == ["a.prom"]


def test_the_metrics_textfile_key_is_validated_and_kept_in_the_committed_state() -> None:
    good = config.check_text("bondd: {metrics: {textfile: /srv/textfile/bondd.prom}}")
    assert good.ok and good.state.settings.metrics_textfile == "/srv/textfile/bondd.prom"
    back = desired_from_json(desired_to_json(good.state))
    assert back.settings.metrics_textfile == "/srv/textfile/bondd.prom"
    bad = config.check_text("bondd:\n  metrics: {textfile: bondd.txt}\n")
    [error] = [d for d in bad.diagnostics if d.severity.value == "error"]
    assert error.pos is not None and error.pos.line == 2
    assert "absolute path ending in .prom" in error.message
    unknown = config.check_text("bondd: {metrics: {port: 9100}}")
    assert not unknown.ok
