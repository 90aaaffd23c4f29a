"""The last failover drill of each bond, kept in the state directory.

`bondctl failover-test` records what it measured so `bondctl status` can say
"last failover test: 30 ms gap" long after the drill: redundancy nobody has
tested recently is redundancy nobody should trust. One file, one entry per
bond (the latest drill, with its full result), versioned JSON written
atomically like the rest of the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bondd.drill.measure import DrillResult, DrillSummary
from bondd.engine.store import parse, read_json, write_json

FILE_NAME = "failover-tests.json"


class DrillRecords:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE_NAME

    def _bonds(self) -> dict[str, Any]:
        data = read_json(self.path)
        return {} if data is None else parse(self.path, data, lambda d: dict(d.get("bonds", {})))

    def save(self, result: DrillResult) -> None:
        bonds = self._bonds()
        bonds[result.bond] = {
            "summary": DrillSummary.of(result).to_json(),
            "result": result.to_json(),
        }
        write_json(self.path, {"bonds": bonds})

    def summaries(self) -> dict[str, DrillSummary]:
        """The last drill per bond; raises StateError when the file is unreadable."""
        bonds = self._bonds()
        return parse(
            self.path,
            bonds,
            lambda b: {name: DrillSummary.from_json(entry["summary"]) for name, entry in b.items()},
        )

    def result(self, bond: str) -> dict[str, Any] | None:
        entry = self._bonds().get(bond)
        return None if entry is None else parse(self.path, entry, lambda e: dict(e["result"]))
