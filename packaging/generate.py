#!/usr/bin/env python3
"""Generate the man pages bondd.d(5) and bondctl(8) and bondctl's bash completion.

They come from bondd's own tables, so they cannot drift from the code:
bondd.d(5) lists every key the loader accepts, from `bondd.options` (bond
parameters) and `bondd.config.keys` (everything else; a key without a
description here makes this script fail); bondctl(8) and the completion
come from bondctl's argparse parser, so `bondctl COMMAND --help` and the
page say the same. `tests/unit/test_generated_docs.py` regenerates all three
and compares them with the committed files.

    python3 packaging/generate.py           # rewrite the generated files
    python3 packaging/generate.py --check   # exit 1 if one is out of date

Why not shtab and argparse-manpage, which do this job in general and which
Debian 12 ships (python3-shtab 1.5.5, python3-argparse-manpage 1.2.2)? Both
were tried on bondctl's parser, in those versions, since the generated files
must come out the same on a Debian 12 build host:

- shtab 1.5.5's bash script completes only the first of a list of choices
  (it expands an array's name indirectly, which yields element 0): `bondctl
  <TAB>` offers `validate` alone, `--from <TAB>` `ifcfg` alone. A newer shtab
  is not in Debian 12. Its script would also need two hand-written functions
  anyway (the kernel's bonds from sysfs, YAML files), about what the script
  here is.
- argparse-manpage 1.2.2 writes `.TH bondctl "1"` (bondctl is in section 8,
  and the version has no option for it), wraps text at the terminal's width
  (so the output depends on $COLUMNS where this file's must not), repeats
  the global options under every command, and can add sections (EXIT
  STATUS, FILES, THE DEAD-MAN TIMER) only through a private parser
  attribute.

So both are rendered here from the same parser, and
tests/unit/test_generated_docs.py checks that every command and flag is in
both.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bondd import options as opt  # noqa: E402
from bondd.cli.main import build_parser  # noqa: E402
from bondd.config import grammar, keys  # noqa: E402
from bondd.importers import networkd  # noqa: E402

NETWORK_DOC: Mapping[str, str] = {
    "version": "Must be 2, as in netplan.",
    "renderer": "Accepted for netplan compatibility and reported as a note:"
    " bondd programs the kernel itself.",
    "ethernets": "Physical ports, by id. A port is named by its id, or matched with \\fBmatch\\fR.",
    "bonds": "Bonds, by interface name.",
    "vlans": "VLANs on bonds, by interface name.",
    keys.OVS_KEY: "Open vSwitch settings; an error on bonds and VLANs, which bondd"
    " manages without Open vSwitch.",
}
BONDD_DOC: Mapping[str, str] = {
    "apply-on-change": "true (default): the daemon applies a changed configuration by"
    " itself, gated by the probes. false: it validates and reports the change as"
    " pending until \\fBbondctl apply\\fR.",
    "lacp-gate": "true (default): an 802.3ad bond in a change must negotiate LACP"
    " before the change commits; otherwise it is rolled back.",
    "probes": "What must still work after a change (a list). Each probe runs once"
    " before the change; one that fails then is reported, not used as a gate."
    " Without probes, each changed bond's gateway is pinged.",
    "metrics": "Where the daemon writes its Prometheus metrics (a mapping, key below)."
    " Without it, the daemon writes \\fI/var/lib/prometheus/node\\-exporter/bondd.prom\\fR"
    " (node_exporter's textfile directory on Debian) when that directory exists, else"
    " nothing; \\fBbondctl metrics\\fR prints the same text.",
    "strict": "false (default): a value netplan accepts but bondd cannot apply as written"
    " (see \\fBVALUES NETPLAN PASSES\\fR) is a warning and the rest is applied. true: it is"
    " an error, as with \\fBbondctl \\-\\-strict\\fR.",
}
METRICS_DOC: Mapping[str, str] = {
    "textfile": "An absolute path ending in \\fI.prom\\fR, in the directory node_exporter's"
    " \\fB\\-\\-collector.textfile.directory\\fR names. The file is replaced atomically,"
    " at least once a minute and at most four times a second. Under the shipped unit"
    " (ProtectSystem=strict) a directory other than the default needs a drop\\-in with"
    " \\fBReadWritePaths=\\fR.",
}
PROBE_DOC: Mapping[str, str] = {
    "type": "ping, arp or tcp.",
    "target": "The unicast address to reach (an IPv6 link-local one may carry %\\fIinterface\\fR).",
    "via": "The interface to send through (arp probes); an interface name.",
    "port": "The TCP port (tcp probes).",
    "timeout": 'Seconds to wait for an answer, from 0.1 to 300 (or a time span such as "10s").',
}
COMMON_DOC: Mapping[str, str] = {
    "addresses": "Static addresses in CIDR form; a list. Items may be mappings with"
    " \\fBlifetime\\fR and \\fBlabel\\fR.",
    "routes": "Static routes; a list of mappings (keys below).",
    "gateway4": "Default IPv4 route via this address (netplan's deprecated spelling"
    " of a route to default).",
    "gateway6": "Default IPv6 route via this address.",
    "mtu": "MTU of the interface.",
    "macaddress": "MAC address of the interface.",
}
BOND_DOC: Mapping[str, str] = {
    "interfaces": "The ports of the bond: ids from \\fBethernets\\fR.",
    "parameters": "Kernel bonding options (next section).",
}
VLAN_DOC: Mapping[str, str] = {
    "id": "The VLAN id, 0 to 4094.",
    "link": "The bond the VLAN sits on.",
}
ETHERNET_DOC: Mapping[str, str] = {
    "match": "Select the device by \\fBname\\fR (shell glob), \\fBmacaddress\\fR or"
    " \\fBdriver\\fR instead of by id.",
}
MATCH_DOC: Mapping[str, str] = {
    "name": "Interface name; shell globs allowed.",
    "macaddress": "Permanent MAC address.",
    "driver": "Kernel driver name; shell globs allowed.",
}
ADDRESS_OPTION_DOC: Mapping[str, str] = {
    "lifetime": "forever, or 0 for a deprecated address.",
    "label": "The address label.",
}
ROUTE_DOC: Mapping[str, str] = {
    "to": "Destination: a prefix or \\fBdefault\\fR.",
    "via": "Gateway address.",
    "from": "Preferred source address.",
    "on-link": "true: the gateway is on the link even outside the address's prefix.",
    "metric": "Route metric.",
    "type": "Route type: " + ", ".join(sorted(keys.ROUTE_TYPES)) + ".",
    "scope": "Route scope: " + ", ".join(sorted(keys.ROUTE_SCOPES)) + ".",
    "table": "Routing table number.",
    "mtu": "Path MTU of the route.",
}


PORT_FORBIDDEN = ("addresses", "routes", "gateway4", "gateway6")


def esc(text: str) -> str:
    """Escape text for roff: backslashes, and a leading dot or quote."""
    out = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + out if out[:1] in (".", "'") else out


def doc(text: str) -> str:
    """Hand-written roff text: already escaped, only leading control characters guarded."""
    return "\\&" + text if text[:1] in (".", "'") else text


def need(documented: Mapping[str, str], accepted: Iterable[str], where: str) -> None:
    missing = sorted(set(accepted) - documented.keys())
    extra = sorted(documented.keys() - set(accepted))
    if missing or extra:
        raise SystemExit(
            f"gen_bondd_d: {where}: undocumented keys {missing}, documented but unknown {extra};"
            " update packaging/man/gen_bondd_d.py"
        )


def key_list(documented: Mapping[str, str], accepted: Iterable[str]) -> list[str]:
    lines: list[str] = []
    for key in sorted(accepted):
        lines += [".TP", f".B {esc(key)}", doc(documented[key])]
    return lines


def others(table: Mapping[str, str], rules: Mapping[str, grammar.Rule]) -> list[str]:
    lines: list[str] = []
    for key in sorted(table):
        rule = rules.get(key)
        checked = (
            f"Checked as netplan checks it: {grammar.describe_shape(rule)}."
            if rule
            else "Checked as netplan checks it: an interface defined in the same file or an"
            " earlier one."
        )
        lines += [".TP", f".B {esc(key)}", esc(f"{checked} Not applied: {table[key]}.")]
    return lines


PASSED: tuple[tuple[str, str], ...] = (
    (
        "a bond option the kernel refuses in the bond's mode (lacp-rate or primary in"
        " balance-rr, arp-interval or packets-per-member in 802.3ad, ...)",
        "the option is not applied; the kernel default stays",
    ),
    (
        "a word the kernel does not know for an option netplan passes through as text"
        " (transmit-hash-policy, ad-select, primary-reselect-policy: none; lacp-rate,"
        " arp-validate, ...), or a time span it cannot read (mii-monitor-interval, up-delay,"
        " down-delay, arp-interval, learn-packet-interval)",
        "the kernel default stays",
    ),
    (
        "a number netplan accepts outside the kernel's range (mtu below 68, gratuitous-arp"
        " above 255, ...)",
        "the value is not applied",
    ),
    (
        "mii-monitor-interval and arp-interval both set",
        "ARP monitoring runs (what the kernel keeps when both are given); mii-monitor-interval"
        " is not applied",
    ),
    ("primary naming an interface that is not a port of the bond", "primary is not applied"),
    (
        "addresses, routes, gateway4 or gateway6 on a bond port",
        "not applied: the port's traffic is the bond's",
    ),
    ("a bond listing itself or another bond as a port", "that port is not enslaved"),
    ("gateway4 or gateway6 next to a default route in routes", "the gateway key is not applied"),
    (
        "a route destination with host bits set, an address prefix followed by other text",
        "applied as the network it names",
    ),
    (
        "a bond or VLAN name longer than 15 characters",
        "not created (the kernel cannot name it); netplan's backends ignore it too",
    ),
    (
        "a match with no name, macaddress or driver; an InfiniBand MAC",
        "the ethernet is not used as a port",
    ),
)


def option_entry(option: opt.BondOption) -> list[str]:
    key, *aliases = option.yaml_keys
    lines = [".TP", f".B {esc(key)}"]
    text = [esc(option.summary[:1].upper() + option.summary[1:]) + "."]
    if aliases:
        text.append("Also spelled " + ", ".join(f"\\fB{esc(a)}\\fR" for a in aliases) + ".")
    if option.scope is opt.Scope.PORT:
        text.append("A mapping from port id to value.")
    text.append(value_text(option))
    default = opt.to_yaml(option, option.default)
    if default not in ("", [], ()):
        shown = "true" if default is True else "false" if default is False else str(default)
        text.append(f"Kernel default: {esc(shown)}.")
    if option.modes != opt.ALL_MODES:
        modes = ", ".join(sorted(m.value for m in option.modes))
        text.append(f"Modes: {esc(modes)}.")
    restriction = {
        opt.Restriction.LIVE: "",
        opt.Restriction.NEEDS_DOWN: "Changing it takes the bond down briefly.",
        opt.Restriction.NEEDS_NO_PORTS: "Changing it releases the ports and adds them again.",
        opt.Restriction.NEEDS_NO_PORTS_AND_DOWN: "Changing it takes the bond down and"
        " releases the ports.",
    }[option.restriction]
    if restriction:
        text.append(restriction)
    if option.rounded_to:
        text.append(f"Rounded down to a multiple of {esc(option.rounded_to)}.")
    if not option.netplan:
        text.append("(bondd only; netplan lacks it.)")
    text.append(f"Kernel option: {esc(option.kernel_name)}.")
    return [*lines, " ".join(text)]


def value_text(option: opt.BondOption) -> str:
    unit = {opt.Unit.MS: " milliseconds", opt.Unit.S: " seconds", opt.Unit.NONE: ""}[option.unit]
    match option.kind:
        case opt.Kind.ENUM:
            return "One of: " + ", ".join(esc(w) for w in option.values) + "."
        case opt.Kind.BOOL:
            return "true or false."
        case opt.Kind.MAC:
            return "A MAC address."
        case opt.Kind.IPV4_LIST:
            return f"A list of up to {option.max_items or opt.MAX_TARGETS} IPv4 addresses."
        case opt.Kind.IPV6_LIST:
            return f"A list of up to {option.max_items or opt.MAX_TARGETS} IPv6 addresses."
        case opt.Kind.INTERFACE:
            return "A port id of this bond."
        case opt.Kind.INT:
            if unit:
                example = '"2s", "1min"' if option.unit is opt.Unit.S else '"100ms", "1s"'
                return f"A duration in{unit} (a number, or with a unit: {example})."
            if option.minimum is not None and option.maximum is not None:
                return f"A whole number from {option.minimum} to {option.maximum}."
            return "A whole number."
    raise AssertionError(option.kind)


def render_bondd_d() -> str:
    need(NETWORK_DOC, keys.NETWORK_KEYS, "network")
    need(BONDD_DOC, keys.BONDD_KEYS, "bondd")
    need(PROBE_DOC, keys.PROBE_KEYS, "probes")
    need(METRICS_DOC, keys.METRICS_KEYS, "metrics")
    need(COMMON_DOC, keys.APPLIED_COMMON, "keys applied on bonds and vlans")
    need(BOND_DOC, keys.BOND_KEYS - keys.APPLIED_COMMON - keys.OTHERS_COMMON.keys(), "bonds")
    need(VLAN_DOC, keys.VLAN_KEYS - keys.APPLIED_COMMON - keys.OTHERS_COMMON.keys(), "vlans")
    need(
        ETHERNET_DOC,
        keys.ETHERNET_KEYS
        - keys.APPLIED_COMMON
        - keys.OTHERS_COMMON.keys()
        - keys.OTHERS_PHYSICAL.keys(),
        "ethernets",
    )
    need(MATCH_DOC, keys.MATCH_KEYS, "match")
    need(ADDRESS_OPTION_DOC, keys.ADDRESS_OPTION_KEYS, "address options")
    need(ROUTE_DOC, keys.ROUTE_KEYS_APPLIED, "routes")
    settable = [o for o in opt.OPTIONS if o.yaml_keys]
    bond_options = [o for o in settable if o.scope is opt.Scope.BOND]
    port_options = [o for o in settable if o.scope is opt.Scope.PORT]
    not_settable = [o.kernel_name for o in opt.OPTIONS if not o.yaml_keys]
    lines = [
        ".\\\" Generated by packaging/man/gen_bondd_d.py from bondd's option table. Do not edit.",
        '.TH BONDD.D 5 "" "bondd" "File Formats"',
        ".SH NAME",
        "bondd.d \\- bondd configuration: bonds, ports and VLANs in netplan\\-style YAML",
        ".SH SYNOPSIS",
        "\\fI/etc/bondd.d/*.yaml\\fR, \\fI/run/bondd.d/*.yaml\\fR",
        ".SH DESCRIPTION",
        "bondd reads every \\fI*.yaml\\fR file of \\fI/etc/bondd.d\\fR and \\fI/run/bondd.d\\fR"
        " the way netplan reads its directories: a file in \\fI/run/bondd.d\\fR shadows the"
        " file of the same name in \\fI/etc/bondd.d\\fR; the others are read in lexical order"
        " of their names, later files amending earlier ones.",
        ".PP",
        "The syntax is netplan's version 2 for \\fBethernets\\fR, \\fBbonds\\fR and"
        " \\fBvlans\\fR, so an existing netplan bond stanza works as it is, plus a top\\-level"
        " \\fBbondd\\fR section. Every key netplan accepts there is accepted: what bondd"
        " implements is applied, what it leaves to others is reported once as a note saying"
        " who handles it. A key neither netplan nor bondd knows is an error, and so is a"
        " device kind bondd does not manage. One invalid file means nothing is applied;"
        " every error names the file, line and column.",
        ".PP",
        "\\fBbondctl validate\\fR checks the files; \\fBbondctl plan\\fR shows what applying"
        " them would change.",
        ".SH TOP LEVEL",
        ".TP",
        ".B network",
        "netplan's section (keys below).",
        ".TP",
        ".B bondd",
        "bondd's own settings (see \\fBTHE BONDD SECTION\\fR).",
        ".SH NETWORK",
        *key_list(NETWORK_DOC, keys.NETWORK_KEYS),
        ".SH ETHERNETS",
        "Keys of an entry under \\fBethernets\\fR:",
        *key_list(ETHERNET_DOC, ETHERNET_DOC),
        ".PP",
        "A port of a bond cannot carry "
        + ", ".join(f"\\fB{k}\\fR" for k in PORT_FORBIDDEN)
        + " (they belong on the bond: a warning, and they are not applied); \\fBmtu\\fR and"
        " \\fBmacaddress\\fR are"
        " accepted with a warning, because the bond sets them on its ports. An ethernet"
        " that is no bond's port is left alone.",
        ".PP",
        "Keys of \\fBmatch\\fR:",
        *key_list(MATCH_DOC, keys.MATCH_KEYS),
        ".SH BONDS",
        "Keys of an entry under \\fBbonds\\fR:",
        *key_list(BOND_DOC, BOND_DOC),
        *key_list(COMMON_DOC, keys.APPLIED_COMMON),
        ".PP",
        "Keys of an item of \\fBaddresses\\fR given as a mapping:",
        *key_list(ADDRESS_OPTION_DOC, keys.ADDRESS_OPTION_KEYS),
        ".PP",
        "Keys of an item of \\fBroutes\\fR:",
        *key_list(ROUTE_DOC, keys.ROUTE_KEYS_APPLIED),
        ".PP",
        "Accepted on routes and left to your renderer: "
        + ", ".join(f"\\fB{esc(k)}\\fR" for k in sorted(keys.ROUTE_KEYS_OTHERS))
        + ".",
        ".SH BOND PARAMETERS",
        "Keys of \\fBparameters\\fR: every kernel bonding option, under netplan's name where"
        " netplan has one. Durations are milliseconds unless stated. An option a bond's file"
        " does not set is held at the kernel default on bonds bondd created. Not settable: "
        + ", ".join(esc(n) for n in not_settable)
        + " (run\\-time state).",
        *[line for o in bond_options for line in option_entry(o)],
        ".SS Per\\-port parameters",
        *[line for o in port_options for line in option_entry(o)],
        ".SH VLANS",
        "Keys of an entry under \\fBvlans\\fR:",
        *key_list(VLAN_DOC, VLAN_DOC),
        *key_list(COMMON_DOC, keys.APPLIED_COMMON),
        ".SH THE BONDD SECTION",
        *key_list(BONDD_DOC, keys.BONDD_KEYS),
        ".PP",
        "Keys of a probe:",
        *key_list(PROBE_DOC, keys.PROBE_KEYS),
        ".PP",
        "Keys of \\fBmetrics\\fR:",
        *key_list(METRICS_DOC, keys.METRICS_KEYS),
        ".SH KEYS LEFT TO OTHERS",
        "Accepted on ethernets, bonds and vlans, checked as netplan 0.106 checks them (a file"
        " netplan refuses is refused), reported once as a note:",
        *others(keys.OTHERS_COMMON, grammar.COMMON),
        ".PP",
        "Accepted on ethernets only, checked the same way, reported once as a note:",
        *others(keys.OTHERS_PHYSICAL, grammar.PHYSICAL),
        ".PP",
        "The renderer's own refusals are checked too, for the renderer a definition gets"
        " (its \\fBrenderer\\fR, its section's, the file's, else networkd): networkd refuses"
        " ipv6\\-address\\-generation stable\\-privacy and dhcp4\\-overrides that differ from"
        " dhcp6\\-overrides when both DHCPs are on; NetworkManager refuses match by driver,"
        " ipv6\\-mtu, activation\\-mode off and address options.",
        ".SH VALUES",
        "Every scalar is read as the text written and typed by its key, as netplan does:"
        " booleans are true/false, yes/no, on/off, y/n in any case, quoted or not; numbers"
        " are base\\-10 digits, quoted or not (no 0x, no underscores, no YAML 1.1 base\\-60:"
        " 52:54:00:12:34:56 is a MAC). A key repeated in one mapping is read again: mappings"
        " merge, the last scalar wins. Only the first YAML document of a file is read."
        " \\fB<<\\fR is an ordinary key. An empty value where a mapping or list is wanted is"
        " an error (write \\fB{}\\fR or \\fB[]\\fR). References (ports, \\fBlink\\fR,"
        " \\fBprimary\\fR) must name an interface defined in the same file or an earlier one.",
        ".SH VALUES NETPLAN PASSES",
        "netplan accepts these, so the file stays valid; bondd applies the rest and says in"
        " one warning what it does instead (an error with \\fBbondd: {strict: true}\\fR or"
        " \\fBbondctl \\-\\-strict\\fR):",
        *[line for what, instead in PASSED for line in (".TP", esc(what), esc(instead) + ".")],
        ".SH DEVICE KINDS NOT MANAGED",
        "These sections of \\fBnetwork\\fR are errors in a bondd file: "
        + ", ".join(f"\\fB{esc(k)}\\fR" for k in sorted(keys.UNMANAGED_KINDS))
        + ".",
        *moving_in(),
        ".SH EXAMPLE",
        ".EX",
        *[esc(line) if line else "" for line in EXAMPLE.splitlines()],
        ".EE",
        ".SH FILES",
        ".TP",
        ".I /etc/bondd.d/",
        "The administrator's configuration.",
        ".TP",
        ".I /run/bondd.d/",
        "Run\\-time configuration; shadows files of the same name in \\fI/etc/bondd.d\\fR.",
        ".TP",
        ".I /usr/share/doc/bondd/examples/",
        "A commented example.",
        ".SH SEE ALSO",
        ".BR bondd (8),",
        ".BR bondctl (8),",
        ".BR netplan (5)",
        "",
    ]
    return "\n".join(lines)


def moving_in() -> list[str]:
    """The "MOVING IN" section: import and takeover per source, from the importers' own tables."""
    sources = [
        (
            "networkmanager",
            "/etc/NetworkManager/system\\-connections",
            "profiles of type bond, their ports by \\fBcontroller=\\fR or \\fBmaster=\\fR"
            " (interface name, id or UUID) with \\fBport\\-type=\\fR or"
            " \\fBslave\\-type=bond\\fR, matched by interface\\-name or"
            " \\fBethernet.mac\\-address\\fR; every \\fB[bond]\\fR key; \\fB[ipv4]\\fR and"
            " \\fB[ipv6]\\fR addresses, gateway and routes with \\fBmethod=manual\\fR,"
            " route\\-metric (default 300 on a bond, 400 on a VLAN, written out);"
            " \\fBethernet.mtu\\fR, \\fBcloned\\-mac\\-address\\fR; type vlan profiles"
            " whose parent is the bond.",
        ),
        (
            "networkd",
            "/etc/systemd/network, /run/systemd/network, /usr/lib/systemd/network",
            "\\fB.netdev\\fR with \\fBKind=bond\\fR and its \\fB[Bond]\\fR keys ("
            + ", ".join(f"{k}=" for k in networkd.BOND_KEYS)
            + "); ports by \\fBBond=\\fR in their \\fB.network\\fR ([Match] Name=,"
            " MACAddress=, PermanentMACAddress=), \\fBPrimarySlave=\\fR; the bond's"
            " Address=, Gateway=, [Route], [Link] MTUBytes= and MACAddress=, VLAN=."
            " Times follow systemd.time(7). MIIMonitorSec= unset or 0 is written as 100:"
            " networkd never sends a zero, so the kernel keeps its default.",
        ),
        (
            "ifupdown",
            "/etc/network/interfaces and what it sources",
            "iface stanzas with \\fBbond\\-slaves\\fR, \\fBbond\\-ports\\fR or"
            " \\fBbond\\-members\\fR (or ports naming it by \\fBbond\\-master\\fR); every"
            " \\fBbond\\-OPTION\\fR as the kernel option of that name; inet and inet6 static"
            " address, netmask, gateway, metric, mtu, hwaddress; VLANs named BOND.ID or with"
            " vlan\\-raw\\-device.",
        ),
        (
            "ifcfg",
            "/etc/sysconfig/network\\-scripts",
            "TYPE=Bond or BONDING_MASTER=yes, BONDING_OPTS quoted or not (numbers or names);"
            " ports by MASTER= or MASTER_UUID= with DEVICE= and HWADDR=; IPADDRn, PREFIXn or"
            " NETMASKn, GATEWAY, IPV6ADDR, IPV6ADDR_SECONDARIES, IPV6_DEFAULTGW, MTU, MACADDR,"
            " route\\-DEV files; VLAN=yes on the bond. Routes get NetworkManager's metric"
            " (300 bond, 400 VLAN) unless IPV4_ROUTE_METRIC says otherwise.",
        ),
        (
            "netplan",
            "/etc/netplan, /run/netplan, /lib/netplan",
            "bonds, the ethernets they name and the VLANs on them, read by bondd's own loader;"
            " takeover is refused (netplan rewrites its backend's files at every boot).",
        ),
    ]
    lines = [
        ".SH MOVING IN",
        "\\fBbondctl import \\-\\-from\\fR \\fISOURCE\\fR [\\fIPATH\\fR...] prints the"
        " bonds another tool configured as a file for this directory, every line ending with"
        " the FILE:LINE it came from; what bondd does not carry over (DHCP, DNS, commands,"
        " other devices, the active port) is listed as comments with FILE:LINE, and a value"
        " it cannot translate is an error with FILE:LINE.",
        "\\fBbondctl takeover \\-\\-from\\fR \\fISOURCE\\fR adopts them in one transaction"
        " (snapshot, probes, confirm window) that writes"
        " \\fI/etc/bondd.d/60\\-takeover\\-SOURCE.yaml\\fR and makes the other tool let go"
        " of exactly those interfaces; a rollback restores its files byte for byte.",
    ]
    for name, where, what in sources:
        lines += [".TP", f"\\fB{name}\\fR ({where})", what]
    lines += [
        ".PP",
        "Hand\\-over: NetworkManager (and ifcfg) devices are set unmanaged at run time"
        " (\\fBnmcli device set\\fR \\fIIF\\fR \\fBmanaged no\\fR, the bond before its ports),"
        " then get"
        " \\fI/etc/NetworkManager/conf.d/90\\-bondd\\-takeover.conf\\fR with"
        " \\fBunmanaged\\-devices=\\fR and \\fBnmcli general reload\\fR; networkd's files"
        " are renamed to \\fINAME.bondd\\-takeover\\fR; ifupdown's stanzas are commented out"
        " with \\fB#bondd\\-takeover#\\fR."
        " On Debian, NetworkManager's dispatcher runs ifupdown's if\\-post\\-down.d hooks"
        " when it lets go of a device, and ifenslave's hook there deletes the bond: with"
        " both present the takeover is refused (purge ifenslave, which NetworkManager does"
        " not use).",
        "To go back after a commit, remove the takeover file (bonds adopted stay; a bond"
        " bondd made again itself, at a boot after the takeover, is its own and is"
        " deleted), then remove the drop\\-in and reload NetworkManager, rename the"
        " networkd files back and restart systemd\\-networkd, or remove the"
        " \\fB#bondd\\-takeover#\\fR prefixes from /etc/network/interfaces.",
    ]
    return lines


