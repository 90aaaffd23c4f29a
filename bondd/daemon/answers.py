"""Control-socket answers: each checked request (bondd.daemon.requests) to its reply.

Status, apply, the state of a transaction, confirm, rollback, and holding
or releasing drift repair of a bond for a failover drill. Every request
gets an answer, an error one when it fails; the loop goes on.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from bondd import config
from bondd.daemon import control, queries
from bondd.daemon.proposals import Proposals
from bondd.engine.converge import make_plan
from bondd.engine.proposal import build as build_proposal
from bondd.engine.proposal import committed_again
from bondd.engine.transaction import Result, Status, confirm, rollback_pending
from bondd.errors import BonddError, ConfigError
from bondd.log import event
from bondd.render.plan import plan_digest, result_json


class Answers(Proposals):
    def on_control(self, server: control.ControlServer) -> None:
        # Requests arrive checked (control.poll): malformed, oversized, late or
        # not root's to make were answered there.
        for conn, _uid, req in server.poll():
            self.answer(conn, req)
        for refusal in server.refusals:
            event(self.log, "refused", refusal, level=logging.WARNING)
        server.refusals.clear()
        due = server.next_deadline()
        if due is not None:
            self.timers["control"] = due
        else:
            self.timers.pop("control", None)

    def answer(self, conn: Any, req: control.Request) -> None:
        try:
            answer = self.handle(req.cmd, req.fields)
        except BonddError as exc:
            answer = error_answer(exc)
        except Exception as exc:  # every request gets an answer; the loop goes on
            event(self.log, "request_failed", f"`{req.cmd}` failed: {exc!r}", level=logging.ERROR)
            answer = {
                "ok": False,
                "error": f"`{req.cmd}` failed: {exc!r}"[:300],
                "exit_code": os.EX_SOFTWARE,
            }
        control.reply(conn, answer)

    def handle(self, cmd: str, req: dict[str, Any]) -> dict[str, Any]:
        handlers = {
            "status": self.handle_status,
            "plan": self.handle_plan,
            "apply": self.handle_apply,
            "txn": self.handle_txn,
            "confirm": self.handle_confirm,
            "rollback": self.handle_rollback,
            "hold": self.handle_hold,
            "release": self.handle_release,
        }
        handler = handlers.get(cmd)
        if handler is None:
            return {"ok": False, "error": f"unknown command {cmd!r}", "exit_code": os.EX_USAGE}
        return handler(req)

    def handle_status(self, req: dict[str, Any]) -> dict[str, Any]:
        if "report" in req:  # `bondctl status`: the report rendered here
            sources = queries.Sources(
                self.host.reader.read,
                self.host.store,
                self.dirs,
                lambda: config.load_desired(self.dirs, explicit=self.explicit),
            )
            return queries.status_report(req, self.last_read, sources, self.now())
        pending = self.host.store.pending()
        return {
            "ok": True,
            "stats": dict(self.stats),
            "status": self.status_line(),
            "config_dirs": [str(d) for d in self.dirs],
            "explicit": self.explicit,
            "state_dir": str(self.host.store.dir),
            "degraded": self.degraded,
            "proposal": self.proposal_note,
            "problem": self.problem,
            "holds": {b: round(t - self.now(), 1) for b, t in self.holds.items()},
            "pending": None
            if pending is None
            else {
                "txn": pending.txn,
                "phase": pending.phase.value,
                "deadline": pending.deadline,
            },
        }

    def handle_plan(self, req: dict[str, Any]) -> dict[str, Any]:
        return queries.plan(self.host, self.dirs, self.explicit, req)

    def handle_txn(self, req: dict[str, Any]) -> dict[str, Any]:
        return self.txn_state(str(req.get("txn", "")), str(req.get("proposal", "")))

    def handle_confirm(self, req: dict[str, Any]) -> dict[str, Any]:
        pending = confirm(self.host, req.get("txn"))
        if pending is None:
            return {"ok": False, "error": "no change is waiting for confirmation", "exit_code": 1}
        self.timers.pop("confirm", None)
        event(
            self.log,
            "applied",
            f"transaction {pending.txn} confirmed",
            txn=pending.txn,
            proposal=pending.proposal_hash,
        )
        return {"ok": True, "txn": pending.txn}

    def handle_rollback(self, req: dict[str, Any]) -> dict[str, Any]:
        pending = rollback_pending(self.host, "rolled back by `bondctl rollback`", req.get("txn"))
        if pending is None:
            return {"ok": False, "error": "no transaction is pending", "exit_code": 1}
        self.timers.pop("confirm", None)
        event(
            self.log,
            "rolled_back",
            "rolled back by request",
            level=logging.WARNING,
            txn=pending.txn,
            proposal=pending.proposal_hash,
        )
        self.refresh_managed()
        return {"ok": True, "txn": pending.txn}

    def handle_hold(self, req: dict[str, Any]) -> dict[str, Any]:
        bond = str(req["bond"])
        seconds = min(float(req.get("seconds", 60)), 3600.0)
        self.holds[bond] = self.now() + seconds
        self.timers[f"hold:{bond}"] = self.holds[bond]
        event(self.log, "hold", f"drift repair of {bond} paused for {seconds:g}s", bond=bond)
        return {"ok": True, "bond": bond, "seconds": seconds}

    def handle_release(self, req: dict[str, Any]) -> dict[str, Any]:
        bond = str(req["bond"])
        self.holds.pop(bond, None)
        self.timers[f"hold:{bond}"] = self.now()
        return {"ok": True, "bond": bond}

    def handle_apply(self, req: dict[str, Any]) -> dict[str, Any]:
        # `req` was checked by control.requests: names the loader reads, sizes, the span.
        files = [(name, content.encode("utf-8", "replace")) for name, content in req["files"]]
        staged = {self.dirs[0] / Path(name).name: data for name, data in files}
        committed = self.host.store.committed()
        if committed is not None and self.unchanged_since_commit(staged):
            # The committed bytes again (a no-op apply): its state, not a second parse.
            proposal = committed_again(self.dirs, files, committed)
        else:
            proposal = build_proposal(self.dirs, explicit=self.explicit, files=files)
        expected = None
        if req.get("expected") is not None:
            # The plan the admin approved (`plan` answered its digest): that plan
            # runs, or nothing does and the client shows the new one.
            expected, _ = make_plan(proposal.desired, self.host.reader, self.host.store)
            if plan_digest(expected) != req["expected"]:
                result = Result(Status.PLAN_CHANGED, expected)
                return {"ok": True, **result_json(result), "proposal": proposal.hash}
        result = self.transaction(proposal, req["confirm_timeout"], req["probes"], expected)
        return {"ok": True, **result_json(result), "proposal": proposal.hash}

    def txn_state(self, txn: str, proposal: str) -> dict[str, Any]:
        pending = self.host.store.pending()
        if pending is not None and pending.txn == txn:
            return {"ok": True, "state": pending.phase.value, "deadline": pending.deadline}
        committed = self.host.store.committed()
        if committed is not None and committed[0] == proposal:
            return {"ok": True, "state": "committed"}
        reason = self.host.store.rejected().get(proposal, "rolled back")
        return {"ok": True, "state": "rolled-back", "reason": reason}


def error_answer(exc: BonddError) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "ok": False,
        "error": exc.message,
        "hint": exc.hint,
        "exit_code": exc.exit_code,
    }
    if isinstance(exc, ConfigError):
        answer["diagnostics"] = [d.format() for d in exc.diagnostics]
    return answer
