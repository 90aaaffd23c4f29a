"""Counters that outlive the daemon: transactions, failovers, drift repairs.

Prometheus counters may reset on a restart, but a restart is exactly when
an admin wants to know whether the last change rolled back. So the counts
live in STATE_DIR/counters.json, versioned and written atomically like the
rest of the store. Several processes add to it (the daemon; `bondctl` and
the guard, which run transactions too), so every read-modify-write holds an
flock of its own, never the transaction lock: counting must not wait for a
transaction, nor make one wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bondd.engine.store import parse, read_json, write_json
from bondd.errors import BonddError

FILE_NAME = "counters.json"
RESULTS = ("committed", "rolled_back", "failed")


@dataclass(frozen=True)
class Counts:
    transactions: Mapping[str, int] = field(default_factory=dict)  # by result
    last_transaction: float | None = None  # wall-clock seconds of the last one's end
    failovers: Mapping[str, int] = field(default_factory=dict)  # by bond
    drift_repairs: Mapping[str, int] = field(default_factory=dict)  # by bond

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Counts:
        last = data.get("last_transaction")
        return cls(
            transactions={str(k): int(v) for k, v in data.get("transactions", {}).items()},
            last_transaction=None if last is None else float(last),
            failovers={str(k): int(v) for k, v in data.get("failovers", {}).items()},
            drift_repairs={str(k): int(v) for k, v in data.get("drift_repairs", {}).items()},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "transactions": dict(self.transactions),
            "last_transaction": self.last_transaction,
            "failovers": dict(self.failovers),
            "drift_repairs": dict(self.drift_repairs),
        }

    def plus(self, other: Counts) -> Counts:
        return Counts(
            transactions=_sum(self.transactions, other.transactions),
            last_transaction=max(
                (t for t in (self.last_transaction, other.last_transaction) if t is not None),
                default=None,
            ),
            failovers=_sum(self.failovers, other.failovers),
            drift_repairs=_sum(self.drift_repairs, other.drift_repairs),
        )

    @property
    def empty(self) -> bool:
        return not (
            self.transactions or self.failovers or self.drift_repairs or self.last_transaction
        )


def _sum(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    total = dict(a)
    for key, value in b.items():
        total[key] = total.get(key, 0) + value
    return total


class Counters:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE_NAME

    def read(self) -> Counts:
        """The counts so far; raises StateError when the file is unreadable."""
        data = read_json(self.path)
        return Counts() if data is None else parse(self.path, data, Counts.from_json)

    def add(self, delta: Counts) -> Counts:
        """Add `delta` to the file and return the new totals."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(".counters.lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            total = self.read().plus(delta)
            write_json(self.path, total.to_json())
            return total
        finally:
            os.close(fd)  # closing releases the lock


def count_transaction(state_dir: Path, result: str, when: float) -> None:
    """One transaction ended: committed, rolled_back or failed (its rollback failed).

    Best effort: a counter that cannot be written never fails the transaction
    it counts.
    """
    with contextlib.suppress(BonddError, OSError, ValueError, TypeError):
        Counters(state_dir).add(Counts(transactions={result: 1}, last_transaction=when))
