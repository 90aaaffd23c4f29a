"""What reading one configuration may cost: bytes, files, depth, nodes, aliases.

bondd reads its files as root, in the daemon, so a file must not be able to
exhaust memory or crash the interpreter. PyYAML alone gives no such bound
on either version bondd runs with (PyPI's, and Debian 12's python3-yaml 6.0
with libyaml): a few hundred bytes of nested `<<` merges expand to gigabytes,
and libyaml's C composer recurses once per nesting level, so 100,000 `[`
overflow the C stack (a segfault no `except` can catch).

So the composer here is PyYAML's Python `Composer` running over the parser's
event stream (libyaml's when present, whose parser keeps its state on the
heap): it counts nodes, aliases and depth as it goes and refuses a document
before the next level is composed, never after. A mapping's size after `<<`
merging is computed from its already composed sources before PyYAML's
`flatten_mapping` builds it. Files are opened without blocking (a FIFO) and
read no further than the size limit. Pure apart from reading the file.

The figures are far above any real configuration (the 500-bond benchmark
is 209 KB and 24,600 nodes in all, 8 levels deep) and far below what hurts:
the worst case of tests/unit/hostile peaks under 100 MB resident and takes
seconds, on both PyYAML versions.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer

MAX_FILE_BYTES = 1 << 20  # one file; the whole 500-bond benchmark is 209 KB
MAX_TOTAL_BYTES = 8 << 20  # every file of one configuration together
MAX_FILES = 1000
MAX_DEPTH = 32  # netplan documents nest about 8 levels
MAX_NODES = 100_000  # composed nodes in one file; the 500-bond benchmark has 24,600 in all
MAX_TOTAL_NODES = 150_000  # composed in one load, every file together: 6x the benchmark
MAX_ALIASES = 1000  # alias uses in one file; netplan files rarely use any
MAX_MERGED_PAIRS = 10_000  # one mapping's entries after `<<` merging

MAX_NUMBER_CHARS = 64  # a YAML number; base-60 `1:59:59...` costs quadratic time

MERGE_TAG = "tag:yaml.org,2002:merge"
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})
# The tags PyYAML's resolver gives plain YAML; anything else (`!foo`,
# `!!python/...`) was written on purpose and would be silently dropped.
_KNOWN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in (
        "null",
        "bool",
        "int",
        "float",
        "str",
        "seq",
        "map",
        "merge",
        "value",
        "binary",
        "timestamp",
    )
)


class LimitExceededError(Exception):
    """A document or file beyond a limit; `mark` is where it was noticed."""

    def __init__(self, message: str, mark: Any, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark
        self.hint = hint


class LimitedComposer(Composer):
    """PyYAML's composer, counting as it composes; mix in before the parser class."""

    def init_limits(self) -> None:
        Composer.__init__(self)
        self.depth = 0
        self.nodes = 0
        self.alias_uses = 0
        self.merged_pairs: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[attr-defined]  # from the parser mixed in
        if isinstance(event, yaml.AliasEvent):
            self.alias_uses += 1
            if self.alias_uses > MAX_ALIASES:
                raise LimitExceededError(
                    f"the file uses aliases more than {MAX_ALIASES} times",
                    event.start_mark,
                    "write the values out instead of referring to them with `*name`",
                )
            return super().compose_node(parent, index)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise LimitExceededError(
                f"the file holds more than {MAX_NODES} values",
                event.start_mark,
                "split the configuration into several files",
            )
        left = _NODES_LEFT.get()
        if left is not None:
            if left <= 0:
                raise LimitExceededError(
                    f"the configuration files together hold more than {MAX_TOTAL_NODES} values",
                    event.start_mark,
                    "merge or remove files; no real bond configuration is this large",
                )
            _NODES_LEFT.set(left - 1)
        if self.depth >= MAX_DEPTH:
            raise LimitExceededError(
                f"the document is nested more than {MAX_DEPTH} levels deep",
                event.start_mark,
                "flatten the structure; a bondd file needs about 8 levels",
            )
        self.depth += 1
        try:
            node: Any = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if node.tag not in _KNOWN_TAGS:
            raise LimitExceededError(
                f"unknown YAML tag {node.tag[:40]!r}",
                node.start_mark,
                "remove the tag; bondd files use plain YAML",
            )
        return node

    def compose_mapping_node(self, anchor: Any) -> Any:
        node = super().compose_mapping_node(anchor)
        total = 0
        for key, value in node.value:
            if key.tag != MERGE_TAG:
                total += 1
            elif value is node or (
                isinstance(value, yaml.SequenceNode) and any(i is node for i in value.value)
            ):
                raise LimitExceededError(
                    "a `<<` merge refers to the mapping it is in",
                    key.start_mark,
                    "merge another mapping, or write the entries out",
                )
            elif isinstance(value, yaml.MappingNode):
                total += self.merged_pairs.get(id(value), len(value.value))
            elif isinstance(value, yaml.SequenceNode):
                total += sum(
                    self.merged_pairs.get(id(item), len(item.value))
                    for item in value.value
                    if isinstance(item, yaml.MappingNode)
                )
        if total > MAX_MERGED_PAIRS:
            raise LimitExceededError(
                f"`<<` merges expand this mapping to more than {MAX_MERGED_PAIRS} entries",
                node.start_mark,
                "write the entries out instead of merging them with `<<`",
            )
        self.merged_pairs[id(node)] = total
        return node