EXAMPLE = """\
network:
  version: 2
  ethernets:
    eno1: {}
    uplink-b:
      match: {macaddress: "52:54:00:12:34:02"}
  bonds:
    bond0:
      interfaces: [eno1, uplink-b]
      parameters:
        mode: active-backup
        mii-monitor-interval: 100
        primary: eno1
      addresses: [192.168.10.20/24]
      routes: [{to: default, via: 192.168.10.1}]
bondd:
  probes:
    - {type: ping, target: 192.168.10.1}
"""


# --- bondctl(8) and its bash completion, from the argparse parser ----------------

GLOBAL_DESTS = frozenset(
    {"config_dir_before", "config_dir_after", "state_dir", "run_dir", "debug", "json", "help"}
)


def _commands() -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of each bondctl subcommand, in --help order."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {action.dest: action.help or "" for action in sub._choices_actions}
    return [(name, helps.get(name, ""), p) for name, p in sub.choices.items()]


def _global_actions() -> list[argparse.Action]:
    return [
        a for a in build_parser()._actions if a.option_strings and a.dest not in ("help", "command")
    ]


def _own_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.dest not in GLOBAL_DESTS]


def _synopsis(action: argparse.Action) -> str:
    if action.option_strings:
        name = ", ".join(f"\\fB{esc(s)}\\fR" for s in action.option_strings)
        if action.nargs == 0:
            return name
        return f"{name} \\fI{esc(str(action.metavar or action.dest.upper()))}\\fR"
    metavar = f"\\fI{esc(str(action.metavar or action.dest.upper()))}\\fR"
    return {"?": f"[{metavar}]", "*": f"[{metavar}...]", "+": f"{metavar}..."}.get(
        str(action.nargs), metavar
    )


