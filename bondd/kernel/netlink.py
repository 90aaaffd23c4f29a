"""Opening pyroute2, which `bondctl failover`'s drill uses (see bondd.kernel).

Debian 12 ships pyroute2 0.7.2, PyPI 0.9.x; both are supported. Only the
synchronous `IPRoute` is used (never NDB): bondd does its own rollback.
Reads and the engine's writes never go through pyroute2: bondd.kernel.codec
encodes and decodes them, and the daemon never imports this module.
"""

from __future__ import annotations

from pyroute2 import IPRoute, NetlinkError

__all__ = ["IPRoute", "NetlinkError", "connect"]


def connect() -> IPRoute:
    """A netlink route socket in the caller's network namespace."""
    return IPRoute()
