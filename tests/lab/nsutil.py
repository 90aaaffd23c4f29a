"""Namespace primitives for the lab: enter a network namespace in-process.

`setns()` moves this process's netlink sockets and /proc/self/net to another
namespace, but /sys/class/net keeps showing the namespace that mounted sysfs.
So entering a namespace here also mounts a fresh sysfs over /sys (in a private
mount namespace made once per process), the way `ip netns exec` does, and
leaving unmounts it. Python 3.11 has no os.setns/os.unshare, hence ctypes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Iterator
from contextlib import contextmanager

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_state = {"private_mounts": False}


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _make_mounts_private() -> None:
    """Give this process its own mount namespace, once, so /sys remounts stay ours."""
    if _state["private_mounts"]:
        return
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    _state["private_mounts"] = True


def _setns(fd: int) -> None:
    _check(_libc.setns(fd, CLONE_NEWNET), "setns(CLONE_NEWNET)")


@contextmanager
def entered(netns_path: str) -> Iterator[None]:
    """Run the body inside the network namespace bound at `netns_path`."""
    _make_mounts_private()
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(netns_path, os.O_RDONLY)
    try:
        _setns(target)
        _check(_libc.mount(b"sysfs", b"/sys", b"sysfs", 0, None), "mount sysfs")
        try:
            yield
        finally:
            _check(_libc.umount2(b"/sys", MNT_DETACH), "umount /sys")
            _setns(home)
    finally:
        os.close(target)
        os.close(home)


@contextmanager
def netns_only(netns_path: str) -> Iterator[None]:
    """Enter a namespace without remounting /sys: for opening sockets that stay bound to it."""
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(netns_path, os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(target)
        os.close(home)
