"""Plans as a person reads them (grouped by bond, with the disruption) and as JSON."""

from __future__ import annotations

import hashlib
import json
import textwrap
from typing import Any

from bondd.engine.transaction import Result
from bondd.plan.ops import Disruption
from bondd.plan.planner import Plan


def plan_text(plan: Plan) -> str:
    lines = [f"warning: {w}" for w in plan.warnings]
    if plan.empty:
        lines.append("converged: nothing to do")
        return "\n".join(lines)
    worst = plan.disruption()
    number = 0
    for bond in dict.fromkeys(op.bond for op in plan.ops):
        lines.append(f"{bond}: {worst[bond].label}")
        for op in plan.ops:
            if op.bond != bond:
                continue
            number += 1
            # A mode change sets every option at once: wrap it for an 80-column terminal.
            lines.extend(
                textwrap.wrap(
                    op.describe(),
                    width=78,
                    initial_indent=f"  {number:>3}. ",
                    subsequent_indent=" " * 9,
                    break_on_hyphens=False,
                )
            )
    bonds = len(worst)
    lines.append(
        f"{len(plan.ops)} operation{'s' if len(plan.ops) != 1 else ''} on"
        f" {bonds} bond{'s' if bonds != 1 else ''}"
    )
    return "\n".join(lines)


def plan_json(plan: Plan) -> dict[str, object]:
    return {
        "converged": plan.empty,
        "bonds": {bond: d.label for bond, d in sorted(plan.disruption().items())},
        "operations": [
            {
                "bond": op.bond,
                "op": type(op).__name__,
                "description": op.describe(),
                "disruption": op.disruption.label,
            }
            for op in plan.ops
        ],
        "differences": [d.to_json() for d in plan.differences],
        "warnings": list(plan.warnings),
        "disruption_levels": [d.label for d in Disruption],
    }


def plan_digest(plan: Plan) -> str:
    """What the admin saw and approved, operation by operation: the daemon runs
    that plan or none (the kernel may move between showing and asking)."""
    operations = plan_json(plan)["operations"]
    return hashlib.sha256(json.dumps(operations, sort_keys=True).encode()).hexdigest()[:32]


def result_json(result: Result) -> dict[str, Any]:
    """A transaction's result as bondctl --json prints it and the daemon answers it."""
    return {
        "result": result.status.value,
        "txn": result.txn,
        "reason": result.reason,
        "deadline": result.deadline,
        "gates": [
            {
                "name": g.name,
                "ok": g.ok,
                "detail": g.detail,
                "used": g.used,
                "seconds": round(g.seconds, 3),
            }
            for g in result.gates
        ],
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "plan_text": plan_text(result.plan) if result.plan else "",
        "plan": plan_json(result.plan) if result.plan else None,
        "digest": plan_digest(result.plan) if result.plan else None,
    }
