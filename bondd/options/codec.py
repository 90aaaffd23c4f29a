"""Conversions between an option value's three spellings.

YAML (what a person writes: `100ms`, `true`, `layer3+4`), canonical (what
the kernel prints in sysfs and what `BondSpec` holds: ints, the enum word,
tuples of addresses) and netlink (numbers). Each conversion reads the
option's row (bondd/options/row.py) and nothing else. Pure module: no I/O.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from bondd import scalars
from bondd.model import OptionValue
from bondd.options.row import (
    INT_MAX,
    BondOption,
    Kind,
    NotAppliedError,
    OptionValueError,
    Unit,
)

NETPLAN_MODES = frozenset(
    {
        "balance-rr",
        "active-backup",
        "balance-xor",
        "broadcast",
        "802.3ad",
        "balance-tlb",
        "balance-alb",
        "balance-tcp",
        "balance-slb",
    }
)


# --- YAML -> canonical -------------------------------------------------------

_DURATION_UNITS: Mapping[str, float] = MappingProxyType(
    {
        "us": 0.001,
        "usec": 0.001,
        "ms": 1,
        "msec": 1,
        "s": 1000,
        "sec": 1000,
        "second": 1000,
        "seconds": 1000,
        "m": 60_000,
        "min": 60_000,
        "minute": 60_000,
        "minutes": 60_000,
        "h": 3_600_000,
        "hr": 3_600_000,
        "hour": 3_600_000,
        "hours": 3_600_000,
    }
)
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)", re.IGNORECASE)


def parse_duration(raw: object, unit: Unit) -> int:
    """A netplan/systemd time span -> whole `unit`s.

    netplan takes a bare number in the option's default unit (ms for the
    monitor intervals and delays, s for learn-packet-interval) or a string
    with suffixes such as "100ms", "1s", "1.5s", "1min 30s" (systemd.time(7)).
    """
    if isinstance(raw, bool) or raw is None:
        raise OptionValueError(f"expected a time span, got {_show(raw)}", _duration_hint(unit))
    if isinstance(raw, int):
        if raw < 0:
            raise OptionValueError(f"{raw} is negative", _duration_hint(unit))
        return raw
    if isinstance(raw, float) or not isinstance(raw, str) or not raw.strip():
        raise OptionValueError(f"expected a time span, got {_show(raw)}", _duration_hint(unit))
    text = raw.strip()
    pos = 0
    total_ms = 0.0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if m is None or m.end() == pos:
            raise OptionValueError(f"{raw!r} is not a time span", _duration_hint(unit))
        if len(m.group(1)) > _MAX_DIGITS:
            raise OptionValueError(f"{_clip(raw)} is far too large", _duration_hint(unit))
        number, suffix = float(m.group(1)), m.group(2).lower()
        if suffix == "":
            if pos != 0 or m.end() < len(text.rstrip()):
                raise OptionValueError(f"{raw!r} is not a time span", _duration_hint(unit))
            total_ms += number * (1000 if unit is Unit.S else 1)
        elif suffix in _DURATION_UNITS:
            total_ms += number * _DURATION_UNITS[suffix]
        else:
            raise OptionValueError(f"unknown time unit {suffix!r} in {raw!r}", _duration_hint(unit))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    scale = 1000 if unit is Unit.S else 1
    value = total_ms / scale
    if not math.isfinite(value) or value > INT_MAX:
        raise OptionValueError(f"{_clip(raw)} is far too large", _duration_hint(unit))
    if abs(value - round(value)) > 1e-9:
        raise OptionValueError(
            f"{raw!r} is not a whole number of {'seconds' if unit is Unit.S else 'milliseconds'}",
            _duration_hint(unit),
        )
    return round(value)


# More digits than any kernel value needs; float() and int() of longer text
# overflow (inf) or raise (Python's 4300-digit limit).
_MAX_DIGITS = 30


def _clip(raw: object) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."


def _duration_hint(unit: Unit) -> str:
    if unit is Unit.S:
        return 'write whole seconds, e.g. 1 or "1s"'
    return 'write milliseconds, e.g. 100 or "100ms" or "1s"'


def _show(raw: object) -> str:
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) >= 10**40:
        return "a number of more than 40 digits"
    if isinstance(raw, str) and len(raw) > 40:
        return _clip(raw)
    if raw is None:
        return "nothing"
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, list | tuple):
        return "a list"
    if isinstance(raw, dict):
        return "a mapping"
    return repr(raw)


def parse_yaml_value(option: BondOption, raw: object) -> OptionValue:
    """A value as written in YAML -> the kernel's canonical value, or OptionValueError."""
    key = option.yaml_key or option.kernel_name
    match option.kind:
        case Kind.INT:
            return _in_range(option, _parse_int(option, raw, key), key)
        case Kind.BOOL:
            return _parse_bool(option, raw, key)
        case Kind.ENUM:
            return _parse_enum(option, raw, key)
        case Kind.MAC:
            return parse_mac(raw, key)
        case Kind.IPV4_LIST | Kind.IPV6_LIST:
            return _parse_address_list(option, raw, key)
        case Kind.INTERFACE:
            if isinstance(raw, str) and raw:
                return raw
            raise OptionValueError(f"{key} must name a port of this bond, got {_show(raw)}")
    raise AssertionError(option.kind)  # pragma: no cover


