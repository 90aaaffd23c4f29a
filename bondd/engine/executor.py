"""Run a plan's operations in order; stop at the first the kernel refuses.

Kernels differ in which options need the bond down or portless, so a refusal
with EBUSY or ENOTEMPTY is retried once the way the kernel asks (bond down;
ports released) before it counts as a failure.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from dataclasses import dataclass

from bondd.engine.boundary import Writer
from bondd.errors import ApplyError, KernelOpError
from bondd.plan import ops as o


@dataclass(frozen=True)
class Execution:
    done: tuple[o.Op, ...]
    failed: o.Op | None = None
    not_done: tuple[o.Op, ...] = ()
    error: KernelOpError | None = None


def execute(ops: Sequence[o.Op], writer: Writer) -> Execution:
    """Apply `ops` in order; on failure, report what was and was not done."""
    done: list[o.Op] = []
    for index, op in enumerate(ops):
        try:
            _apply(op, writer)
        except KernelOpError as exc:
            return Execution(tuple(done), op, tuple(ops[index + 1 :]), exc)
        done.append(op)
    return Execution(tuple(done))


def execute_or_raise(ops: Sequence[o.Op], writer: Writer) -> Execution:
    result = execute(ops, writer)
    if result.error is not None:
        raise ApplyError(result.error, len(result.done), len(result.not_done))
    return result


def _apply(op: o.Op, writer: Writer) -> None:
    try:
        writer.apply(op)
    except KernelOpError as exc:
        if not isinstance(op, o.SetOptions) or exc.errno not in (errno.EBUSY, errno.ENOTEMPTY):
            raise
        _with_fallback(op, writer, release_ports=exc.errno == errno.ENOTEMPTY)


def _with_fallback(op: o.SetOptions, writer: Writer, *, release_ports: bool) -> None:
    bond = op.bond
    ports = writer.ports_of(bond) if release_ports else []
    writer.apply(o.SetLinkUp(bond, bond, up=False))
    for port in ports:
        writer.apply(o.RemovePort(bond, port))
    writer.apply(op)
    for port in ports:
        writer.apply(o.AddPort(bond, port))
    writer.apply(o.SetLinkUp(bond, bond, up=True))
