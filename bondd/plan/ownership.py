"""Which bonds bondd answers for, and what their ports looked like before.

A bond bondd created is *owned*: removed from the YAML, it is deleted and its
ports are put back as they were. A bond that already existed and is named in
the YAML is *adopted*: managed while named, left in place when removed.
Anything else is never touched. Pure data; the engine persists it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class PortBefore:
    """A port's state just before bondd enslaved it, to restore on release."""

    name: str
    up: bool
    addresses: tuple[str, ...] = ()


def _frozen(items: Mapping[str, PortBefore] | None = None) -> Mapping[str, PortBefore]:
    return MappingProxyType(dict(items or {}))


@dataclass(frozen=True)
class Ownership:
    owned: frozenset[str] = frozenset()
    adopted: frozenset[str] = frozenset()
    ports_before: Mapping[str, PortBefore] = field(default_factory=_frozen)

    def manages(self, bond: str) -> bool:
        return bond in self.owned or bond in self.adopted

    def merged_with(self, other: Ownership) -> Ownership:
        """Everything either record claims: what to persist while a plan is half run."""
        owned = self.owned | other.owned
        return Ownership(
            owned=owned,
            adopted=(self.adopted | other.adopted) - owned,
            ports_before=_frozen({**other.ports_before, **self.ports_before}),
        )

    def to_json(self) -> dict[str, object]:
        return {
            "owned": sorted(self.owned),
            "adopted": sorted(self.adopted),
            "ports_before": {
                name: {"up": p.up, "addresses": list(p.addresses)}
                for name, p in sorted(self.ports_before.items())
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Ownership:
        owned = data.get("owned", [])
        adopted = data.get("adopted", [])
        ports = data.get("ports_before", {})
        assert isinstance(owned, list) and isinstance(adopted, list) and isinstance(ports, dict)
        return cls(
            owned=frozenset(str(x) for x in owned),
            adopted=frozenset(str(x) for x in adopted),
            ports_before=_frozen(
                {
                    str(name): PortBefore(
                        name=str(name),
                        up=bool(info.get("up", False)),
                        addresses=tuple(str(a) for a in info.get("addresses", [])),
                    )
                    for name, info in ports.items()
                }
            ),
        )

    def __hash__(self) -> int:
        return hash((self.owned, self.adopted, tuple(sorted(self.ports_before.items()))))
