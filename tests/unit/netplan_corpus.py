"""The differential corpus: netplan bond files, one-key probes and mutations, made here.

Every case is one or more files for one configuration directory. The
probes put each key of netplan 0.106's parser tables (ethernets, bonds,
vlans, bond parameters, and the keys nested in them) on a small valid
configuration, once with each value class (booleans in every spelling,
quoted and plain numbers, YAML 1.1 number spellings, empty values,
lists, mappings, addresses, MACs, words); the seeds are bond
configurations of the kinds netplan's documentation describes, written for
this test; mutations change one thing in a seed (drop, repeat, re-type,
quote, empty a key); merges split a seed over two files in both orders.
Deterministic: a fixed seed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from bondd import options as opt


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, str]


VALUES = (
    "true",
    "'yes'",
    "Off",
    "y",
    "N",
    "maybe",
    "0",
    "5",
    "'1500'",
    "' 7'",
    "0x64",
    "9_000",
    "1:30",
    "-1",
    "99999999999",
    "''",
    "",
    "[]",
    "[ipv4, ipv6]",
    "[a, b]",
    "{}",
    "{a: b}",
    "192.0.2.1",
    "192.0.2.0/24",
    "2001:db8::1",
    "52:54:00:12:34:56",
    "aa:bb:cc:dd:ee:ff",
    "eno1",
    "bond0",
    "none",
    "fast",
    "100ms",
    "layer3+4",
    "active-backup",
    "networkd",
    "NetworkManager",
    "manual",
    "eui64",
    "duid",
    "[dhcp4, static]",
    "[any]",
    "[192.0.2.1]",
    "[{to: default, via: 192.0.2.1}]",
    "[{from: 192.0.2.0/24, table: 5}]",
    "{addresses: [192.0.2.53], search: [example.com]}",
    "{use-dns: false, route-metric: 100}",
    "{uuid: 6a8c1d8e-1111-4c3b-9a0f-0123456789ab, name: bond, passthrough: {a.b: c}}",
    "[192.0.2.5/24]",
    "legacy",
    "datagram",
)

DEVICE_KEYS = [
    "renderer",
    "dhcp4",
    "dhcp6",
    "dhcp-identifier",
    "dhcp4-overrides",
    "dhcp6-overrides",
    "nameservers",
    "optional",
    "optional-addresses",
    "critical",
    "activation-mode",
    "ignore-carrier",
    "accept-ra",
    "link-local",
    "ipv6-privacy",
    "ipv6-address-generation",
    "ipv6-address-token",
    "ipv6-mtu",
    "routing-policy",
    "neigh-suppress",
    "networkmanager",
    "openvswitch",
    "addresses",
    "routes",
    "gateway4",
    "gateway6",
    "mtu",
    "macaddress",
    "match",
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
    "auth",
    "link",
    "virtual-function-count",
    "embedded-switch-mode",
    "delay-virtual-functions-rebind",
    "infiniband-mode",
    "interfaces",
    "parameters",
    "id",
    "hairpin",
    "ra-overrides",
    "regulatory-domain",
]

NETPLAN_PARAMS = [
    "mode",
    "lacp-rate",
    "mii-monitor-interval",
    "min-links",
    "transmit-hash-policy",
    "ad-select",
    "all-members-active",
    "all-slaves-active",
    "arp-interval",
    "arp-ip-targets",
    "arp-validate",
    "arp-all-targets",
    "up-delay",
    "down-delay",
    "fail-over-mac-policy",
    "gratuitous-arp",
    "gratuitious-arp",
    "packets-per-member",
    "packets-per-slave",
    "primary-reselect-policy",
    "resend-igmp",
    "learn-packet-interval",
    "primary",
]

PARAM_VALUES = (
    "balance-rr",
    "802.3ad",
    "Active-Backup",
    "balance-tcp",
    "slow",
    "fast",
    "FAST",
    "none",
    "layer2+3",
    "encap3+4",
    "stable",
    "count",
    "all",
    "filter_backup",
    "backup",
    "any",
    "follow",
    "better",
    "failure",
    "100",
    "'200'",
    "1s",
    "1.5s",
    "5",
    "0",
    "300",
    "''",
    "-1",
    "0x10",
    "true",
    "n",
    "[192.0.2.1, 192.0.2.2]",
    "[2001:db8::1]",
    "192.0.2.1",
    "eno1",
    "eno3",
    "bond0",
    "{}",
)

NESTED = {
    "dhcp4-overrides": "hostname route-metric send-hostname use-dns use-domains use-hostname"
    " use-mtu use-ntp use-routes use-gateway",
    "nameservers": "search addresses",
    "networkmanager": "name uuid stable-id device passthrough",
    "match": "name macaddress driver",
    "auth": "key-management method identity password phase2-auth",
}

ROUTE_KEYS = "from on-link scope table to type via metric mtu congestion-window advertised-mss"
RULE_KEYS = "from to mark priority table type-of-service"

_BASE = """network:
  version: 2
  ethernets:
    eno1: {{{eno1}}}
    eno2: {{{eno2}}}
    eno3: {{{eno3}}}
  bonds:
    bond0:
      interfaces: [eno1, eno2]
      parameters: {{{params}}}
{bond}
  vlans:
    vlan10: {{id: 10, link: bond0{vlan}}}
