"""Hostile control requests: each must get an error reply and leave the daemon serving.

(bytes sent, uid it is sent as: 0 root, else a status-group member, part of the
error expected). Several once ended the daemon (RecursionError, KeyError,
ValueError, UnicodeDecodeError, OverflowError in `time.localtime`).
"""

from __future__ import annotations

import json


def _line(value: object) -> bytes:
    return json.dumps(value).encode() + b"\n"


ROOT, MEMBER = 0, 1000

CASES: list[tuple[str, bytes, int, str]] = [
    ("deep-brackets", b"[" * 200_000 + b"\n", ROOT, "nested more than"),
    ("deep-brackets-member", b"[" * 3000 + b"\n", MEMBER, "nested more than"),
    (
        "deep-in-string-ok-then-deep",
        b'{"cmd": "status", "x": "[[[["' + b"[" * 50 + b"}\n",
        ROOT,
        "nested",
    ),
    (
        "huge-member",
        b'{"cmd": "status", "pad": "' + b"x" * 100_000 + b'"}\n',
        MEMBER,
        "larger than",
    ),
    ("huge-root", b'{"cmd": "status", "pad": "' + b"x" * (9 << 20) + b'"}\n', ROOT, "larger than"),
    ("not-json", b"hello\n", ROOT, "malformed"),
    ("not-utf8", b'{"cmd": "st\xffatus"}\n', ROOT, "malformed"),
    ("not-object", b"[1, 2]\n", ROOT, "malformed"),
    ("empty", b"\n", ROOT, "malformed"),
    ("no-cmd", _line({}), ROOT, "unknown command"),
    ("cmd-not-string", _line({"cmd": ["status"]}), ROOT, "unknown command"),
    ("unknown-cmd", _line({"cmd": "format-disk"}), ROOT, "unknown command"),
    ("cmd-control-chars", _line({"cmd": "x\n\x1b[2J"}), ROOT, "unknown command"),
    ("extra-field", _line({"cmd": "status", "evil": 1}), ROOT, "takes no field"),
    ("apply-as-member", _line({"cmd": "apply"}), MEMBER, "needs root"),
    ("rollback-as-member", _line({"cmd": "rollback"}), MEMBER, "needs root"),
    ("hold-without-bond", _line({"cmd": "hold"}), ROOT, "`bond` must name"),
    ("hold-bond-dotdot", _line({"cmd": "hold", "bond": ".."}), ROOT, "`bond` must name"),
    ("hold-bond-nul", _line({"cmd": "hold", "bond": "bond\x00"}), ROOT, "`bond` must name"),
    ("hold-bond-number", _line({"cmd": "hold", "bond": 7}), ROOT, "`bond` must name"),
    (
        "hold-seconds-inf",
        b'{"cmd": "hold", "bond": "bond0", "seconds": Infinity}\n',
        ROOT,
        "hold must be",
    ),
    (
        "hold-seconds-nan",
        b'{"cmd": "hold", "bond": "bond0", "seconds": NaN}\n',
        ROOT,
        "hold must be",
    ),
    (
        "hold-seconds-text",
        _line({"cmd": "hold", "bond": "bond0", "seconds": "soon"}),
        ROOT,
        "hold must be",
    ),
    ("release-without-bond", _line({"cmd": "release"}), ROOT, "`bond` must name"),
    ("files-string", _line({"cmd": "apply", "files": "abc"}), ROOT, "`files` must be a list"),
    ("files-item-string", _line({"cmd": "apply", "files": ["abc"]}), ROOT, "{name, content}"),
    (
        "files-no-content",
        _line({"cmd": "apply", "files": [{"name": "a.yaml"}]}),
        ROOT,
        "{name, content}",
    ),
    (
        "file-name-dotdot",
        _line({"cmd": "apply", "files": [{"name": "..", "content": ""}]}),
        ROOT,
        "will not install",
    ),
    (
        "file-name-yml",
        _line({"cmd": "apply", "files": [{"name": "bond0.yml", "content": ""}]}),
        ROOT,
        "will not install",
    ),
    (
        "file-name-slash",
        _line({"cmd": "apply", "files": [{"name": "../../etc/x.yaml", "content": ""}]}),
        ROOT,
        "will not install",
    ),
    (
        "file-name-hidden",
        _line({"cmd": "apply", "files": [{"name": ".x.yaml", "content": ""}]}),
        ROOT,
        "will not install",
    ),
    (
        "file-content-number",
        _line({"cmd": "apply", "files": [{"name": "a.yaml", "content": 5}]}),
        ROOT,
        "must be strings",
    ),
    (
        "file-too-big",
        _line({"cmd": "apply", "files": [{"name": "a.yaml", "content": "#" * (1 << 21)}]}),
        ROOT,
        "larger than",
    ),
    (
        "confirm-timeout-inf",
        b'{"cmd": "apply", "files": [], "confirm_timeout": Infinity}\n',
        ROOT,
        "confirm timeout must be",
    ),
    (
        "confirm-timeout-nan",
        b'{"cmd": "apply", "files": [], "confirm_timeout": NaN}\n',
        ROOT,
        "confirm timeout must be",
    ),
    (
        "confirm-timeout-negative",
        _line({"cmd": "apply", "confirm_timeout": -5}),
        ROOT,
        "confirm timeout must be",
    ),
    (
        "confirm-timeout-huge",
        _line({"cmd": "apply", "confirm_timeout": 1e300}),
        ROOT,
        "confirm timeout must be",
    ),
    (
        "confirm-timeout-text",
        _line({"cmd": "apply", "confirm_timeout": "abc"}),
        ROOT,
        "confirm timeout must be",
    ),
    ("probes-not-bool", _line({"cmd": "apply", "probes": "no"}), ROOT, "`probes` must be"),
    ("txn-not-string", _line({"cmd": "txn", "txn": {"a": 1}}), ROOT, "`txn` must be"),
    ("txn-missing", _line({"cmd": "txn"}), ROOT, "`txn` must be"),
    ("confirm-txn-list", _line({"cmd": "confirm", "txn": [1]}), ROOT, "`txn` must be"),
]
