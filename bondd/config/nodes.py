"""YAML trees that remember where every value came from.

PyYAML's constructed objects lose their marks, but every bondd error must
name file, line and column, also after files are merged. So the loader turns
the composed document into these small nodes: each mapping, sequence and
scalar carries its `SourcePos`, each mapping key its own. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from bondd.model import SourcePos


@dataclass(eq=False)
class YScalar:
    value: str  # always the text as written: netplan types scalars by key, not by YAML
    pos: SourcePos
    # Values this one replaced (a repeated key, a later file): netplan checked them too.
    earlier: tuple[YScalar, ...] = ()


@dataclass(eq=False)
class YSeq:
    items: list[YNode]
    pos: SourcePos


@dataclass(eq=False)
class YEntry:
    key_pos: SourcePos
    value: YNode


@dataclass(eq=False)
class YMap:
    entries: dict[str, YEntry]
    pos: SourcePos


YNode = YScalar | YSeq | YMap


def plain(node: YNode) -> object:
    """The node's value without positions (for equality and debugging)."""
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [plain(i) for i in node.items]
    return {k: plain(e.value) for k, e in node.entries.items()}


Path = tuple[str | int, ...]


def shadowed(node: YNode, path: Path = ()) -> list[tuple[Path, YScalar]]:
    """Every replaced scalar whose text differs from the value that replaced it."""
    if isinstance(node, YScalar):
        return [(path, old) for old in node.earlier if old.value != node.value]
    if isinstance(node, YSeq):
        return [found for i, item in enumerate(node.items) for found in shadowed(item, (*path, i))]
    return [found for k, e in node.entries.items() for found in shadowed(e.value, (*path, k))]


def replaced(node: YNode, path: Path, value: YNode) -> YNode:
    """A copy of `node` with the node at `path` swapped for `value` (inputs untouched)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, YMap) and isinstance(head, str) and head in node.entries:
        entries = dict(node.entries)
        entry = entries[head]
        entries[head] = YEntry(entry.key_pos, replaced(entry.value, rest, value))
        return YMap(entries, node.pos)
    if isinstance(node, YSeq) and isinstance(head, int) and head < len(node.items):
        items = list(node.items)
        items[head] = replaced(items[head], rest, value)
        return YSeq(items, node.pos)
    return node


def merge(old: YNode, new: YNode) -> YNode:
    """Merge a later file's node into an earlier one, netplan-generate(8) style.

    Mappings merge key by key, recursively; scalars are replaced; sequences
    are concatenated, the later file's items appended. bondd drops an
    appended item equal to one already present, so a later file that
    restates a list (`interfaces: [eno1, eno2]`) does not double it.
    Inputs are never modified: alias-shared nodes stay intact.
    """
    if isinstance(old, YMap) and isinstance(new, YMap):
        entries = dict(old.entries)
        for key, entry in new.entries.items():
            if key in entries:
                # The first definition's position: netplan resolves references by file order.
                entries[key] = YEntry(entries[key].key_pos, merge(entries[key].value, entry.value))
            else:
                entries[key] = entry
        return YMap(entries, old.pos)
    if isinstance(old, YScalar) and isinstance(new, YScalar):
        return YScalar(new.value, new.pos, (*old.earlier, old, *new.earlier))
    if isinstance(old, YSeq) and isinstance(new, YSeq):
        seen = [plain(i) for i in old.items]
        items = list(old.items)
        for item in new.items:
            value = plain(item)
            if value not in seen:
                seen.append(value)
                items.append(item)
        return YSeq(items, old.pos)
    return new
