"""Opening netlink and the few pyroute2 differences bondd has to paper over.

Debian 12 ships pyroute2 0.7.2, PyPI 0.9.x; both are supported. Only the
synchronous `IPRoute` is used (never NDB): bondd does its own rollback.
"""

from __future__ import annotations

from typing import Any

from pyroute2 import IPRoute, NetlinkError

__all__ = ["IPRoute", "NetlinkError", "attr", "connect", "nested"]

# A pyroute2 message; its classes are untyped, so they are Any to mypy.
Msg = Any


def connect() -> IPRoute:
    """A netlink route socket in the caller's network namespace."""
    return IPRoute()


def attr(msg: Msg, name: str) -> Any:
    """One attribute of a message, None when absent."""
    return msg.get_attr(name) if msg is not None else None


def nested(msg: Msg, *path: str) -> Any:
    """An attribute nested several levels deep, None when any level is absent."""
    for name in path:
        if msg is None:
            return None
        msg = msg.get_attr(name)
    return msg
