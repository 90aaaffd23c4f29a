"""Read another network manager's files and describe their bonds as bondd YAML (`bondctl import`).

One module per source, each a pure parser with `load(paths) -> Imported`:
no kernel access, every value with the FILE:LINE it came from. `render`
prints the result as bondd YAML.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from bondd.importers import ifcfg, ifupdown, netplan, networkd, networkmanager
from bondd.importers.model import Imported, SourceError
from bondd.importers.render import render

SOURCES: dict[str, Callable[[Sequence[Path]], Imported]] = {
    "networkmanager": networkmanager.load,
    "networkd": networkd.load,
    "ifupdown": ifupdown.load,
    "ifcfg": ifcfg.load,
    "netplan": netplan.load,
}

DEFAULT_PATHS: dict[str, tuple[Path, ...]] = {
    "networkmanager": networkmanager.DEFAULTS,
    "networkd": networkd.DEFAULTS,
    "ifupdown": ifupdown.DEFAULTS,
    "ifcfg": ifcfg.DEFAULTS,
    "netplan": netplan.DEFAULTS,
}


def load(source: str, paths: Sequence[Path] = ()) -> Imported:
    return SOURCES[source](paths)


__all__ = ["DEFAULT_PATHS", "SOURCES", "Imported", "SourceError", "load", "render"]