"""


def base(
    eno1: str = "",
    eno3: str = "",
    bond: str = "",
    params: str = "mode: active-backup",
    vlan: str = "",
) -> str:
    bond_lines = f"      {bond}" if bond else ""
    return _BASE.format(
        eno1=eno1,
        eno2="",
        eno3=eno3,
        bond=bond_lines,
        params=params,
        vlan=f", {vlan}" if vlan else "",
    )


def _good(option: opt.BondOption) -> str:
    if option.scope is opt.Scope.PORT:
        return "{eno1: 1}"
    if option.kind is opt.Kind.MAC:
        return "02:00:00:00:00:01"
    if option.kind is opt.Kind.IPV6_LIST:
        return "[2001:db8::1]"
    if option.kind is opt.Kind.BOOL:
        return "true"
    return str(option.default)


def probes() -> list[Case]:
    cases: list[Case] = []
    places = ("port", "eth", "bond", "vlan")
    for key in DEVICE_KEYS:
        for number, value in enumerate(VALUES):
            # Each value in one place a key (rotating), and the first few in every place.
            item = f"{key}: {value}"
            if (number + len(key)) % 2:
                continue
            for place in places if number < 4 else [places[(number + len(key)) % 4]]:
                where = {"port": "eno1", "eth": "eno3", "bond": "bond", "vlan": "vlan"}[place]
                text = base(**{where: item})
                cases.append(Case(f"{place}.{key}.{number}", {"a.yaml": text}))
    params = list(NETPLAN_PARAMS) + [k for o in opt.OPTIONS if not o.netplan for k in o.yaml_keys]
    for key in params:
        for number, value in enumerate(PARAM_VALUES):
            if number % (2 if key in NETPLAN_PARAMS else 5):
                continue
            cases.append(Case(f"param.{key}.{number}", {"a.yaml": base(params=f"{key}: {value}")}))
    modes = ("balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad")
    good = {
        "lacp-rate": "fast",
        "primary": "eno1",
        "arp-interval": "100",
        "arp-validate": "all",
        "packets-per-member": "2",
        "transmit-hash-policy": "layer3+4",
        "ad-select": "bandwidth",
        "primary-reselect-policy": "better",
        "fail-over-mac-policy": "active",
        "learn-packet-interval": "5",
        "mii-monitor-interval": "100, arp-interval: 200, arp-ip-targets: [192.0.2.1]",
    }
    for mode in (*modes, "balance-tlb", "balance-alb"):
        for key, value in good.items():
            cases.append(
                Case(f"mode.{mode}.{key}", {"a.yaml": base(params=f"mode: {mode}, {key}: {value}")})
            )
    for option in opt.OPTIONS:
        # bondd's own options with a value it takes: netplan knows none of these keys.
        if option.netplan or not option.yaml_keys:
            continue
        value = _good(option)
        cases.append(
            Case(
                f"own.{option.kernel_name}", {"a.yaml": base(params=f"{option.yaml_key}: {value}")}
            )
        )
    cases.append(Case("own.bondd", {"a.yaml": base() + "bondd: {apply-on-change: false}\n"}))
    for kind in ("bridges", "wifis", "tunnels", "vrfs", "modems", "nm-devices"):
        cases.append(Case(f"own.{kind}", {"a.yaml": base() + f"  {kind}: {{}}\n"}))
    for parent, subs in NESTED.items():
        for sub in subs.split():
            for number, value in enumerate(VALUES[::4]):
                item = f"{parent}: {{{sub}: {value}}}"
                cases.append(Case(f"nested.{parent}.{sub}.{number}", {"a.yaml": base(eno3=item)}))
    for sub in ROUTE_KEYS.split():
        for number, value in enumerate(VALUES[::3]):
            route = f"routes: [{{to: 198.51.100.0/24, via: 192.0.2.1, {sub}: {value}}}]"
            cases.append(Case(f"route.{sub}.{number}", {"a.yaml": base(bond=route)}))
    for sub in RULE_KEYS.split():
        for number, value in enumerate(VALUES[::2]):
            rule = f"routing-policy: [{{{sub}: {value}}}]"
            cases.append(Case(f"rule.{sub}.{number}", {"a.yaml": base(bond=rule)}))
    return cases


SEEDS: dict[str, str] = {
    "active-backup": """network:
  version: 2
  renderer: networkd
  ethernets:
    enp3s0: {}
    enp4s0: {}
  bonds:
    bond0:
      dhcp4: true
      interfaces: [enp3s0, enp4s0]
      parameters:
        mode: active-backup
        primary: enp3s0
        mii-monitor-interval: 100