def _parse_int(option: BondOption, raw: object, key: str) -> int:
    if option.unit is not Unit.NONE and option.netplan:
        # netplan takes any text here and leaves it to the renderer to parse.
        try:
            return parse_duration(raw, option.unit)
        except OptionValueError as exc:
            raise NotAppliedError(exc.message, exc.hint) from exc
    if option.unit is not Unit.NONE:
        return parse_duration(raw, option.unit)
    if option.netplan and isinstance(raw, str):
        number = scalars.uint(raw)
        if number is None:
            raise OptionValueError(
                f"invalid unsigned int value {raw!r} for {key}", _range_hint(option)
            )
        return number
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and re.fullmatch(rf"\s*-?\d{{1,{_MAX_DIGITS}}}\s*", raw):
        return int(raw)
    raise OptionValueError(f"{key} must be a whole number, got {_show(raw)}", _range_hint(option))


def _in_range(option: BondOption, value: int, key: str) -> int:
    if (option.minimum is not None and value < option.minimum) or (
        option.maximum is not None and value > option.maximum
    ):
        # netplan passes it through (the file stays valid); the kernel cannot take it.
        error = NotAppliedError if option.netplan else OptionValueError
        raise error(
            f"{key} must be between {option.minimum} and {option.maximum}, got {value}",
            _range_hint(option),
        )
    return value


def _parse_bool(option: BondOption, raw: object, key: str) -> int:
    if isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, str) and scalars.boolean(raw) is not None:
        return int(bool(scalars.boolean(raw)))
    if isinstance(raw, str) and raw.lower() in option.values:
        return option.values[raw.lower()]
    raise OptionValueError(f"{key} must be true or false, got {_show(raw)}")


def _range_hint(option: BondOption) -> str | None:
    if option.minimum is None or option.maximum is None:
        return None
    unit = {Unit.MS: " ms", Unit.S: " s", Unit.NONE: ""}[option.unit]
    return f"use a value from {option.minimum} to {option.maximum}{unit}"


def _parse_enum(option: BondOption, raw: object, key: str) -> str:
    choices = ", ".join(option.values)
    if not isinstance(raw, str):
        raise OptionValueError(f"{key} must be one of {choices}, got {_show(raw)}")
    if option.kernel_name == "mode" and raw not in NETPLAN_MODES:
        raise OptionValueError(f"unknown bond mode {raw!r}", f"use one of {choices}")
    word = raw.strip().lower()
    # People write the arp_validate words kebab-case, like every other YAML value.
    if word not in option.values and word.replace("-", "_") in option.values:
        word = word.replace("-", "_")
    if word in option.values:
        return word
    if option.kernel_name == "mode" and word in ("balance-tcp", "balance-slb"):
        raise OptionValueError(
            f"mode {raw} exists only for Open vSwitch bonds, which bondd does not manage",
            f"use one of {choices}",
        )
    if option.netplan:
        # netplan writes the word through unchecked; the kernel has no such value.
        raise NotAppliedError(
            f"{key} {raw!r} is not a value the kernel knows", f"use one of {choices}"
        )
    raise OptionValueError(f"{key} must be one of {choices}, got {raw!r}")