def _usage(action: argparse.Action) -> str:
    """The short form for a command's synopsis line: options in brackets."""
    if not action.option_strings:
        return _synopsis(action)
    name = f"\\fB{esc(action.option_strings[0])}\\fR"
    if action.nargs == 0:
        return f"[{name}]"
    return f"[{name} \\fI{esc(str(action.metavar or action.dest.upper()))}\\fR]"


def _help_text(action: argparse.Action) -> str:
    text = (action.help or "").replace("%(default)s", str(action.default))
    return esc(text[:1].upper() + text[1:]) + ("." if text and not text.endswith(".") else "")


def _paragraphs(text: str) -> list[str]:
    out: list[str] = []
    for block in text.strip().split("\n\n"):
        out += [".PP", esc(" ".join(block.split()))]
    return out[1:] if out else []


def render_bondctl() -> str:
    lines = [
        ".\\\" Generated by packaging/generate.py from bondctl's argument parser. Do not edit.",
        '.TH BONDCTL 8 "" "bondd" "System Administration"',
        ".SH NAME",
        "bondctl \\- validate, plan and apply bondd's bonding configuration",
        ".SH SYNOPSIS",
        ".B bondctl",
        "[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]",
        ".SH DESCRIPTION",
        "\\fBbondctl\\fR is the administrator's tool for \\fBbondd\\fR(8): it checks the"
        " YAML files under \\fI/etc/bondd.d\\fR (see \\fBbondd.d\\fR(5)), shows what applying"
        " them would change, applies them as a transaction with an optional confirm window,"
        " and shows the bonds as the kernel has them. It works with or without the daemon"
        " running; transactions of both are serialised by one lock.",
        ".SH GLOBAL OPTIONS",
        "Accepted before or after the command.",
    ]
    for action in _global_actions():
        lines += [".TP", _synopsis(action), _help_text(action)]
    lines.append(".SH COMMANDS")
    for name, summary, parser in _commands():
        own = _own_actions(parser)
        lines += [
            ".SS " + " ".join([f"\\fB{esc(name)}\\fR", *(_usage(a) for a in own)]),
            esc(summary[:1].upper() + summary[1:]) + ".",
        ]
        if parser.description:
            lines += [".PP", *_paragraphs(parser.description)]
        for action in own:
            if action.help:
                lines += [".TP", _synopsis(action), _help_text(action)]
    lines += [
        ".SH THE DEAD-MAN TIMER",
        "Every transaction, whoever runs it (\\fBbondctl apply\\fR without a daemon, the"
        " daemon, a rollback), first starts a guard process and waits until it is armed;"
        " only then is anything written. The guard runs in a session of its own (where"
        " systemd is PID 1, in a transient unit \\fIbondd\\-guard\\-TXN.service\\fR of its own)"
        " and is named in the pending record with the process running the transaction"
        " (PID, start time and boot id, so a reused PID is never taken for it).",
        " The daemon does not wait for a new process: it keeps one guard started ahead"
        " (a spare, past its start-up, in its own unit or session too) and hands it the"
        " transaction over a socket in the state directory that only the daemon may use;"
        " a spare that is gone is replaced, and that transaction starts its own guard.",
        ".PP",
        "If the process running the transaction dies while applying, verifying, probing or"
        " waiting for the LACP gate (SIGKILL included), the guard sees it at once (it waits"
        " on a pidfd, and re-reads the record every 0.25 s) and rolls back: the host is on"
        " its old state within 10 s of the death (the rollback itself takes most of that;"
        " measured in the lab: see bench/RESULTS.md). A process that hangs is killed and"
        " rolled back 600 s after the change began. In the confirm window the guard rolls"
        " back at the deadline, whether or not \\fBbondctl\\fR and its terminal are still"
        " there.",
        ".PP",
        "SIGHUP (a dying SSH session), SIGTERM and SIGINT to \\fBbondctl apply\\fR during"
        " the transaction or its confirm window roll it back at once; bondctl prints why,"
        " logs it to the journal and exits 3.",
        ".SH EXIT STATUS",
        "0 on success; 2 for a usage error (and, with \\fBplan \\-\\-detailed\\-exitcode\\fR,"
        " for pending changes); 3 when a transaction was rolled back; 65 for an invalid"
        " configuration; 66 when a directory named with \\-\\-config\\-dir is missing; 75 when"
        " another transaction is in progress; 70 for an internal error; 1 for other"
        " errors.",
        ".SH FILES",
        ".TP",
        ".I /etc/bondd.d/",
        "The configuration, see \\fBbondd.d\\fR(5).",
        ".TP",
        ".I /var/lib/bondd/",
        "Committed configuration, ownership records and the pending transaction.",
        ".TP",
        ".I /run/bondd/control.sock",
        "The daemon's control socket.",
        ".SH EXAMPLES",
        ".EX",
        "bondctl validate",
        "bondctl plan",
        "bondctl apply \\-\\-confirm\\-timeout 60 /root/bond0.yaml",
        "bondctl confirm",
        "bondctl status bond0",
        "bondctl show > /etc/bondd.d/10\\-imported.yaml",
        ".EE",
        ".SH SEE ALSO",
        ".BR bondd (8),",
        ".BR bondd.d (5)",
        "",
    ]
    return "\n".join(lines)