""",
    "lacp": """network:
  version: 2
  ethernets:
    eth0:
      match: {macaddress: 52:54:00:12:34:01}
      set-name: lan0
    eth1:
      match: {macaddress: "52:54:00:12:34:02"}
  bonds:
    bond0:
      interfaces: [eth0, eth1]
      addresses: [192.0.2.10/24, "2001:db8::10/64"]
      routes:
        - to: default
          via: 192.0.2.1
      nameservers:
        search: [example.com]
        addresses: [192.0.2.53, "2001:db8::53"]
      parameters:
        mode: 802.3ad
        lacp-rate: fast
        mii-monitor-interval: 1s
        transmit-hash-policy: layer3+4
        ad-select: stable
        min-links: 1
""",
    "nm": """network:
  version: 2
  renderer: NetworkManager
  bonds:
    bond-team:
      renderer: NetworkManager
      interfaces: [eno1]
      dhcp4: yes
      dhcp6: no
      ipv6-address-generation: stable-privacy
      parameters:
        mode: balance-xor
        transmit-hash-policy: layer2+3
      networkmanager:
        uuid: 0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6
        name: Bond connection 1
        passthrough:
          connection.autoconnect-slaves: "1"
          ipv4.dhcp-timeout: "45"
  ethernets:
    eno1:
      networkmanager:
        uuid: 11111111-2222-3333-4444-555555555555
        name: bond-team port 1
""",
    "arp": """network:
  version: 2
  ethernets:
    ens1: {}
    ens2: {}
  bonds:
    bond1:
      interfaces: [ens1, ens2]
      mtu: 9000
      parameters:
        mode: active-backup
        arp-interval: 200
        arp-ip-targets: [192.0.2.1, 192.0.2.2]
        arp-validate: all
        arp-all-targets: any
        fail-over-mac-policy: active
        gratuitous-arp: 5
        primary-reselect-policy: failure
""",
    "vlans": """network:
  version: 2
  ethernets:
    eno1: {dhcp4: false}
    eno2: {dhcp4: false}
  bonds:
    bond0:
      interfaces: [eno1, eno2]
      parameters: {mode: balance-alb, learn-packet-interval: 10, up-delay: 200, down-delay: 200}
  vlans:
    bond0.100:
      id: 100
      link: bond0
      addresses: [198.51.100.5/24]
      routes: [{to: 203.0.113.0/24, via: 198.51.100.1, metric: 100}]
    bond0.200:
      id: 200
      link: bond0
      dhcp4: true
      dhcp4-overrides: {use-dns: false, route-metric: 200}
