# The fleet test's view of a playbook run: every task's result per host, how long
# each host took over it, and the recap's counts, written as one JSON file
# (ansible-core has no JSON or profiling callback of its own; ansible.posix's are
# not a dependency of the test).
from __future__ import annotations

import json
import os
import time
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
        self.by_uuid: dict[str, dict[str, Any]] = {}
        self.started = time.monotonic()
        self.host_started: dict[tuple[str, str], float] = {}

    def _now(self) -> float:
        return round(time.monotonic() - self.started, 2)

    def _task(self, task: Any) -> dict[str, Any]:
        # Keyed by the task itself: under the free strategy results interleave.
        entry = self.by_uuid.get(task._uuid)
        if entry is None:
            entry = {"name": task.name, "at": self._now(), "hosts": {}, "seconds": {}}
            self.by_uuid[task._uuid] = entry
            self.tasks.append(entry)
        return entry

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._task(task)

    def v2_runner_on_start(self, host: Any, task: Any) -> None:
        self.host_started[(host.get_name(), task._uuid)] = time.monotonic()

    def _record(self, result: Any, **flags: bool) -> None:
        entry = self._task(result._task)
        host = result._host.get_name()
        data = dict(result._result)
        data.update(flags)
        data["finished_at"] = self._now()
        entry["hosts"][host] = data
        began = self.host_started.pop((host, result._task._uuid), None)
        if began is not None:
            entry["seconds"][host] = round(time.monotonic() - began, 2)

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
            json.dump(
                {"tasks": self.tasks, "stats": recap, "seconds": self._now()}, handle, default=str
            )