def render_completion() -> str:
    commands = _commands()
    global_opts = sorted(s for a in _global_actions() for s in a.option_strings)
    names = " ".join(name for name, _, _ in commands)
    cases: list[str] = []
    for name, _summary, parser in commands:
        opts = sorted(s for a in parser._actions if a.dest != "help" for s in a.option_strings)
        positionals = [a for a in _own_actions(parser) if not a.option_strings]
        args = (
            "bonds"
            if any(a.metavar == "BOND" for a in positionals)
            else ("files" if any(a.metavar == "FILE" for a in positionals) else "none")
        )
        cases.append(f'        {name}) opts="{" ".join(opts)}"; args={args} ;;')
    dir_opts = sorted(s for a in _global_actions() if a.metavar == "DIR" for s in a.option_strings)
    value_opts = sorted(
        s
        for _name, _summary, parser in commands
        for a in _own_actions(parser)
        if a.option_strings and a.nargs != 0
        for s in a.option_strings
    )
    return "\n".join(
        [
            "# bash completion for bondctl -*- shell-script -*-",
            "# Generated by packaging/generate.py from bondctl's argument parser. Do not edit.",
            "",
            "_bondctl_bonds()",
            "{",
            "    local d",
            "    for d in /sys/class/net/*/bonding; do",
            '        [ -d "$d" ] && d=${d%/bonding} && printf "%s\\n" "${d##*/}"',
            "    done",
            "}",
            "",
            "_bondctl()",
            "{",
            "    local cur prev words cword",
            "    _init_completion || return",
            "",
            "    case $prev in",
            f"        {'|'.join(dir_opts)})",
            "            _filedir -d",
            "            return",
            "            ;;",
            f"        {'|'.join(value_opts)})",
            "            return",
            "            ;;",
            "    esac",
            "",
            "    local i command=",
            "    for ((i = 1; i < cword; i++)); do",
            "        case ${words[i]} in",
            f"            {'|'.join(dir_opts)}) ((i++)) ;;",
            "            -*) ;;",
            "            *) command=${words[i]}; break ;;",
            "        esac",
            "    done",
            "",
            f'    local global="{" ".join(global_opts)}"',
            '    if [ -z "$command" ]; then',
            "        if [[ $cur == -* ]]; then",
            '            COMPREPLY=($(compgen -W "$global --help --version" -- "$cur"))',
            "        else",
            f'            COMPREPLY=($(compgen -W "{names}" -- "$cur"))',
            "        fi",
            "        return",
            "    fi",
            "",
            "    local opts args",
            "    case $command in",
            *cases,
            "        *) return ;;",
            "    esac",
            "    if [[ $cur == -* ]]; then",
            '        COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))',
            "        return",
            "    fi",
            "    case $args in",
            '        bonds) COMPREPLY=($(compgen -W "$(_bondctl_bonds)" -- "$cur")) ;;',
            "        files) _filedir '@(yaml|yml)' ;;",
            "    esac",
            "} &&",
            "    complete -F _bondctl bondctl",
            "",
            "# ex: filetype=sh",
            "",
        ]
    )


HERE = Path(__file__).resolve().parent
OUTPUTS = {
    HERE / "man" / "bondd.d.5": render_bondd_d,
    HERE / "man" / "bondctl.8": render_bondctl,
    HERE / "completion" / "bondctl": render_completion,
}


def main(argv: list[str]) -> int:
    check = argv[1:] == ["--check"]
    stale = []
    for path, render in OUTPUTS.items():
        text = render()
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        print(f"{path} is out of date: run python3 packaging/generate.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
