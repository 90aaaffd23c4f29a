"""Prometheus text exposition format (version 0.0.4), written by bondd itself.

Only what bondd emits: gauges and counters, every family with its HELP and
TYPE lines (also when it has no sample, so a dashboard can rely on the name),
label values and help text escaped as the format requires. Pure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

GAUGE = "gauge"
COUNTER = "counter"
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


@dataclass(frozen=True)
class Sample:
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass
class Family:
    """One metric name: its help, its type and its samples."""

    name: str
    kind: str
    help: str
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name) or self.kind not in (GAUGE, COUNTER):
            raise ValueError(f"bad metric {self.name!r} of type {self.kind!r}")
        if self.kind == COUNTER and not self.name.endswith("_total"):
            raise ValueError(f"counter {self.name} must end in _total")

    def add(self, value: float | bool, **labels: str) -> None:
        for name in labels:
            if not _LABEL.match(name) or name.startswith("__"):
                raise ValueError(f"bad label name {name!r}")
        self.samples.append(Sample(tuple(labels.items()), float(value)))


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def render(families: Iterable[Family]) -> str:
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for sample in family.samples:
            labels = ",".join(f'{k}="{escape_label(v)}"' for k, v in sample.labels)
            where = f"{{{labels}}}" if labels else ""
            lines.append(f"{family.name}{where} {format_value(sample.value)}")
    return "\n".join(lines) + "\n"
