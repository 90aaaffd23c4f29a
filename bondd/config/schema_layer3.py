"""The schema's layer-3 keys: addresses, routes, MTU and MAC address.

Bonds and VLANs share these (`Common`); ports take only some of them. Part
of the schema builder's stack of sections (see schema_base.py). Pure.
"""

from __future__ import annotations

import ipaddress
import re

from bondd import scalars
from bondd.config import grammar, keys
from bondd.config.nodes import YEntry, YMap, YNode, YScalar, YSeq
from bondd.config.schema_base import (
    Common,
    SchemaBase,
    describe,
    ifname_problem,
)
from bondd.model import RouteSpec


class Layer3Section(SchemaBase):
    """Addresses, routes, MTU and MAC address of a bond or VLAN."""

    def common(
        self, what: str, path: tuple[str, ...], node: YMap, *, applied: bool = True
    ) -> Common:
        """What bonds and vlans share; `applied=False`: only netplan's checks (ethernets)."""
        for key, entry in node.entries.items():
            if key in keys.OTHERS_COMMON:
                self.r.note_once(key, entry.key_pos, keys.OTHERS_COMMON[key])
        if not applied:
            for key in ("mtu", "macaddress"):
                if key in node.entries:
                    rule = grammar.UINT if key == "mtu" else grammar.Rule(grammar.Shape.TEXT)
                    self.grammar.check(key, node.entries[key].value, rule)
            given = node.entries.get("macaddress")
            if (
                given is not None
                and isinstance(given.value, YScalar)
                and not scalars.is_mac(given.value.value)
            ):
                self.r.error(
                    given.value.pos,
                    f"invalid MAC address '{given.value.value}' for {what}",
                    "write it as XX:XX:XX:XX:XX:XX",
                )
        addresses = self.addresses(what, node.entries.get("addresses"))
        routes = self.routes(what, path, node.entries.get("routes"))
        for key, version in (("gateway4", 4), ("gateway6", 6)):
            if key not in node.entries:
                continue
            entry = node.entries[key]
            gateway = self.address(entry.value, key, version)
            if gateway is None:
                continue
            default = "0.0.0.0/0" if version == 4 else "::/0"
            if any(r.to == default and r.table is None for r in routes):
                if applied:
                    self.r.passed(
                        entry.key_pos,
                        f"{key} of {what} is not applied: routes already has a default route",
                        f"keep one; {key} is netplan's older spelling of `to: default`",
                    )
                continue
            self.index.put(entry.key_pos, *path, "route", default)
            routes.append(RouteSpec(to=default, via=gateway))
        mtu = None
        if "mtu" in node.entries and applied:
            mtu = self.integer(node.entries["mtu"].value, f"mtu of {what}", 68, 65535)
        mac = None
        if "macaddress" in node.entries and applied:
            mac = self.macaddress(what, node.entries["macaddress"].value)
        return Common(addresses, tuple(routes), mtu, mac)

    def macaddress(self, what: str, node: YNode) -> str | None:
        raw = self.string(node, f"macaddress of {what}")
        if raw is None:
            return None
        if not scalars.is_mac(raw):
            self.r.error(
                node.pos,
                f"invalid MAC address '{raw}' for {what}",
                "write it as XX:XX:XX:XX:XX:XX",
            )
            return None
        mac = raw.lower()
        if len(mac) != 17:
            self.r.passed(
                node.pos,
                f"macaddress of {what} is not applied: an InfiniBand address does not fit"
                " an Ethernet bond",
                "write a 6-byte MAC",
            )
            return None
        if int(mac[:2], 16) & 1 or mac == "00:00:00:00:00:00":
            self.r.passed(
                node.pos,
                f"macaddress of {what} is not applied: the kernel takes only a unicast,"
                " non-zero MAC",
                "clear the lowest bit of the first byte",
            )
            return None
        return mac

    def address(
        self, node: YNode, what: str, version: int | None = None, *, zone_ok: bool = False
    ) -> str | None:
        text = node.value if isinstance(node, YScalar) else None
        zoned = text is not None and "%" in text
        if zoned:
            assert text is not None
            base, _, zone = text.partition("%")
            if not zone_ok or ifname_problem(zone) or not scalars.is_ip6(base):
                self.r.error(
                    node.pos,
                    f"{what} {describe(node)} has a zone id that is not an interface name"
                    if zone_ok
                    else f"{what} must be an address without a %zone, got {describe(node)}",
                    "write fe80::1%bond0 with an interface name" if zone_ok else "remove the %zone",
                )
                return None
        ok = text is not None and (
            (zoned and version != 4)
            or (
                scalars.is_ip4(text)
                if version == 4
                else scalars.is_ip6(text)
                if version == 6
                else scalars.is_ip(text)
            )
        )
        if not ok or text is None:
            family = f"an IPv{version}" if version else "an IP"
            self.r.error(
                node.pos,
                f"{what} must be {family} address, got {describe(node)}",
                "write a single address without /prefix",
            )
            return None
        return str(ipaddress.ip_address(text))

    def addresses(self, what: str, entry: YEntry | None) -> tuple[str, ...]:
        if entry is None:
            return ()
        seq = self.sequence(entry.value, f"addresses of {what}")
        if seq is None:
            return ()
        out: list[str] = []
        for item in seq.items:
            nodes: list[YNode] = [item]
            if isinstance(item, YMap):
                # netplan's long form: - "10.0.0.15/24": {lifetime: 0, label: maas}
                nodes = [YScalar(text, sub.key_pos) for text, sub in item.entries.items()]
                for text, sub in item.entries.items():
                    self.address_options(text, sub.value)
            elif isinstance(item, YSeq):
                self.r.error(item.pos, f"an address of {what} must be a scalar or a mapping")
                continue
            for node in nodes:
                cidr = self.cidr(node, what)
                if cidr is None:
                    continue
                if cidr in out:
                    self.r.warning(node.pos, f"address {cidr} is listed twice on {what}")
                    continue
                out.append(cidr)
        return tuple(out)

    def address_options(self, text: str, node: YNode) -> None:
        options = self.mapping(node, f"options of address {text}")
        if options is None:
            return
        self.check_keys(options, keys.ADDRESS_OPTION_KEYS, f"address {text}")
        for key, option_entry in options.entries.items():
            if key not in keys.ADDRESS_OPTION_KEYS:
                continue
            value = self.string(option_entry.value, f"{key} of address {text}")
            if key == "lifetime" and value is not None and value not in ("forever", "0"):
                self.r.error(
                    option_entry.value.pos,
                    f"invalid lifetime value '{value}'",
                    "use forever or 0",
                )
            self.r.note_once(
                f"address {key}",
                option_entry.key_pos,
                "address lifetimes and labels are left to your renderer",
            )

    def cidr(self, node: YNode, what: str) -> str | None:
        text = node.value if isinstance(node, YScalar) else None
        if text is not None and "%" in text:
            self.r.error(node.pos, f"address {describe(node)} of {what} may not have a %zone")
            return None
        if text is None or "/" not in text:
            hint = (
                f"write it with a prefix length, e.g. {text}/24"
                if text is not None
                else "write address/prefix, e.g. 192.168.1.10/24"
            )
            self.r.error(node.pos, f"address {describe(node)} of {what} is not in CIDR form", hint)
            return None
        address, prefix_text = text.rsplit("/", 1)
        # netplan reads the prefix with strtoull and ignores what follows the digits.
        digits = re.match(r"\s*\+?(\d*)", prefix_text)
        prefix = int(digits.group(1)) if digits and digits.group(1) else 0
        version = 4 if scalars.is_ip4(address) else 6 if scalars.is_ip6(address) else 0
        if not version:
            self.r.error(
                node.pos,
                f"malformed address '{text}' of {what}",
                "write address/prefix, e.g. 192.168.1.10/24 or 2001:db8::5/64",
            )
            return None
        if not 0 < prefix <= (32 if version == 4 else 128):
            self.r.error(node.pos, f"invalid prefix length in address '{text}' of {what}")
            return None
        cidr = str(ipaddress.ip_interface(f"{address}/{prefix}"))
        if prefix_text != str(prefix):
            self.r.passed(
                node.pos,
                f"address '{text}' of {what} is applied as {cidr}",
                f"write {cidr}",
            )
        return cidr

    def routes(self, what: str, path: tuple[str, ...], entry: YEntry | None) -> list[RouteSpec]:
        if entry is None:
            return []
        seq = self.sequence(entry.value, f"routes of {what}")
        if seq is None:
            return []
        out: list[RouteSpec] = []
        for item in seq.items:
            node = self.mapping(item, f"a route of {what}")
            if node is None:
                continue
            route = self.route(what, node)
            if route is None:
                continue
            if route in out:
                self.r.warning(node.pos, f"route to {route.to} is listed twice on {what}")
                continue
            self.index.put(node.pos, *path, "route", route.to)
            out.append(route)
        return out

    def route(self, what: str, node: YMap) -> RouteSpec | None:
        self.check_keys(node, keys.ROUTE_KEYS_APPLIED | keys.ROUTE_KEYS_OTHERS, f"route of {what}")
        for key in keys.ROUTE_KEYS_OTHERS & node.entries.keys():
            self.grammar.check(key, node.entries[key].value, grammar.UINT)
            self.r.note_once(
                f"route {key}",
                node.entries[key].key_pos,
                "bondd installs the route without it; TCP route metrics are left to your renderer",
            )
        e = node.entries
        via = self.route_address(e["via"].value, "via") if "via" in e else None
        if "to" not in e:
            self.r.error(node.pos, f"a route of {what} has no `to`", "add to: default or to: CIDR")
            return None
        source = self.route_address(e["from"].value, "from") if "from" in e else None
        to = self.route_to(e["to"].value, via)
        if to is None:
            return None
        family = ipaddress.ip_network(to).version
        for key, found in (("via", via), ("from", source)):
            if found is not None and ipaddress.ip_address(found).version != family:
                self.r.error(
                    e[key].value.pos,
                    f"IP family mismatch in route to {to}: {key} {found}",
                    "give to, via and from in one address family",
                )
                return None
        metric = self.integer(e["metric"].value, "metric", 0, 2**32 - 1) if "metric" in e else None
        table = self.integer(e["table"].value, "table", 1, 2**32 - 1) if "table" in e else None
        on_link = bool(self.boolean(e["on-link"].value, "on-link")) if "on-link" in e else False
        mtu = self.integer(e["mtu"].value, "route mtu", 68, 65535) if "mtu" in e else None
        # netplan takes the scope and type words in any case.
        scope = self.choice(e["scope"].value, "scope", keys.ROUTE_SCOPES) if "scope" in e else None
        rtype = self.choice(e["type"].value, "type", keys.ROUTE_TYPES) if "type" in e else None
        return RouteSpec(
            to=to,
            via=via,
            metric=metric,
            table=table,
            on_link=on_link,
            source=source,
            scope=scope,
            type=rtype or "unicast",
            mtu=mtu,
        )

    def route_address(self, node: YNode, key: str) -> str | None:
        """netplan takes `via` and `from` with a /prefix too, and uses the address."""
        text = node.value if isinstance(node, YScalar) else None
        if text is None or "/" not in text or grammar.address_family(text) is None:
            return self.address(node, key)
        address = str(ipaddress.ip_address(text.rsplit("/", 1)[0]))
        self.r.passed(node.pos, f"route {key} {text} is applied as {address}", f"write {address}")
        return address

    def route_to(self, node: YNode, via: str | None) -> str | None:
        text = node.value if isinstance(node, YScalar) else None
        if text == "default" and via is None:
            self.r.error(
                node.pos,
                "a route to default needs `via`: without it the address family is unknown",
                "add via: <gateway>, or write to: 0.0.0.0/0 or ::/0",
            )
            return None
        if text == "default":
            return "::/0" if via and ":" in via else "0.0.0.0/0"
        if not isinstance(text, str):
            self.r.error(
                node.pos, f"route `to` must be an address or `default`, got {describe(node)}"
            )
            return None
        if grammar.address_family(text) is None:
            self.r.error(
                node.pos,
                f"route destination {text!r} is not an address or prefix",
                "write e.g. 10.0.0.0/8 or default",
            )
            return None
        try:
            return str(ipaddress.ip_network(text, strict=True))
        except ValueError:
            pass
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            self.r.error(node.pos, f"invalid prefix length in route destination {text!r}")
            return None
        self.r.passed(
            node.pos,
            f"route destination {text} has host bits set; bondd installs it as {loose}",
            f"write {loose}",
        )
        return str(loose)
