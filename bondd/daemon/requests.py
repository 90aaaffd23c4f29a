"""Control requests: bytes -> a checked request, or the error to send back.

Whoever can open the socket can send anything, so a request is checked
completely before the loop acts on it: size (a small limit for peers that
are not root, who may only ask for status), nesting depth (scanned on the
raw bytes before `json.loads`, whose recursion is the crash), UTF-8 and
JSON, then the fields of its command: types, names by the kernel's rules,
time spans in their documented ranges. Anything else is an error reply,
never an exception in the loop. Pure.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bondd import durations
from bondd.config.limits import MAX_FILE_BYTES, MAX_TOTAL_BYTES
from bondd.config.loader import unread_reason
from bondd.config.schema import ifname_problem

MAX_REQUEST = MAX_TOTAL_BYTES + (64 << 10)  # root's apply carries file contents
MAX_REQUEST_UNPRIVILEGED = 4 << 10  # a status request is a few bytes
MAX_DEPTH = 8  # {"files": [{"name": ...}]} is 3
MAX_FILES = 64
MAX_DIRS = 16
REPORT_FORMS = ("text", "colour", "json")
CHANGING = frozenset({"apply", "confirm", "rollback", "hold", "release", "reload"})
# A plan parses files the peer sends, as root: root's, like a change.
ROOT_ONLY = CHANGING | {"plan"}

_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class RequestError(ValueError):
    """A request that cannot be served; the message goes back to the client."""

    def __init__(self, message: str, exit_code: int = os.EX_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@dataclass(frozen=True)
class Request:
    cmd: str
    fields: dict[str, Any] = field(default_factory=dict)


def max_size(uid: int) -> int:
    return MAX_REQUEST if uid == 0 else MAX_REQUEST_UNPRIVILEGED


def depth(data: bytes) -> int:
    """The deepest nesting of JSON arrays and objects in `data`, strings skipped."""
    level = deepest = 0
    for match in _TOKEN.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            level += 1
            deepest = max(deepest, level)
        elif token in (b"]", b"}"):
            level -= 1
    return deepest


def parse(data: bytes, uid: int) -> Request:
    """One request line -> Request, or RequestError saying what is wrong."""
    if len(data) > max_size(uid):
        raise RequestError(f"request larger than {max_size(uid)} bytes")
    if depth(data) > MAX_DEPTH:
        raise RequestError(f"request nested more than {MAX_DEPTH} levels deep")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RequestError("malformed request: send one JSON object line") from None
    if not isinstance(raw, dict):
        raise RequestError("malformed request: send one JSON object line")
    cmd = raw.get("cmd")
    if not isinstance(cmd, str) or cmd not in _CHECKS:
        shown = cmd if isinstance(cmd, str) and cmd.isprintable() else "?"
        raise RequestError(f"unknown command {shown[:40]!r}")
    if cmd in ROOT_ONLY and uid != 0:
        raise RequestError(f"`{cmd}` needs root", exit_code=os.EX_NOPERM)
    unknown = sorted(set(raw) - {"cmd"} - set(_FIELDS[cmd]))
    if unknown:
        raise RequestError(f"`{cmd}` takes no field {str(unknown[0])[:40]!r}")
    return Request(cmd, _CHECKS[cmd](raw))


def _text(raw: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 64 or not value.isprintable():
        raise RequestError(f"`{key}` must be a short printable string")
    return value


def _bond(raw: dict[str, Any]) -> str:
    bond = raw.get("bond")
    if not isinstance(bond, str) or ifname_problem(bond):
        raise RequestError("`bond` must name an interface")
    return bond


def _span(raw: dict[str, Any], key: str, span: durations.Span, default: float) -> float:
    if key not in raw:
        return default
    try:
        return durations.seconds(raw[key], span)
    except durations.SpanError as exc:
        raise RequestError(f"`{key}`: {exc}") from None


def _files(raw: dict[str, Any]) -> list[tuple[str, str]]:
    items = raw.get("files", [])
    if not isinstance(items, list) or len(items) > MAX_FILES:
        raise RequestError(f"`files` must be a list of at most {MAX_FILES} files")
    out = []
    for item in items:
        if not isinstance(item, dict) or set(item) != {"name", "content"}:
            raise RequestError("each of `files` must be {name, content}")
        name, content = item["name"], item["content"]
        if not isinstance(name, str) or not isinstance(content, str):
            raise RequestError("a file's name and content must be strings")
        if reason := unread_reason(name):
            raise RequestError(f"will not install {name[:60]!r}: {reason}", exit_code=os.EX_DATAERR)
        if not name.isprintable():
            raise RequestError("a file name must be printable", exit_code=os.EX_DATAERR)
        if len(content.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
            raise RequestError(
                f"{name} is larger than {MAX_FILE_BYTES} bytes", exit_code=os.EX_DATAERR
            )
        out.append((name, content))
    return out


def _bool(raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise RequestError(f"`{key}` must be true or false")
    return value


def _status(raw: dict[str, Any]) -> dict[str, Any]:
    """A bare status is the daemon's own line; with `report`, the whole `bondctl status`."""
    if "report" not in raw:
        return {}
    report = raw["report"]
    if report not in REPORT_FORMS:
        raise RequestError(f"`report` must be one of {', '.join(REPORT_FORMS)}")
    fields = {"report": report, "bond": _bond(raw) if "bond" in raw else None}
    return fields | _directories(raw)


def _directories(raw: dict[str, Any]) -> dict[str, Any]:
    """The directories the client means: the daemon answers only for its own."""
    fields: dict[str, Any] = {}
    dirs = raw.get("config_dirs")
    if dirs is not None:
        if not isinstance(dirs, list) or not 0 < len(dirs) <= MAX_DIRS:
            raise RequestError(f"`config_dirs` must be a list of 1 to {MAX_DIRS} paths")
        fields["config_dirs"] = [_path(d, "config_dirs") for d in dirs]
    if "state_dir" in raw:
        fields["state_dir"] = _path(raw["state_dir"], "state_dir")
    return fields


def _path(value: object, key: str) -> str:
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 1024:
        raise RequestError(f"`{key}` must hold absolute paths")
    if not value.isprintable():
        raise RequestError(f"`{key}` must hold printable paths")
    return value


_FIELDS: dict[str, tuple[str, ...]] = {
    "status": ("report", "bond", "config_dirs", "state_dir"),
    "plan": ("files", "config_dirs", "state_dir"),
    "apply": ("files", "confirm_timeout", "probes", "expected"),
    "txn": ("txn", "proposal"),
    "confirm": ("txn",),
    "rollback": ("txn",),
    "hold": ("bond", "seconds"),
    "release": ("bond",),
}

_CHECKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "status": _status,
    "plan": lambda raw: {"files": _files(raw), **_directories(raw)},
    "apply": lambda raw: {
        "files": _files(raw),
        "confirm_timeout": _span(raw, "confirm_timeout", durations.CONFIRM_TIMEOUT, 0.0),
        "probes": _bool(raw, "probes", True),
        "expected": _text(raw, "expected"),
    },
    "txn": lambda raw: {
        "txn": _text(raw, "txn", required=True),
        "proposal": _text(raw, "proposal") or "",
    },
    "confirm": lambda raw: {"txn": _text(raw, "txn")},
    "rollback": lambda raw: {"txn": _text(raw, "txn")},
    "hold": lambda raw: {
        "bond": _bond(raw),
        "seconds": _span(raw, "seconds", durations.HOLD, 60.0),
    },
    "release": lambda raw: {"bond": _bond(raw)},
}
