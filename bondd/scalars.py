"""Scalar text typed the way netplan 0.106 types it, key by key.

The loader hands every scalar over as the text written, quoted or not; the
key decides what the text means. These rules are netplan's, so a file
netplan accepts reads the same in bondd: booleans are true/false, yes/no,
on/off, y/n in any case; unsigned numbers are base-10 digits as C's
strtoull reads them (leading blanks and a sign allowed, nothing after the
digits, an empty value is 0, at most 2**32-1); addresses are what
inet_pton takes (no zone index, no prefix). Pure.
"""

from __future__ import annotations

import ipaddress
import re

UINT_MAX = 2**32 - 1

_TRUE = frozenset({"true", "on", "yes", "y"})
_FALSE = frozenset({"false", "off", "no", "n"})
_UINT = re.compile(r"[ \t\n\v\f\r]*([+-]?)(\d*)(.*)", re.DOTALL)
_MAC = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}((:[0-9A-Fa-f]{2}){14})?")
_ID = re.compile(r"[!-~]+")  # POSIX [[:alnum:][:punct:]]+ in the C locale
_GLOB = re.compile(r"[*\[\]?]")


def boolean(text: str) -> bool | None:
    """netplan's boolean words, any case; None when the text is none of them."""
    word = text.lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def uint(text: str) -> int | None:
    """An unsigned int as netplan reads it (g_ascii_strtoull, base 10), or None."""
    match = _UINT.fullmatch(text)
    if match is None:  # pragma: no cover - the pattern matches any text
        return None
    sign, digits, rest = match.groups()
    if not digits:
        # strtoull read nothing: the text is accepted only if it is empty.
        return 0 if text == "" else None
    if rest:
        return None
    value = int(digits)
    if sign == "-" and value:
        return None  # negation wraps around to a huge number
    return value if value <= UINT_MAX else None


def is_ip4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def is_ip6(text: str) -> bool:
    if "%" in text:
        return False  # inet_pton takes no zone index
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def is_ip(text: str) -> bool:
    return is_ip4(text) or is_ip6(text)


def is_mac(text: str) -> bool:
    """6 octets, or the 20 of an InfiniBand hardware address."""
    return _MAC.fullmatch(text) is not None


def id_problem(text: str) -> str | None:
    """Why netplan refuses `text` as a definition id or interface name, or None."""
    if _ID.fullmatch(text) is None:
        return f"invalid name '{text}'"
    return None


def has_glob(text: str) -> bool:
    return _GLOB.search(text) is not None