""",
    "router": """network:
  version: 2
  ethernets:
    enp1s0: {optional: true}
    enp2s0: {optional: true}
    enp3s0: {addresses: [10.0.0.1/24]}
  bonds:
    bond-lan:
      interfaces: [enp1s0, enp2s0]
      addresses: [192.168.3.1/24]
      gateway4: 192.168.3.254
      parameters:
        mode: balance-rr
        packets-per-member: 2
        resend-igmp: 3
        all-members-active: true
""",
    "ports-by-driver": """network:
  version: 2
  ethernets:
    ports:
      match: {driver: ixgbe}
    lom:
      match: {name: "eno*"}
      wakeonlan: true
      emit-lldp: true
  bonds:
    bond0:
      interfaces: [ports, lom]
      link-local: [ipv6]
      accept-ra: false
      critical: true
      routing-policy:
        - from: 192.0.2.0/24
          table: 100
      routes:
        - to: 0.0.0.0/0
          via: 192.0.2.1
          table: 100
      parameters:
        mode: broadcast
""",
    "tlb": """network:
  version: 2
  ethernets:
    eth-a: {}
    eth-b: {}
  bonds:
    bond7:
      interfaces: [eth-a, eth-b]
      macaddress: 02:00:00:00:00:07
      ipv6-privacy: true
      optional-addresses: [ipv4-ll, dhcp6]
      parameters:
        mode: balance-tlb
        primary: eth-b
        up-delay: 0
        down-delay: 0
""",
}


def _mutations(text: str, rnd: random.Random) -> list[str]:
    lines = text.splitlines()
    out: list[str] = []
    keyed = [i for i, line in enumerate(lines) if re.match(r"\s+[\w.-]+:", line)]
    for index in keyed:
        drop = lines[:index] + lines[index + 1 :]
        out.append("\n".join(drop) + "\n")
        repeat = [*lines[: index + 1], lines[index], *lines[index + 1 :]]
        out.append("\n".join(repeat) + "\n")
        line = lines[index]
        match = re.match(r"(\s+[\w.-]+:)\s*(\S.*)?$", line)
        if match and match.group(2) and not match.group(2).startswith(("{", "[")):
            value = match.group(2)
            for other in ('"' + value.strip('"') + '"', value.upper(), "", "[x]", "{}", "~"):
                changed = lines.copy()
                changed[index] = f"{match.group(1)} {other}"
                out.append("\n".join(changed) + "\n")
        elif match and not match.group(2):
            emptied = lines[: index + 1] + [
                line
                for line in lines[index + 1 :]
                if len(line) - len(line.lstrip()) <= len(lines[index]) - len(lines[index].lstrip())
            ]
            out.append("\n".join(emptied) + "\n")
    rnd.shuffle(out)
    return out


def _split(text: str) -> tuple[str, str] | None:
    """The seed's ethernets in one file, the rest in another."""
    match = re.search(r"  ethernets:\n((?:    .*\n)+)", text)
    if match is None:
        return None
    ethernets = "network:\n  version: 2\n  ethernets:\n" + match.group(1)
    rest = text[: match.start()] + text[match.end() :]
    return ethernets, rest


def seeded() -> list[Case]:
    rnd = random.Random(17)
    cases: list[Case] = []
    for name, text in SEEDS.items():
        cases.append(Case(f"seed.{name}", {"a.yaml": text}))
        for number, mutated in enumerate(_mutations(text, rnd)[:45]):
            cases.append(Case(f"mutant.{name}.{number}", {"a.yaml": mutated}))
        split = _split(text)
        if split:
            ethernets, rest = split
            cases.append(Case(f"merge.{name}.eth-first", {"10.yaml": ethernets, "20.yaml": rest}))
            cases.append(Case(f"merge.{name}.eth-last", {"10.yaml": rest, "20.yaml": ethernets}))
            cases.append(Case(f"merge.{name}.twice", {"10.yaml": text, "20.yaml": text}))
    names = list(SEEDS)
    for first in names:
        for second in names:
            if first != second:
                cases.append(
                    Case(
                        f"merge.{first}+{second}",
                        {"10.yaml": SEEDS[first], "20.yaml": SEEDS[second]},
                    )
                )
    return cases


def corpus() -> list[Case]:
    return probes() + seeded()
