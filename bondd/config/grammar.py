"""netplan 0.106's grammar for the keys bondd leaves to others, checked as netplan checks them.

bondd does not apply `dhcp4`, `nameservers`, `routing-policy` and the like,
but a file netplan refuses must not pass bondd either: `dhcp4: maybe` is an
error in both. Each key has a value rule taken from netplan's parser
tables (src/parse.c, 0.106): a boolean, an unsigned number, a word from a
list, an address, a list of those, or a mapping with keys of its own.
Messages give netplan's reason. The rules are data (`Rule`), read by
`GrammarChecker` and by the bondd.d(5) generator. Pure.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bondd import scalars
from bondd.config.nodes import YMap, YNode, YScalar, YSeq
from bondd.model import SourcePos


class Shape(enum.StrEnum):
    BOOL = "boolean"
    UINT = "unsigned number"
    TEXT = "text"
    WORD = "one of a list of words"
    IP4 = "IPv4 address"
    IP6 = "IPv6 address"
    WORDS = "list of words"
    TEXTS = "list of text"
    IPS = "list of IP addresses"
    MAP = "mapping"
    TEXT_MAP = "mapping of text to text"
    RULES = "list of routing-policy rules"


@dataclass(frozen=True)
class Rule:
    shape: Shape
    words: frozenset[str] = frozenset()
    any_case: bool = False
    keys: Mapping[str, Rule] = field(default_factory=dict)


def _word(*words: str, any_case: bool = False) -> Rule:
    return Rule(Shape.WORD, frozenset(words), any_case)


BOOL = Rule(Shape.BOOL)
UINT = Rule(Shape.UINT)
TEXT = Rule(Shape.TEXT)

_DHCP_OVERRIDES = MappingProxyType(
    {
        "hostname": TEXT,
        "route-metric": UINT,
        "send-hostname": BOOL,
        "use-dns": BOOL,
        "use-domains": TEXT,
        "use-hostname": BOOL,
        "use-mtu": BOOL,
        "use-ntp": BOOL,
        "use-routes": BOOL,
    }
)
_AUTH = MappingProxyType(
    {
        "key-management": _word("none", "psk", "eap", "802.1x"),
        "method": _word("tls", "peap", "ttls"),
        **{
            key: TEXT
            for key in (
                "identity",
                "anonymous-identity",
                "password",
                "ca-certificate",
                "client-certificate",
                "client-key",
                "client-key-password",
                "phase2-auth",
            )
        },
    }
)
NETWORKMANAGER = Rule(
    Shape.MAP,
    keys=MappingProxyType(
        {
            "name": TEXT,
            "uuid": TEXT,
            "stable-id": TEXT,
            "device": TEXT,
            "passthrough": Rule(Shape.TEXT_MAP),
        }
    ),
)
RENDERERS = frozenset({"networkd", "NetworkManager"})

# netplan's COMMON_LINK_HANDLERS less what bondd applies itself.
COMMON: Mapping[str, Rule] = MappingProxyType(
    {
        "renderer": Rule(Shape.WORD, RENDERERS),
        "dhcp4": BOOL,
        "dhcp6": BOOL,
        "dhcp-identifier": _word("duid", "mac", any_case=True),
        "dhcp4-overrides": Rule(Shape.MAP, keys=_DHCP_OVERRIDES),
        "dhcp6-overrides": Rule(Shape.MAP, keys=_DHCP_OVERRIDES),
        "nameservers": Rule(
            Shape.MAP,
            keys=MappingProxyType({"search": Rule(Shape.TEXTS), "addresses": Rule(Shape.IPS)}),
        ),
        "optional": BOOL,
        "optional-addresses": Rule(
            Shape.WORDS,
            frozenset({"ipv4-ll", "ipv6-ra", "dhcp4", "dhcp6", "static"}),
            any_case=True,
        ),
        "critical": BOOL,
        "activation-mode": _word("manual", "off"),
        "ignore-carrier": BOOL,
        "accept-ra": BOOL,
        "link-local": Rule(Shape.WORDS, frozenset({"ipv4", "ipv6"}), any_case=True),
        "ipv6-privacy": BOOL,
        "ipv6-address-generation": _word("eui64", "stable-privacy"),
        "ipv6-address-token": Rule(Shape.IP6),
        "ipv6-mtu": UINT,
        "routing-policy": Rule(Shape.RULES),
        "neigh-suppress": BOOL,
        "networkmanager": NETWORKMANAGER,
    }
)

# netplan's PHYSICAL_LINK_HANDLERS and the ethernet-only keys, less `match`.
PHYSICAL: Mapping[str, Rule] = MappingProxyType(
    {
        "set-name": TEXT,
        "wakeonlan": BOOL,
        "wakeonwlan": Rule(
            Shape.WORDS,
            frozenset(
                {
                    "default",
                    "any",
                    "disconnect",
                    "magic_pkt",
                    "gtk_rekey_failure",
                    "eap_identity_req",
                    "four_way_handshake",
                    "rfkill_release",
                    "tcp",
                }
            ),
            any_case=True,
        ),
        "emit-lldp": BOOL,
        "receive-checksum-offload": BOOL,
        "transmit-checksum-offload": BOOL,
        "tcp-segmentation-offload": BOOL,
        "tcp6-segmentation-offload": BOOL,
        "generic-segmentation-offload": BOOL,
        "generic-receive-offload": BOOL,
        "large-receive-offload": BOOL,
        "auth": Rule(Shape.MAP, keys=_AUTH),
        "virtual-function-count": UINT,
        "embedded-switch-mode": _word("switchdev", "legacy"),
        "delay-virtual-functions-rebind": BOOL,
        "infiniband-mode": _word("datagram", "connected"),
    }
)

RULE_KEYS = frozenset({"from", "to", "mark", "priority", "table", "type-of-service"})

Report = Callable[[SourcePos, str, "str | None"], None]


def describe_shape(rule: Rule) -> str:
    """How bondd.d(5) spells a rule."""
    if rule.shape in (Shape.WORD, Shape.WORDS):
        words = ", ".join(sorted(rule.words))
        case = ", any case" if rule.any_case else ""
        return f"{'one of' if rule.shape is Shape.WORD else 'a list of'} {words}{case}"
    if rule.shape is Shape.MAP:
        return "a mapping of " + ", ".join(rule.keys)
    return f"a{'n' if rule.shape.value[0] in 'aeiuIU' else ''} {rule.shape.value}"


class GrammarChecker:
    """Checks values against `Rule`s; `error(pos, message, hint)` receives each refusal."""

    def __init__(self, error: Report) -> None:
        self.error = error

    def check(self, key: str, node: YNode, rule: Rule) -> None:
        match rule.shape:
            case Shape.BOOL | Shape.UINT | Shape.TEXT | Shape.WORD | Shape.IP4 | Shape.IP6:
                text = self.scalar(node)
                refusal = None if text is None else self.refusal(key, text, rule)
                if refusal is not None:
                    self.error(node.pos, *refusal)
            case Shape.WORDS:
                self.words(key, node, rule)
            case Shape.TEXTS | Shape.IPS:
                for item in self.items(node):
                    text = self.scalar(item)
                    if rule.shape is Shape.IPS and text is not None and not scalars.is_ip(text):
                        self.error(
                            item.pos,
                            f"malformed address '{text}' in `{key}`,"
                            " must be X.X.X.X or X:X:X:X:X:X:X:X",
                            "DNS servers are given by IP address, not by name",
                        )
            case Shape.MAP:
                mapping = self.mapping(node)
                for sub, entry in mapping.entries.items() if mapping else ():
                    if sub not in rule.keys:
                        self.error(
                            entry.key_pos,
                            f"unknown key '{sub}' in `{key}`",
                            f"use one of: {', '.join(rule.keys)}",
                        )
                    else:
                        self.check(sub, entry.value, rule.keys[sub])
            case Shape.TEXT_MAP:
                mapping = self.mapping(node)
                for entry in mapping.entries.values() if mapping else ():
                    self.scalar(entry.value)
            case Shape.RULES:
                for item in self.items(node):
                    self.policy_rule(item)

    def refusal(self, key: str, text: str, rule: Rule) -> tuple[str, str] | None:
        """Why a single scalar `text` does not fit `rule` (message, hint), or None."""
        match rule.shape:
            case Shape.BOOL if scalars.boolean(text) is None:
                return (
                    f"invalid boolean value '{text}' for `{key}`",
                    "write true or false (yes/no, on/off, y/n also work)",
                )
            case Shape.UINT if scalars.uint(text) is None:
                return (
                    f"invalid unsigned int value '{text}' for `{key}`",
                    "write a whole number in base 10, 0 to 4294967295",
                )
            case Shape.WORD if not self.known(text, rule):
                return (
                    f"invalid value '{text}' for `{key}`",
                    f"use one of: {', '.join(sorted(rule.words))}",
                )
            case Shape.IP4 | Shape.IP6:
                test = scalars.is_ip4 if rule.shape is Shape.IP4 else scalars.is_ip6
                if not test(text):
                    return (
                        f"invalid {rule.shape.value} '{text}' for `{key}`",
                        "write a single address without /prefix",
                    )
        return None

    def known(self, text: str, rule: Rule) -> bool:
        if rule.any_case:
            return text.lower() in {w.lower() for w in rule.words}
        return text in rule.words

    def words(self, key: str, node: YNode, rule: Rule) -> None:
        seen: set[str] = set()
        for item in self.items(node):
            text = self.scalar(item)
            if text is None:
                continue
            if not self.known(text, rule):
                self.error(
                    item.pos,
                    f"invalid value for {key}: '{text}'",
                    f"use any of: {', '.join(sorted(rule.words))}",
                )
            seen.add(text.lower())
        if key == "wakeonwlan" and "default" in seen and len(seen) > 1:
            self.error(node.pos, "'default' is an exclusive flag for wakeonwlan", None)

    def policy_rule(self, node: YNode) -> None:
        mapping = self.mapping(node)
        if mapping is None:
            return
        family: int | None = None
        for key, entry in mapping.entries.items():
            if key not in RULE_KEYS:
                self.error(
                    entry.key_pos,
                    f"unknown key '{key}' in a routing-policy rule",
                    f"use one of: {', '.join(sorted(RULE_KEYS))}",
                )
                continue
            text = self.scalar(entry.value)
            if text is None:
                continue
            if key in ("from", "to"):
                found = address_family(text)
                if found is None:
                    self.error(entry.value.pos, f"invalid IP address '{text}' in `{key}`", None)
                elif family is not None and found != family:
                    self.error(entry.value.pos, f"IP family mismatch in route to {text}", None)
                family = found or family
            else:
                number = scalars.uint(text)
                limit = 255 if key == "type-of-service" else scalars.UINT_MAX
                if number is None or number > limit:
                    self.error(
                        entry.value.pos,
                        f"invalid value '{text}' for `{key}` of a routing-policy rule",
                        f"write a whole number from 0 to {limit}",
                    )
        if "from" not in mapping.entries and "to" not in mapping.entries:
            self.error(
                mapping.pos, "IP routing policy must include either a 'from' or 'to' IP", None
            )

    def scalar(self, node: YNode) -> str | None:
        if isinstance(node, YScalar):
            return node.value
        self.error(node.pos, "expected scalar", "give a single value here")
        return None

    def mapping(self, node: YNode) -> YMap | None:
        if isinstance(node, YMap):
            return node
        self.error(node.pos, "expected mapping (check indentation)", "write it as {key: value}")
        return None

    def items(self, node: YNode) -> list[YNode]:
        if isinstance(node, YSeq):
            return node.items
        self.error(node.pos, "expected sequence", "write it as [a, b] or - a")
        return []


def address_family(text: str) -> int | None:
    """4 or 6 for an address with an optional /prefix (netplan's get_ip_family), else None."""
    address = text.rsplit("/", 1)[0] if "/" in text else text
    if scalars.is_ip4(address):
        return 4
    if scalars.is_ip6(address):
        return 6
    return None
