"""A transaction's outcome in words, from its JSON form (`render.plan.result_json`).

Works on the dictionary the daemon answers with as on one made in this
process, and imports nothing else of bondd: `bondctl apply` through the
daemon prints the daemon's answer without loading the engine. The result
names are `engine.transaction.Status` values (a unit test holds them equal).
"""

from __future__ import annotations

import time

TYPE_CHECKING = False  # not typing's: importing typing costs a thin command's start
if TYPE_CHECKING:
    from typing import Any

CONVERGED = "converged"
WAITING = "waiting"
ROLLED_BACK = "rolled-back"
PLAN_CHANGED = "plan-changed"  # nothing done: the kernel moved since the plan was shown


def result_text(data: dict[str, Any], by: str = "") -> str:
    """The lines after the plan: each gate, then what became of the change."""
    lines = []
    for gate in data.get("gates", []):
        state = "ok" if gate["ok"] else "FAILED"
        note = "" if gate.get("used", True) else " (failed before the change too: not a gate)"
        lines.append(f"{gate['name']}: {state}: {gate['detail']}{note}")
    result = data.get("result")
    if result == ROLLED_BACK:
        lines.append(f"rolled back: {data.get('reason', '')}")
    elif result == CONVERGED:
        lines.append("converged: nothing to do")
    elif result == WAITING:
        until = time.strftime("%H:%M:%S", time.localtime(float(data.get("deadline") or 0)))
        lines.append(
            f"waiting for confirmation until {until}{by}: `bondctl confirm` keeps it,"
            " otherwise it is rolled back then"
        )
    else:
        reason = data.get("reason")
        lines.append(f"committed{f' ({reason})' if reason else ''}; kernel verified{by}")
    return "\n".join(lines)