def check_scalar(node: yaml.ScalarNode) -> None:
    """LimitExceededError for a number too long to convert cheaply (before converting it)."""
    if node.tag in _NUMBER_TAGS and len(node.value) > MAX_NUMBER_CHARS:
        raise LimitExceededError(
            f"a number of {len(node.value)} characters; bondd reads at most {MAX_NUMBER_CHARS}",
            node.start_mark,
            "write a real value, or quote it if it is meant as text",
        )


# Composed nodes left for the files still to be read in this load (None: no
# load in progress, only the per-file limit applies). A context variable, so
# the budget reaches the composer without threading it through every call.
_NODES_LEFT: ContextVar[int | None] = ContextVar("bondd_nodes_left", default=None)


@contextmanager
def node_budget(nodes: int) -> Iterator[None]:
    token = _NODES_LEFT.set(nodes)
    try:
        yield
    finally:
        _NODES_LEFT.reset(token)


def nodes_left() -> int:
    return _NODES_LEFT.get() or 0


class FileRefusedError(Exception):
    """A configuration file that cannot be read as one; says why and what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def read_bounded(path: Path, budget: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, at most `min(budget, MAX_FILE_BYTES)` of them, or FileRefusedError.

    Opened without blocking so a FIFO named *.yaml cannot stall the reader;
    anything but a regular file (after following links) is refused, so a
    dangling link, a FIFO or a directory is reported, never silently skipped.
    """
    limit = min(budget, MAX_FILE_BYTES)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileRefusedError(
            "the file vanished or is a link to nothing",
            "restore the file or its link target, or remove the name",
        ) from None
    except OSError as exc:
        raise FileRefusedError(
            f"cannot read file: {exc.strerror or exc}",
            "check the file's permissions; bondd reads it as root",
        ) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileRefusedError(
                "this is a directory, not a file",
                "rename or remove it; bondd reads *.yaml files",
            )
        if not stat.S_ISREG(info.st_mode):
            raise FileRefusedError(
                "this is not a regular file",
                "replace it with a regular file, or remove it; bondd reads *.yaml files",
            )
        if info.st_size > limit:
            raise FileRefusedError(_too_big(limit), _too_big_hint(limit))
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            except OSError as exc:
                raise FileRefusedError(
                    f"cannot read file: {exc.strerror or exc}",
                    "check the file and the disk it is on",
                ) from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while we read
                raise FileRefusedError(_too_big(limit), _too_big_hint(limit))
        return b"".join(chunks)
    finally:
        os.close(fd)


def check_size(data: bytes, budget: int = MAX_FILE_BYTES) -> None:
    """FileRefusedError if content given in memory (a staged file) is over the limit."""
    limit = min(budget, MAX_FILE_BYTES)
    if len(data) > limit:
        raise FileRefusedError(_too_big(limit), _too_big_hint(limit))


def _too_big(limit: int) -> str:
    if limit < MAX_FILE_BYTES:
        return f"the configuration files together are larger than {MAX_TOTAL_BYTES} bytes"
    return f"the file is larger than {MAX_FILE_BYTES} bytes"


def _too_big_hint(limit: int) -> str:
    if limit < MAX_FILE_BYTES:
        return "merge or remove files; no real bond configuration is this large"
    return "split it into several files, or remove what bondd does not need"
