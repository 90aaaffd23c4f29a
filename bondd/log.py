"""Logging to journald with structured fields, or to stderr when not under systemd.

Under systemd (JOURNAL_STREAM set, or the journal socket present and the
daemon started by systemd) records go over journald's native protocol with
fields such as BONDD_EVENT=applied, BONDD_BOND=bond0, BONDD_TXN=...; an
admin then asks `journalctl -u bondd BONDD_EVENT=rolled_back`. Elsewhere
they are plain lines on stderr.

A record is one datagram through bondd.datagram (a send timeout: a stalled
journal costs a dropped record, never a stalled daemon), encoded here by
`encode`, the native protocol's two field forms.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from bondd.datagram import SEND_TIMEOUT, DatagramSender
from bondd.text import one_line

JOURNAL_SOCKET = "/run/systemd/journal/socket"
__all__ = ["SEND_TIMEOUT", "JournalHandler", "encode", "event", "journal_only", "setup"]
LOGGER = "bondd"
_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


def _field(name: str, value: object) -> bytes:
    text = str(value).encode("utf-8", "replace")
    key = name.encode()
    if b"\n" in text:
        # The native protocol's binary form: name, newline, 64-bit length, data.
        return key + b"\n" + len(text).to_bytes(8, "little") + text + b"\n"
    return key + b"=" + text + b"\n"


def encode(fields: dict[str, object]) -> bytes:
    """One journal record as the native protocol's datagram."""
    return b"".join(_field(k, v) for k, v in fields.items())


class JournalHandler(logging.Handler):
    def __init__(self, path: str = JOURNAL_SOCKET) -> None:
        super().__init__()
        self.path = path
        # A stalled journal costs a dropped record, never a stalled daemon: the
        # loop that logs is the loop that keeps the bonds converged.
        self.sender = DatagramSender(path, SEND_TIMEOUT)

    def emit(self, record: logging.LogRecord) -> None:
        fields: dict[str, object] = {
            "MESSAGE": one_line(record.getMessage()),
            "PRIORITY": _PRIORITY.get(record.levelno, 6),
            "SYSLOG_IDENTIFIER": "bondd",
            "CODE_FILE": record.pathname,
            "CODE_LINE": record.lineno,
            "CODE_FUNC": record.funcName,
        }
        for key, value in getattr(record, "bondd", {}).items():
            if value is not None:
                fields[f"BONDD_{key.upper()}"] = value
        try:
            self.sender.send_or_raise(encode(fields))
        except OSError:
            self.handleError(record)  # logging's own report of a dropped record

    def close(self) -> None:
        self.sender.close()
        super().close()


class _Plain(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extra = getattr(record, "bondd", {})
        tags = " ".join(f"{k}={v}" for k, v in extra.items() if v is not None)
        # A config string must not start a forged line of its own.
        return one_line(f"{base} [{tags}]" if tags else base)


def setup(debug: bool = False) -> logging.Logger:
    logger = logging.getLogger(LOGGER)
    logger.handlers.clear()
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    logger.propagate = False
    path = os.environ.get("BONDD_JOURNAL_SOCKET", JOURNAL_SOCKET)
    if os.environ.get("JOURNAL_STREAM") or os.environ.get("BONDD_JOURNAL_SOCKET"):
        logger.addHandler(JournalHandler(path))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_Plain("bondd: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
    return logger


def journal_only() -> logging.Logger:
    """For bondctl: events go to the journal where there is one; its own output says the rest."""
    logger = logging.getLogger(LOGGER + ".ctl")
    logger.handlers.clear()
    logger.setLevel(logging.INFO)
    logger.propagate = False
    path = os.environ.get("BONDD_JOURNAL_SOCKET", JOURNAL_SOCKET)
    if os.path.exists(path):
        logger.addHandler(JournalHandler(path))
    else:
        logger.addHandler(logging.NullHandler())
    return logger


def event(
    logger: logging.Logger, name: str, message: str, level: int = logging.INFO, **fields: Any
) -> None:
    """One structured event: `name` becomes BONDD_EVENT, each field BONDD_<FIELD>."""
    # stacklevel: CODE_FILE/CODE_LINE name the caller, not this helper.
    logger.log(level, message, extra={"bondd": {"event": name, **fields}}, stacklevel=2)