_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


def parse_mac(raw: object, key: str = "macaddress") -> str:
    """A MAC address -> lowercase colon form, or OptionValueError."""
    if isinstance(raw, str):
        mac = raw.strip().lower().replace("-", ":")
        if _MAC.fullmatch(mac):
            return mac
    raise OptionValueError(
        f"{key} must be a MAC address, got {_show(raw)}", "write it as XX:XX:XX:XX:XX:XX"
    )


def _parse_address_list(option: BondOption, raw: object, key: str) -> tuple[str, ...]:
    version = 4 if option.kind is Kind.IPV4_LIST else 6
    items: Iterable[object]
    if isinstance(raw, list | tuple):
        items = raw
    else:
        raise OptionValueError(
            f"{key} must be a list of IPv{version} addresses, got {_show(raw)} (expected sequence)",
            f"write it as [{raw}]" if isinstance(raw, str) else None,
        )
    out: list[str] = []
    for item in items:
        ok = isinstance(item, str) and (scalars.is_ip4 if version == 4 else scalars.is_ip6)(item)
        address = ipaddress.ip_address(item) if ok and isinstance(item, str) else None
        if address is None:
            raise OptionValueError(
                f"{key}: {_show(item)} is not an IPv{version} address",
                "ARP targets are IPv4 (arp-ip-targets), NS targets IPv6 (ns-ip6-targets)",
            )
        out.append(str(address))
    return tuple(out)


# --- canonical <-> netlink / sysfs / YAML -----------------------------------


def to_netlink(option: BondOption, value: OptionValue) -> int | str | tuple[str, ...]:
    """Canonical -> the number netlink carries (enums, bools); other kinds unchanged.

    INTERFACE values stay names: the kernel layer turns them into ifindexes.
    """
    if option.kind in (Kind.ENUM, Kind.BOOL) and isinstance(value, str):
        return option.values[value]
    return value


def from_netlink(option: BondOption, raw: object) -> OptionValue:
    """A decoded netlink attribute -> canonical."""
    if option.kind is Kind.ENUM:
        return option.words[_as_int(raw)]
    if option.kind in (Kind.INT, Kind.BOOL):
        return _as_int(raw)
    if option.kind in (Kind.IPV4_LIST, Kind.IPV6_LIST):
        if isinstance(raw, list | tuple):
            return tuple(str(ipaddress.ip_address(str(x))) for x in raw)
        return (str(ipaddress.ip_address(str(raw))),) if raw else ()
    if option.kind is Kind.MAC:
        return str(raw).lower()
    return "" if raw is None else str(raw)


def _as_int(raw: object) -> int:
    if isinstance(raw, int | str):
        return int(raw)
    raise TypeError(f"expected a number from netlink, got {raw!r}")


def parse_sysfs(option: BondOption, text: str) -> OptionValue:
    """The text of a sysfs file -> canonical.

    sysfs prints enums as "word number" ("active-backup 1", "on 1"), numbers
    and most booleans as digits, lists space-separated, no primary as "".
    """
    tokens = text.split()
    if option.kind is Kind.ENUM:
        return tokens[0]
    if option.kind is Kind.BOOL:
        last = tokens[-1]
        return int(last) if last.isdigit() else option.values[last]
    if option.kind is Kind.INT:
        return int(tokens[0])
    if option.kind in (Kind.IPV4_LIST, Kind.IPV6_LIST):
        return tuple(str(ipaddress.ip_address(t)) for t in tokens)
    if option.kind is Kind.MAC:
        return tokens[0].lower()
    return tokens[0] if tokens else ""


def to_yaml(option: BondOption, value: OptionValue) -> object:
    """Canonical -> the value bondd writes in YAML (renderers, `bondctl show`)."""
    if option.kind is Kind.BOOL:
        return bool(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def default_for(option: BondOption, options: Mapping[str, OptionValue]) -> OptionValue:
    """The kernel default given the other options set (miimon is 0 with ARP monitoring)."""
    if option.kernel_name == "miimon" and options.get("arp_interval", 0):
        return 0
    return option.default
