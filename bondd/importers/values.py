"""Source spellings of bond options -> bondd's canonical values, through the option table.

The other tools write options the way the kernel's sysfs takes them
(`mode=1`, `lacp_rate=fast`, `miimon=100`), or in their own words and units
(networkd's `MIIMonitorSec=1s`). Every importer funnels its values through
`option_value`, which accepts numbers or names for enums, the usual
spellings of booleans, and a time in the source's own default unit, then
checks the result with the same code the YAML loader uses, so an imported
value is exactly what `bondctl validate` would accept. Pure.
"""

from __future__ import annotations

import ipaddress
import re

from bondd.importers.model import At, SourceError
from bondd.model import OptionValue, RouteSpec
from bondd.options import (
    BondOption,
    Kind,
    OptionValueError,
    Unit,
    by_kernel_name,
    parse_yaml_value,
)

_TRUE = frozenset({"1", "yes", "y", "true", "on"})
_FALSE = frozenset({"0", "no", "n", "false", "off"})


def option(name: str, at: At) -> BondOption:
    """The table row for a kernel option name (sysfs spelling, dashes allowed)."""
    try:
        return by_kernel_name(name.strip().lower().replace("-", "_"))
    except KeyError:
        raise SourceError(
            at, f"unknown bond option {name!r}", "remove it or fix its name"
        ) from None


def option_value(row: BondOption, raw: str, at: At, *, systemd_time: bool = False) -> OptionValue:
    """`raw` as the source wrote it -> canonical; SourceError naming `at` if it does not fit.

    `systemd_time`: a bare number is seconds and suffixes follow systemd.time(7)
    (networkd); otherwise a bare number is in the kernel's unit (sysfs, nmcli,
    ifupdown, BONDING_OPTS).
    """
    text = raw.strip()
    try:
        if row.kind is Kind.ENUM:
            if text.isdigit():
                words = row.words
                if int(text) not in words:
                    raise OptionValueError(
                        f"{row.kernel_name} has no value {text}",
                        f"use one of {', '.join(words.values())}",
                    )
                return words[int(text)]
            return parse_yaml_value(row, text)
        if row.kind is Kind.BOOL:
            if text.lower() in _TRUE:
                return 1
            if text.lower() in _FALSE:
                return 0
            raise OptionValueError(f"{row.kernel_name} must be 0 or 1, got {text!r}")
        if row.kind is Kind.INT and row.unit is not Unit.NONE:
            if systemd_time:
                spelled = f"{text}s" if re.fullmatch(r"\d+(\.\d+)?", text) else text
                return parse_yaml_value(row, spelled)
            if not text.isdigit():
                raise OptionValueError(
                    f"{row.kernel_name} must be a whole number of"
                    f" {'seconds' if row.unit is Unit.S else 'milliseconds'}, got {text!r}"
                )
            return parse_yaml_value(row, int(text))
        if row.kind is Kind.INT:
            return parse_yaml_value(row, text)
        if row.kind in (Kind.IPV4_LIST, Kind.IPV6_LIST):
            items = [t.lstrip("+") for t in re.split(r"[\s,]+", text) if t]
            return parse_yaml_value(row, items)
        return parse_yaml_value(row, text)
    except OptionValueError as exc:
        raise SourceError(at, exc.message, exc.hint) from None


def flag(raw: str, at: At, what: str) -> bool:
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SourceError(at, f"{what} must be yes or no, got {raw.strip()!r}")


def integer(raw: str, at: At, what: str, low: int, high: int) -> int:
    text = raw.strip()
    if not re.fullmatch(r"\d+", text) or not low <= int(text) <= high:
        raise SourceError(at, f"{what} must be a number from {low} to {high}, got {text!r}")
    return int(text)


def mac(raw: str, at: At, what: str = "MAC address") -> str:
    text = raw.strip().lower().replace("-", ":")
    if not re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", text):
        raise SourceError(at, f"{what} {raw.strip()!r} is not a MAC address")
    return text


def cidr(raw: str, at: At, netmask: str | None = None, prefix: str | None = None) -> str:
    """An address with its prefix length, from `a/len`, or `a` plus a netmask or prefix."""
    text = raw.strip()
    try:
        if "/" not in text:
            if prefix is not None:
                text = f"{text}/{prefix.strip()}"
            elif netmask is not None:
                length = ipaddress.ip_network(f"0.0.0.0/{netmask.strip()}").prefixlen
                text = f"{text}/{length}"
            else:
                raise SourceError(at, f"address {text} has no prefix length", "add /LEN")
        return str(ipaddress.ip_interface(text))
    except ValueError:
        raise SourceError(at, f"{raw.strip()!r} is not an address with a prefix length") from None


def ip(raw: str, at: At, what: str = "gateway") -> str:
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        raise SourceError(at, f"{what} {raw.strip()!r} is not an IP address") from None


def default_route(gateway: str, metric: int | None = None, on_link: bool = False) -> RouteSpec:
    version = ipaddress.ip_address(gateway).version
    to = "0.0.0.0/0" if version == 4 else "::/0"
    default_metric = 0 if version == 4 else 1024
    return RouteSpec(
        to=to,
        via=gateway,
        metric=None if metric in (None, default_metric) else metric,
        on_link=on_link,
    )


def route(
    to: str, via: str | None, at: At, metric: int | None = None, table: int | None = None
) -> RouteSpec:
    text = to.strip()
    if text in ("default", ""):
        version = ipaddress.ip_address(via).version if via else 4
        prefix = "0.0.0.0/0" if version == 4 else "::/0"
    else:
        try:
            prefix = str(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise SourceError(at, f"route destination {text!r} is not a prefix") from None
    version = ipaddress.ip_network(prefix).version
    default_metric = 0 if version == 4 else 1024
    return RouteSpec(
        to=prefix,
        via=ip(via, at) if via else None,
        metric=None if metric in (None, default_metric) else metric,
        table=None if table in (None, 254) else table,
    )
