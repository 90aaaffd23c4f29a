"""Find the YAML files, read them with positions, and merge them as netplan does.

Discovery and merge follow netplan-generate(8), "Handling multiple files":
a file in a later directory shadows (completely replaces) the file of the
same name in an earlier one (/run/bondd.d over /etc/bondd.d); the files
left are then read in lexical order of their names, whatever their
directory, later ones amending earlier ones (see `nodes.merge`).

Only the safe loader's parser and composer are used (libyaml's
`CSafeLoader` when present, else `yaml.SafeLoader`), never its constructor:
netplan reads every scalar as text and types it by key, so does bondd
(`52:54:00:12:34:56` is a MAC, not a YAML 1.1 base-60 integer; `0x64` and
`9_000` are not numbers). Tags are ignored and `<<` is an ordinary key, as in
netplan. A key repeated in one mapping is processed again, as netplan does:
mappings merge, a scalar takes the last value. Only the first document of a
file is read (netplan's libyaml loads one); a second one gets a warning.
Any problem reading a file (unreadable, not UTF-8, YAML syntax, recursive
aliases) becomes a `Diagnostic` at the right position, never an exception.
The only exception raised is `ConfigDirMissingError` for a directory the
user named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bondd.config import limits
from bondd.config.digest import FilesDigest
from bondd.config.nodes import YEntry, YMap, YNode, YScalar, YSeq, merge
from bondd.errors import ConfigDirMissingError
from bondd.model import Diagnostic, Severity, SourcePos

DEFAULT_DIRS: tuple[Path, ...] = (Path("/etc/bondd.d"), Path("/run/bondd.d"))

# A billion-laughs document expands aliases exponentially; refuse it early.
MAX_EXPANDED_NODES = 200_000


# libyaml's parser and composer: about ten times faster than the pure-Python
# ones, which a 500-bond configuration needs. Without libyaml, SafeLoader.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class MarkedLoader(limits.LimitedComposer, SAFE_LOADER):  # type: ignore[valid-type,misc]
    """The safe loader, building position-carrying `YNode` trees instead of Python objects.

    Composed by `limits.LimitedComposer` (bounded depth, nodes, aliases, merges).
    """

    def __init__(self, text: str, file: str) -> None:
        SAFE_LOADER.__init__(self, text)
        self.init_limits()
        self.file = file
        self._converted: dict[int, YNode] = {}
        self._sizes: dict[int, int] = {}
        self._in_progress: set[int] = set()
        self.diagnostics: list[Diagnostic] = []

    def pos(self, mark: yaml.Mark | None) -> SourcePos:
        if mark is None:
            return SourcePos(self.file, 1, 1)
        return SourcePos(self.file, mark.line + 1, mark.column + 1)

    def to_ynode(self, node: yaml.Node) -> YNode:
        """Convert a composed node, sharing the result for aliased nodes."""
        key = id(node)
        if key in self._converted:
            return self._converted[key]
        if key in self._in_progress:
            raise _RefusedError(
                "a YAML alias refers to itself", node.start_mark, "expand the alias by hand"
            )
        self._in_progress.add(key)
        try:
            result = self._convert(node)
        finally:
            self._in_progress.discard(key)
        self._converted[key] = result
        return result

    def _convert(self, node: yaml.Node) -> YNode:
        pos = self.pos(node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            limits.check_scalar(node)
            return YScalar(str(node.value), pos)
        if isinstance(node, yaml.SequenceNode):
            seq = YSeq([self.to_ynode(child) for child in node.value], pos)
            self._count(node, sum(self._sizes.get(id(c), 1) for c in node.value))
            return seq
        if isinstance(node, yaml.MappingNode):
            entries: dict[str, YEntry] = {}
            for key_node, value_node in node.value:
                key_pos = self.pos(key_node.start_mark)
                if not isinstance(key_node, yaml.ScalarNode):
                    self.diagnostics.append(
                        Diagnostic(
                            Severity.ERROR,
                            "a mapping key must be a plain name",
                            key_pos,
                            "write the key as a string",
                        )
                    )
                    continue
                name = str(key_node.value)
                value = self.to_ynode(value_node)
                if name in entries:
                    # netplan handles the key again: blocks merge, the last scalar wins.
                    old = entries[name].value
                    if isinstance(old, YScalar) != isinstance(value, YScalar):
                        self.diagnostics.append(
                            Diagnostic(
                                Severity.ERROR,
                                f"`{name}` is given again as {_shape(value)}; at line"
                                f" {entries[name].key_pos.line} it is {_shape(old)}",
                                key_pos,
                                "netplan reads both, and one of them has the wrong type: keep one",
                            )
                        )
                    value = merge(old, value)
                entries[name] = YEntry(key_pos, value)
            self._count(
                node, sum(self._sizes.get(id(v), 1) for _, v in node.value) + len(node.value)
            )
            return YMap(entries, pos)
        raise _RefusedError("unsupported YAML node", node.start_mark)  # pragma: no cover

    def _count(self, node: yaml.Node, children: int) -> None:
        size = 1 + children
        self._sizes[id(node)] = size
        if size > MAX_EXPANDED_NODES:
            raise _RefusedError(
                f"the document expands to more than {MAX_EXPANDED_NODES} values through aliases",
                node.start_mark,
                "expand the aliases by hand",
            )


def _shape(node: YNode) -> str:
    return (
        "a mapping" if isinstance(node, YMap) else "a list" if isinstance(node, YSeq) else "a value"
    )


class _RefusedError(Exception):
    def __init__(self, message: str, mark: yaml.Mark | None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark
        self.hint = hint


@dataclass(frozen=True)
class LoadedFiles:
    """The merged document (None when no file had content), files in merge order, findings."""

    tree: YNode | None
    files: tuple[Path, ...]
    diagnostics: tuple[Diagnostic, ...]
    digest: str = ""  # of exactly the bytes that were parsed (see `load`)


def unread_reason(name: str) -> str | None:
    """Why `discover` would never read a file of this name (None: it would).

    `bondctl apply FILE` and the daemon refuse to stage such a name: it would
    be installed, reported committed, and then ignored by the next read.
    """
    if not name.endswith(".yaml") or name == ".yaml":
        return "bondd reads only files whose names end in `.yaml`"
    if name.startswith("."):
        return "bondd skips files whose names start with `.`"
    if "/" in name or "\0" in name:
        return "a file name may not hold `/` or NUL"
    return None


def discover(
    dirs: Sequence[Path], *, explicit: bool, staged: Mapping[Path, bytes] | None = None
) -> list[Path]:
    """The files to read, in merge order, after shadowing.

    `explicit`: the directories were named by the user, so a missing one is an
    error (ConfigDirMissingError); the default directories may be absent.
    `staged`: files about to be installed (`bondctl apply FILE`), read as if
    they were already in their directory.
    """
    chosen: dict[str, Path] = {}
    for directory in dirs:
        if not directory.is_dir():
            if explicit:
                raise ConfigDirMissingError(
                    f"configuration directory {directory} does not exist",
                    "create it or fix the --config-dir argument",
                )
            continue
        for path in directory.glob("*.yaml"):
            # Keep in step with `unread_reason`. Dotfiles are editor and
            # ConfigMap leftovers. Anything else named *.yaml is read, so a
            # dangling link, FIFO or directory is an error that keeps the
            # running state, never a file silently dropped.
            if path.name.startswith("."):
                continue
            chosen[path.name] = path
        for path in staged or {}:
            if path.parent == directory:
                chosen[path.name] = path
    return [chosen[name] for name in sorted(chosen)]


def read_file(path: Path, data: bytes | None = None) -> tuple[YNode | None, list[Diagnostic]]:
    """One file -> its tree (None if empty or unusable) and what went wrong.

    `data`: the file's content when it is staged rather than on disk.
    """
    name = str(path)
    try:
        if data is None:
            data = limits.read_bounded(path)
        limits.check_size(data)
    except limits.FileRefusedError as exc:
        return None, [Diagnostic(Severity.ERROR, exc.message, SourcePos(name, 1, 1), exc.hint)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [
            Diagnostic(
                Severity.ERROR,
                f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                _byte_pos(name, data, exc.start),
                "save the file as UTF-8",
            )
        ]
    return parse_text(text, name)


def parse_text(text: str, file: str) -> tuple[YNode | None, list[Diagnostic]]:
    """YAML text -> tree and diagnostics; `file` is used for positions."""
    try:
        # The reader checks for forbidden characters already while constructing.
        loader = MarkedLoader(text, file)
    except yaml.YAMLError as exc:
        return None, [_reader_error(file, text, exc)]
    try:
        node = loader.get_node() if loader.check_node() else None
        if node is None:
            return None, []
        tree = loader.to_ynode(node)
        if _more_documents(loader):
            loader.diagnostics.append(
                Diagnostic(
                    Severity.WARNING,
                    "only the first YAML document of this file is read",
                    tree.pos,
                    "netplan reads only the first document too; remove the others or split the"
                    " file",
                )
            )
    except (_RefusedError, limits.LimitExceededError) as exc:
        return None, [Diagnostic(Severity.ERROR, exc.message, loader.pos(exc.mark), exc.hint)]
    except yaml.MarkedYAMLError as exc:
        return None, [_yaml_error(loader, exc)]
    except yaml.YAMLError as exc:
        return None, [_reader_error(file, text, exc)]
    except RecursionError:
        return None, [
            Diagnostic(Severity.ERROR, "the document is nested too deeply", SourcePos(file, 1, 1))
        ]
    finally:
        loader.dispose()
    return tree, loader.diagnostics


def _more_documents(loader: MarkedLoader) -> bool:
    try:
        return bool(loader.check_node())
    except yaml.YAMLError:
        # What follows the first document is never read, so its errors do not count.
        return True


def _yaml_error(loader: MarkedLoader, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if "expected a single document" in (exc.context or ""):
        return Diagnostic(
            Severity.ERROR,
            "a file may hold only one YAML document",
            loader.pos(mark),
            "remove the second `---` or split the file",
        )
    context = f" {exc.context}" if exc.context and exc.problem else ""
    return Diagnostic(
        Severity.ERROR,
        f"YAML syntax error: {problem}{context}",
        loader.pos(mark),
        "fix the YAML syntax (indentation, quoting, colons)",
    )


def _reader_error(file: str, text: str, exc: yaml.YAMLError) -> Diagnostic:
    position = getattr(exc, "position", 0)
    if not isinstance(position, int):
        position = 0
    before = text[:position]
    line = before.count("\n") + 1
    column = position - (before.rfind("\n") + 1) + 1
    reason = getattr(exc, "reason", None) or str(exc)
    return Diagnostic(
        Severity.ERROR,
        f"YAML cannot read this file: {reason}",
        SourcePos(file, line, column),
        "remove control characters from the file",
    )


def _byte_pos(file: str, data: bytes, offset: int) -> SourcePos:
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return SourcePos(file, line, column)


def load(
    dirs: Sequence[Path] = DEFAULT_DIRS,
    *,
    explicit: bool = False,
    staged: Mapping[Path, bytes] | None = None,
) -> LoadedFiles:
    """Discover, read and merge every file. A file with errors takes no part in the merge."""
    staged = staged or {}
    files = discover(dirs, explicit=explicit, staged=staged)
    tree: YNode | None = None
    diagnostics: list[Diagnostic] = []
    # The proposal's identity is the hash of the bytes parsed here, never of a
    # second read: a write in between must not pass the old content under the
    # new file's hash.
    digest = FilesDigest()
    budget = limits.MAX_TOTAL_BYTES
    budget_nodes = limits.MAX_TOTAL_NODES
    if len(files) > limits.MAX_FILES:
        diagnostics.append(_too_many(files))
        files = files[: limits.MAX_FILES]
    for path in files:
        data, refused = _take(path, staged, budget)
        budget -= len(data or b"")
        digest.add(path, data or b"")
        if refused is not None:
            diagnostics.append(refused)
            continue
        with limits.node_budget(budget_nodes):  # shared by every file of the load
            node, found = read_file(path, data)
            budget_nodes = limits.nodes_left()
        diagnostics.extend(found)
        if node is None or any(d.severity is Severity.ERROR for d in found):
            continue
        if not isinstance(node, YMap):
            diagnostics.append(
                Diagnostic(
                    Severity.ERROR,
                    "the file must hold a mapping with `network:` or `bondd:` (expected mapping)",
                    node.pos,
                    "start the file with `network:`",
                )
            )
            continue
        tree = node if tree is None else merge(tree, node)
    return LoadedFiles(tree, tuple(files), tuple(diagnostics), digest.hexdigest())


def _take(
    path: Path, staged: Mapping[Path, bytes], budget: int
) -> tuple[bytes | None, Diagnostic | None]:
    """One file's bytes within what is left of the total budget, or why not."""
    try:
        data = staged.get(path)
        if data is None:
            data = limits.read_bounded(path, budget)
        limits.check_size(data, budget)
    except limits.FileRefusedError as exc:
        return None, Diagnostic(Severity.ERROR, exc.message, SourcePos(str(path), 1, 1), exc.hint)
    return data, None


def _too_many(files: list[Path]) -> Diagnostic:
    return Diagnostic(
        Severity.ERROR,
        f"{len(files)} configuration files; bondd reads at most {limits.MAX_FILES}",
        SourcePos(str(files[limits.MAX_FILES]), 1, 1),
        "merge files; the files from here on were not read",
    )
