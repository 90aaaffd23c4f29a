# The fleet test's view of a playbook run: every task's result per host, and the
# recap's counts, written as one JSON file (ansible-core has no JSON callback of
# its own; ansible.posix's is not a dependency of the test).
from __future__ import annotations

import json
import os
from typing import Any

from ansible.plugins.callback import CallbackBase  # type: ignore[import-not-found]

DOCUMENTATION = """
name: bondd_record
type: aggregate
short_description: record each task's result per host as JSON (bondd's fleet test)
description: Writes the results and the recap to the file named by BONDD_RECORD.
"""


class CallbackModule(CallbackBase):  # type: ignore[misc]
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bondd_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[dict[str, Any]] = []

    def _record(self, result: Any, **flags: bool) -> None:
        name = result._task.name
        if not self.tasks or self.tasks[-1]["name"] != name:
            self.tasks.append({"name": name, "hosts": {}})
        data = dict(result._result)
        data.update(flags)
        self.tasks[-1]["hosts"][result._host.get_name()] = data

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record(result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._record(result, unreachable=True)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        recap = {host: stats.summarize(host) for host in sorted(stats.processed)}
        with open(os.environ["BONDD_RECORD"], "w") as handle:
            json.dump({"tasks": self.tasks, "stats": recap}, handle, default=str)
