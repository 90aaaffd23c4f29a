"""What the daemon answers without changing anything: `bondctl status` and `plan`.

A status comes from the daemon's last verified read while that is fresh.

The loop keeps the kernel state its last pass verified (`LastRead.keep`) and
forgets it on any kernel event (`LastRead.forget`): until then that read is
what the kernel has, and a status costs no netlink dump. Past `FRESH_FOR`
seconds, or after an event, the daemon reads again. The client sends how it
wants the report (text, text in colour, or the JSON of docs/status-json.md)
and prints what comes back, so it needs nothing but the control protocol.
A plan is made here for the same reason, rendered as `bondctl plan` prints it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bondd.engine.converge import make_plan
from bondd.engine.proposal import build as build_proposal
from bondd.engine.store import Store
from bondd.engine.transaction import Host
from bondd.errors import BonddError
from bondd.kernel.linkspeed import read_link_speed
from bondd.model import ActualState, DesiredState
from bondd.render.plan import plan_digest, plan_json, plan_text
from bondd.status import report as status
from bondd.status.render import to_json, to_text

# Kernel events say when something changed; this bounds what they might miss
# (a counter in /proc/net/bonding moves without one).
FRESH_FOR = 5.0


@dataclass
class LastRead:
    """The last verified read, the port speeds seen with it, and the parsed configuration."""

    actual: ActualState | None = None
    at: float = 0.0
    speeds: dict[str, tuple[int | None, str | None]] = field(default_factory=dict)
    files: tuple[tuple[str, int, int, int], ...] | None = None  # what `desired` was parsed from
    desired: DesiredState | BonddError | None = None

    def keep(self, actual: ActualState, now: float) -> None:
        self.actual, self.at = actual, now
        self.speeds = {}

    def forget(self) -> None:
        self.actual = None
        self.speeds = {}  # a carrier event may come with a new speed

    def fresh(self, now: float) -> ActualState | None:
        if self.actual is not None and now - self.at <= FRESH_FOR:
            return self.actual
        return None

    def speed(self, name: str) -> tuple[int | None, str | None]:
        if name not in self.speeds:
            found = read_link_speed(name)
            self.speeds[name] = (found.speed_mbps, found.duplex)
        return self.speeds[name]

    def configuration(self, dirs: list[Path], load: Callable[[], DesiredState]) -> DesiredState:
        """The configuration, parsed again only when a file in `dirs` changed (by stat)."""
        files = fingerprint(dirs)
        if files != self.files or self.desired is None:
            try:
                self.desired = load()
            except BonddError as exc:
                self.desired = exc
            self.files = files
        if isinstance(self.desired, BonddError):
            raise self.desired
        return self.desired


def fingerprint(dirs: list[Path]) -> tuple[tuple[str, int, int, int], ...]:
    """Each configuration file (and directory) with its inode, size and mtime."""
    seen = []
    for directory in dirs:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
            top = directory.stat()
        except OSError:
            seen.append((str(directory), -1, -1, -1))
            continue
        seen.append((str(directory), top.st_ino, top.st_size, top.st_mtime_ns))
        for entry in entries:
            try:
                info = entry.stat()
            except OSError:
                info = None
            if info is None:
                seen.append((entry.path, -1, -1, -1))
            else:
                seen.append((entry.path, info.st_ino, info.st_size, info.st_mtime_ns))
    return tuple(seen)


@dataclass(frozen=True)
class Sources:
    """What a report is made of, as the daemon has it."""

    read: Callable[[], ActualState]
    store: Store
    dirs: list[Path]
    desired: Callable[[], DesiredState]


def status_report(
    fields: dict[str, Any], last: LastRead, sources: Sources, now: float
) -> dict[str, Any]:
    """The status report as the client asked for it; `report` None: read it yourself."""
    if not mine(fields, sources.dirs, sources.store):
        return {"ok": True, "report": None, "why": "other directories than the daemon's"}
    actual = last.fresh(now)
    source = "last verified read"
    if actual is None:
        actual = sources.read()
        last.keep(actual, now)
        source = "read now"
    only = fields.get("bond")

    def desired() -> DesiredState:
        return last.configuration(sources.dirs, sources.desired)

    report = status.gather(actual, sources.store, sources.store.dir, desired, last.speed, only=only)
    if unknown := status.unknown_bond(report, only):
        return {"ok": False, "report": "", "error": unknown[0], "hint": unknown[1], "exit_code": 1}
    form = fields["report"]
    rendered: object = (
        to_json(report) if form == "json" else to_text(report, colour=form == "colour")
    )
    return {"ok": True, "report": rendered, "source": source}


def mine(fields: dict[str, Any], dirs: list[Path], store: Store) -> bool:
    """Whether the directories the client named (if any) are the daemon's own."""
    wanted, state = fields.get("config_dirs"), fields.get("state_dir")
    if wanted is not None and [Path(d) for d in wanted] != [d.resolve() for d in dirs]:
        return False
    return state is None or Path(state) == store.dir.resolve()


def plan(host: Host, dirs: list[Path], explicit: bool, fields: dict[str, Any]) -> dict[str, Any]:
    """The plan with the client's files in the first directory, as text and JSON.

    `text` None: the client named other directories than the daemon's; it plans itself.
    """
    if not mine(fields, dirs, host.store):
        return {"ok": True, "text": None, "why": "other directories than the daemon's"}
    staged = [(name, content.encode("utf-8", "replace")) for name, content in fields["files"]]
    proposal = build_proposal(dirs, explicit=explicit, files=staged)
    planned, _ = make_plan(proposal.desired, host.reader, host.store)
    return {
        "ok": True,
        "empty": planned.empty,
        "ops": len(planned.ops),
        "text": plan_text(planned),
        "plan": plan_json(planned),
        "digest": plan_digest(planned),
    }
