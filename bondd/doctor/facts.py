"""What `bondctl doctor` reasons about (the host's facts) and what it says (findings).

The command (bondd/cli/doctor.py) gathers the facts; the checks
(bondd/doctor/host.py, bondd/doctor/bonds.py) turn them into findings. Pure.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from bondd.model import ActualState


class Severity(enum.StrEnum):
    PROBLEM = "problem"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    check: str  # stable id, for scripts
    subject: str  # the bond, port or "host"
    message: str
    fix: str

    def to_json(self) -> dict[str, str]:
        return {
            "severity": self.severity.value,
            "check": self.check,
            "subject": self.subject,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class PendingFacts:
    txn: str
    phase: str  # applying, waiting
    deadline: float  # wall clock; 0 when none
    process_alive: bool  # the process (or guard) that owns it still runs


@dataclass(frozen=True)
class HostFacts:
    actual: ActualState
    configured_bonds: frozenset[str] = frozenset()
    configured_ports: frozenset[str] = frozenset()
    config_error: str | None = None
    managed: frozenset[str] = frozenset()  # owned or adopted bonds
    module_loaded: bool = True
    max_bonds: int = 0
    max_bonds_source: str | None = None
    nm_files: Mapping[str, list[str]] = field(default_factory=dict)
    nm_running: bool = False
    nm_managed: Mapping[str, bool] = field(default_factory=dict)  # from NM's /run records
    networkd_files: Mapping[str, list[str]] = field(default_factory=dict)
    networkd_states: Mapping[str, str] = field(default_factory=dict)  # name -> ADMIN_STATE
    mac_policy: Mapping[str, tuple[str, str]] = field(
        default_factory=dict
    )  # bond -> (policy, file)
    mac_assigned_by_user: frozenset[str] = frozenset()  # bonds with addr_assign_type 3
    speeds: Mapping[str, int | None] = field(default_factory=dict)
    pending: PendingFacts | None = None
    now: float = 0.0  # wall clock
