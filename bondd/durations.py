"""Every time span a user can give bondd, with its range, in one place.

A span with no upper bound wedges the daemon (a probe that waits forever
inside a transaction) or crashes it later (`time.localtime(inf)`); `nan` and
negative values compare false against everything and silently meant "no
window". So each span is checked once, where it enters (YAML, the command
line, a control request), against the range documented here and in the
man pages. Pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A named range of seconds; `zero_means` says what 0 stands for, if allowed."""

    name: str
    low: float
    high: float
    zero_means: str | None = None

    def describe(self) -> str:
        text = f"from {self.low:g} to {self.high:g} seconds"
        if self.zero_means:
            text += f", or 0 for {self.zero_means}"
        return text


PROBE_TIMEOUT = Span("probe timeout", 0.1, 300.0)
CONFIRM_TIMEOUT = Span("confirm timeout", 1.0, 86_400.0, zero_means="no confirm window")
HOLD = Span("hold", 0.1, 3_600.0)

# The longest the loop may be inside one piece of work (a transaction with its
# probes and LACP gate) and still count as making progress for the watchdog.
MAX_BUSY = 3_600.0


class SpanError(ValueError):
    """A span out of its range; the message says the range."""


def seconds(raw: object, span: Span) -> float:
    """`raw` as seconds within `span`, or SpanError saying what is allowed."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise SpanError(f"{span.name} must be a number of seconds ({span.describe()})")
    try:
        value = float(raw)
    except (ValueError, OverflowError):
        raise SpanError(
            f"{span.name} must be a number of seconds ({span.describe()}), got {str(raw)[:40]!r}"
        ) from None
    if value == 0 and span.zero_means:
        return 0.0
    if not math.isfinite(value) or not span.low <= value <= span.high:
        raise SpanError(f"{span.name} must be {span.describe()}, got {str(raw)[:40]}")
    return value
