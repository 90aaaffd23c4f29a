"""What netplan 0.106's renderers refuse, checked for the renderer a definition gets.

netplan validates a definition once more for the backend that will render
it: networkd (the default) and NetworkManager each refuse a few settings
the grammar allows. bondd renders nothing, but a file netplan refuses must
not pass bondd, so these rules are checked too. The renderer is the
definition's own `renderer:`, else its section's, else the file's
`network: renderer:`, else networkd. Pure.
"""

from __future__ import annotations

from collections.abc import Callable

from bondd import scalars
from bondd.config.nodes import YMap, YScalar, YSeq
from bondd.model import SourcePos

Error = Callable[[SourcePos, str, "str | None"], None]

# dhcp{4,6}-overrides keys and the value netplan assumes when one is not given
_OVERRIDE_DEFAULTS: dict[str, str | bool | None] = {
    "use-dns": True,
    "use-ntp": True,
    "send-hostname": True,
    "use-hostname": True,
    "use-mtu": True,
    "use-routes": True,
    "use-domains": None,
    "hostname": None,
    "route-metric": None,
}


def renderer_of(node: YMap, section: str | None, network: str | None) -> str:
    own = node.entries.get("renderer")
    if own is not None and isinstance(own.value, YScalar) and own.value.value != "sriov":
        return own.value.value
    return section or network or "networkd"


def check(name: str, node: YMap, renderer: str, error: Error) -> None:
    if renderer == "NetworkManager":
        _network_manager(name, node, error)
    else:
        _networkd(name, node, error)


def _text(node: YMap, key: str) -> str | None:
    entry = node.entries.get(key)
    return entry.value.value if entry and isinstance(entry.value, YScalar) else None


def _networkd(name: str, node: YMap, error: Error) -> None:
    if _text(node, "ipv6-address-generation") == "stable-privacy":
        error(
            node.entries["ipv6-address-generation"].value.pos,
            f"{name}: ipv6-address-generation mode is not supported by networkd",
            "use eui64, or renderer: NetworkManager",
        )
    dhcp4 = scalars.boolean(_text(node, "dhcp4") or "")
    dhcp6 = scalars.boolean(_text(node, "dhcp6") or "")
    if not (dhcp4 and dhcp6):
        return
    for key, default in _OVERRIDE_DEFAULTS.items():
        four = _override(node, "dhcp4-overrides", key, default)
        six = _override(node, "dhcp6-overrides", key, default)
        if four != six:
            error(
                node.pos,
                f"{name}: networkd requires that {key} has the same value in both"
                " dhcp4_overrides and dhcp6_overrides",
                f"give {key} the same value in both",
            )
            return


def _override(node: YMap, section: str, key: str, default: str | bool | None) -> object:
    entry = node.entries.get(section)
    if entry is None or not isinstance(entry.value, YMap) or key not in entry.value.entries:
        return default
    value = entry.value.entries[key].value
    if not isinstance(value, YScalar):
        return default
    if isinstance(default, bool):
        return scalars.boolean(value.value)
    return value.value


def _network_manager(name: str, node: YMap, error: Error) -> None:
    match = node.entries.get("match")
    if match is not None and isinstance(match.value, YMap) and "driver" in match.value.entries:
        error(
            match.value.entries["driver"].key_pos,
            f"{name}: NetworkManager definitions do not support matching by driver",
            "match by name or macaddress",
        )
    if "ipv6-mtu" in node.entries:
        error(
            node.entries["ipv6-mtu"].key_pos,
            f"{name}: NetworkManager definitions do not support ipv6-mtu",
            "remove ipv6-mtu, or use renderer: networkd",
        )
    if _text(node, "activation-mode") == "off":
        error(
            node.entries["activation-mode"].key_pos,
            f"{name}: NetworkManager definitions do not support activation-mode off",
            "use manual, or renderer: networkd",
        )
    addresses = node.entries.get("addresses")
    if addresses is not None and isinstance(addresses.value, YSeq):
        for item in addresses.value.items:
            if isinstance(item, YMap):
                error(
                    item.pos,
                    f"{name}: NetworkManager does not support address options",
                    "write the address alone, or use renderer: networkd",
                )
                return
