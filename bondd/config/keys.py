"""Which netplan keys bondd applies, and who handles the ones it does not.

netplan files must work unchanged, so every key netplan accepts on
ethernets, bonds and vlans is known here: either bondd applies it, or it
is reported once as a note naming who does handle it. A key in neither set
is an error. Device kinds bondd does not manage are listed with the reason.
Source: netplan 0.106's parser tables (src/parse.c); the value rules of the
keys left to others are in `grammar`. Pure data.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_DHCP = "DHCP is left to a DHCP client (systemd-networkd, NetworkManager, dhclient)"
_BOOT = "boot-time online behaviour is left to systemd-networkd or NetworkManager"
_IPV6 = "IPv6 autoconfiguration is left to the kernel's sysctls and your renderer"
_DEVICE = "device settings are left to udev .link files, ethtool or your renderer"
_BRIDGE = "bridge port settings are left to whoever manages the bridge"

# Keys bondd applies on bonds and vlans (on ports they are checked separately).
APPLIED_COMMON = frozenset({"addresses", "routes", "gateway4", "gateway6", "mtu", "macaddress"})

# Keys netplan accepts on every device kind that bondd leaves to others.
OTHERS_COMMON: Mapping[str, str] = MappingProxyType(
    {
        "renderer": "bondd programs the kernel itself; no renderer is involved",
        "dhcp4": _DHCP,
        "dhcp6": _DHCP,
        "dhcp-identifier": _DHCP,
        "dhcp4-overrides": _DHCP,
        "dhcp6-overrides": _DHCP,
        "nameservers": "DNS is left to the resolver (systemd-resolved, resolvconf)",
        "optional": _BOOT,
        "optional-addresses": _BOOT,
        "critical": _BOOT,
        "activation-mode": _BOOT,
        "ignore-carrier": _BOOT,
        "accept-ra": _IPV6,
        "link-local": _IPV6,
        "ipv6-privacy": _IPV6,
        "ipv6-address-generation": _IPV6,
        "ipv6-address-token": _IPV6,
        "ipv6-mtu": _IPV6,
        "routing-policy": "policy routing rules are left to netplan or your renderer",
        "neigh-suppress": _BRIDGE,
        "networkmanager": "NetworkManager's connection settings are NetworkManager's own",
    }
)

# Keys netplan accepts on physical devices (ethernets) only.
OTHERS_PHYSICAL: Mapping[str, str] = MappingProxyType(
    {
        key: _DEVICE
        for key in (
            "set-name",
            "wakeonlan",
            "wakeonwlan",
            "emit-lldp",
            "receive-checksum-offload",
            "transmit-checksum-offload",
            "tcp-segmentation-offload",
            "tcp6-segmentation-offload",
            "generic-segmentation-offload",
            "generic-receive-offload",
            "large-receive-offload",
            "link",
            "virtual-function-count",
            "embedded-switch-mode",
            "delay-virtual-functions-rebind",
            "infiniband-mode",
            "auth",
        )
    }
)

MATCH_KEYS = frozenset({"name", "macaddress", "driver"})
ETHERNET_KEYS = (
    frozenset({"match"}) | APPLIED_COMMON | OTHERS_COMMON.keys() | OTHERS_PHYSICAL.keys()
)
BOND_KEYS = frozenset({"interfaces", "parameters"}) | APPLIED_COMMON | OTHERS_COMMON.keys()
VLAN_KEYS = frozenset({"id", "link"}) | APPLIED_COMMON | OTHERS_COMMON.keys()
# `openvswitch` is netplan's too, but on a bond it would make a different kind of bond.
OVS_KEY = "openvswitch"

NETWORK_KEYS = frozenset({"version", "renderer", "ethernets", "bonds", "vlans", OVS_KEY})
UNMANAGED_KINDS = frozenset(
    {
        "bridges",
        "wifis",
        "tunnels",
        "modems",
        "vrfs",
        "nm-devices",
    }
)
TOP_KEYS = frozenset({"network", "bondd"})
BONDD_KEYS = frozenset({"apply-on-change", "lacp-gate", "probes", "metrics", "strict"})
METRICS_KEYS = frozenset({"textfile"})
PROBE_KEYS = frozenset({"type", "target", "via", "port", "timeout"})
ADDRESS_OPTION_KEYS = frozenset({"lifetime", "label"})
ROUTE_KEYS_APPLIED = frozenset(
    {"to", "via", "from", "on-link", "metric", "type", "scope", "table", "mtu"}
)
ROUTE_KEYS_OTHERS = frozenset({"congestion-window", "advertised-receive-window"})
ROUTE_TYPES = frozenset(
    {
        "unicast",
        "anycast",
        "blackhole",
        "broadcast",
        "local",
        "multicast",
        "nat",
        "prohibit",
        "throw",
        "unreachable",
        "xresolve",
    }
)
ROUTE_SCOPES = frozenset({"global", "link", "host"})
