"""Every validation rule, with exact text and position for a representative set."""

from __future__ import annotations

import textwrap

import pytest

from bondd.config import CheckResult, check_text
from bondd.config.validate import rounded_delays
from bondd.model import OptionValue, ProbeType, RouteSpec, Severity

pytestmark = pytest.mark.unit

PORTS = "  ethernets: {eno1: {}, eno2: {}}\n"


def run(text: str) -> CheckResult:
    return check_text(textwrap.dedent(text).lstrip("\n"), "t.yaml")


def bond(
    params: str = "", extra: str = "", ports: str = "[eno1, eno2]", *, strict: bool = False
) -> CheckResult:
    """A bond0 over eno1/eno2 with the given parameter lines (no indent needed)."""
    lines = "".join(f"        {line}\n" for line in params.strip().splitlines())
    more = "".join(f"      {line}\n" for line in extra.strip().splitlines())
    return check_text(
        "network:\n" + PORTS + "  bonds:\n    bond0:\n"
        f"      interfaces: {ports}\n      parameters:\n" + (lines or "        {}\n") + more,
        "t.yaml",
        strict=strict,
    )


def lines(result: CheckResult, severity: Severity | None = None) -> list[str]:
    return [d.format() for d in result.diagnostics if severity in (None, d.severity)]


def errors(result: CheckResult) -> list[str]:
    return lines(result, Severity.ERROR)


def test_design_example_is_valid() -> None:
    result = run("""
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
                primary-reselect-policy: always
              addresses: [192.168.10.20/24]
              routes: [{to: default, via: 192.168.10.1}]
              mtu: 9000
          vlans:
            bond0.100: {id: 100, link: bond0, addresses: [10.0.100.5/24]}
        bondd:
          apply-on-change: true
          lacp-gate: true
          probes:
            - {type: ping, target: 192.168.10.1}
            - {type: arp, target: 192.168.10.1, via: bond0}
            - {type: tcp, target: 192.168.10.5, port: 22, timeout: 10}
    """)
    assert lines(result) == []
    [b] = result.state.bonds
    assert b.ports[1].match.macaddress == "52:54:00:12:34:02"
    assert b.routes == (RouteSpec(to="0.0.0.0/0", via="192.168.10.1"),)
    assert b.vlans[0].id == 100
    assert [p.type for p in result.state.settings.probes] == [
        ProbeType.PING,
        ProbeType.ARP,
        ProbeType.TCP,
    ]
    assert result.state.settings.probes[2].timeout == 10.0


def test_unknown_key_with_nearest_hint() -> None:
    assert errors(bond("mode: 802.3ad\ntransmit-hash-polcy: layer3+4")) == [
        "t.yaml:8:9: error: unknown key `transmit-hash-polcy` in parameters of bond0"
        " (did you mean `transmit-hash-policy`?)"
    ]


def test_unknown_key_without_a_close_match() -> None:
    assert errors(bond(extra="frobnicate: 1")) == [
        "t.yaml:8:7: error: unknown key `frobnicate` in bond bond0"
    ]


def test_wrong_type_and_range() -> None:
    # netplan passes any text to the renderer here: bondd warns and keeps the default.
    result = bond("mii-monitor-interval: fast")
    assert errors(result) == []
    assert lines(result, Severity.WARNING) == [
        "t.yaml:7:31: warning: mii-monitor-interval of bond0 is not applied: 'fast' is not a"
        " time span; bond0 keeps the kernel default 100"
        ' (write milliseconds, e.g. 100 or "100ms" or "1s")'
    ]
    assert errors(bond("mode: balance-rr\npackets-per-member: 70000", strict=True)) == [
        "t.yaml:8:29: error: packets-per-member of bond0 is not applied: packets-per-member"
        " must be between 0 and 65535, got 70000; bond0 keeps the kernel default 1"
        " (use a value from 0 to 65535)"
    ]
    assert errors(bond("min-links: 0x2\nup-delay: 9_000")) == [
        "t.yaml:7:20: error: invalid unsigned int value '0x2' for min-links"
        " (use a value from 0 to 2147483647)"
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            "mode: active-backup\nlacp-rate: fast",
            "lacp-rate of bond0 is not applied: the kernel refuses it in mode active-backup",
        ),
        (
            "mode: 802.3ad\narp-interval: 100",
            "arp-interval of bond0 is not applied: the kernel refuses it in mode 802.3ad",
        ),
        (
            "mode: balance-rr\nprimary: eno1",
            "primary of bond0 is not applied: the kernel refuses it in mode balance-rr",
        ),
        ("primary: eno1", "primary of bond0 is not applied: the kernel refuses it in mode"),
    ],
)
def test_option_not_supported_in_mode(params: str, message: str) -> None:
    result = bond(params)
    assert errors(result) == []
    [warning] = [w for w in lines(result, Severity.WARNING) if "not applied" in w]
    assert message in warning
    assert any(message in e for e in errors(bond(params, strict=True)))


def test_option_without_effect_is_a_warning() -> None:
    result = bond("mode: active-backup\ntransmit-hash-policy: layer3+4")
    assert errors(result) == []
    assert lines(result, Severity.WARNING) == [
        "t.yaml:8:31: warning: transmit-hash-policy has no effect in mode active-backup of bond0"
        " (it is used only in balance-xor, 802.3ad, balance-tlb, balance-alb)"
    ]


def test_mii_and_arp_both_set() -> None:
    result = bond(
        "mode: active-backup\nmii-monitor-interval: 100\narp-interval: 200\n"
        "arp-ip-targets: [10.0.0.1]"
    )
    assert errors(result) == []
    assert "miimon" not in result.state.bonds[0].options
    assert any(
        w.startswith("t.yaml:8:31: warning: mii-monitor-interval of bond0 is not applied")
        and "bondd runs ARP monitoring" in w
        for w in lines(result, Severity.WARNING)
    )


def test_arp_without_targets_and_targets_without_arp() -> None:
    result = bond("mode: active-backup\nmii-monitor-interval: 0\narp-interval: 200")
    assert any("has no targets" in w for w in lines(result, Severity.WARNING))
    result = bond("mode: active-backup\narp-ip-targets: [10.0.0.1]")
    assert any("unused without arp-interval" in w for w in lines(result, Severity.WARNING))


def test_delay_not_a_multiple_of_miimon_is_rounded() -> None:
    result = bond("mode: active-backup\nmii-monitor-interval: 100\ndown-delay: 250")
    assert errors(result) == []
    assert lines(result, Severity.WARNING) == [
        "t.yaml:9:21: warning: down-delay 250 ms of bond0 is not a multiple of"
        " mii-monitor-interval (100 ms); the kernel rounds it down to 200 ms (write 200 or 300)"
    ]
    assert result.state.bonds[0].options["downdelay"] == 200


def test_rounding_alone_is_the_kernels_arithmetic() -> None:
    """rounded_delays only rounds: no report, the input unchanged, other options kept."""
    given: dict[str, OptionValue] = {
        "miimon": 100,
        "updelay": 250,
        "downdelay": 300,
        "mode": "active-backup",
    }
    assert rounded_delays(given) == {
        "miimon": 100,
        "updelay": 200,
        "downdelay": 300,
        "mode": "active-backup",
    }
    assert given["updelay"] == 250
    # No MII monitoring (ARP monitoring instead): the kernel keeps the value as written.
    assert rounded_delays({"miimon": 0, "updelay": 250}) == {"miimon": 0, "updelay": 250}


def test_delay_uses_the_default_miimon() -> None:
    result = bond("mode: active-backup\nup-delay: 150")
    assert result.state.bonds[0].options["updelay"] == 100


def test_delay_without_mii_monitoring() -> None:
    result = bond("mode: active-backup\nmii-monitor-interval: 0\nup-delay: 200")
    assert any("no effect without MII monitoring" in w for w in lines(result, Severity.WARNING))


def test_primary_not_a_port() -> None:
    assert errors(bond("mode: active-backup\nprimary: eno9")) == [
        "t.yaml:8:18: error: bond0: interface 'eno9' is not defined"
        " (primary names one of the bond's ports)"
    ]
    result = run("""
        network:
          ethernets: {eno1: {}, eno2: {}}
          bonds: {bond0: {interfaces: [eno1], parameters: {mode: active-backup, primary: eno2}}}
    """)
    assert errors(result) == []
    assert "primary" not in result.state.bonds[0].options


def test_port_in_two_bonds() -> None:
    result = run("""
        network:
          ethernets: {eno1: {}, eno2: {}}
          bonds:
            bond0: {interfaces: [eno1, eno2]}
            bond1: {interfaces: [eno2]}
    """)
    assert errors(result) == [
        "t.yaml:5:26: error: bond1: interface 'eno2' is already assigned to bond bond0"
        " (line 4 of t.yaml)"
        " (a port belongs to one bond; remove it from one of them)"
    ]


def test_two_ids_for_one_device() -> None:
    result = run("""
        network:
          ethernets:
            a: {match: {macaddress: "52:54:00:00:00:01"}}
            b: {match: {macaddress: "52:54:00:00:00:01"}}
          bonds:
            bond0: {interfaces: [a]}
            bond1: {interfaces: [b]}
    """)
    assert any("both select the device 52:54:00:00:00:01" in e for e in errors(result))


def test_bond_as_its_own_port_and_nested_bonds() -> None:
    result = run("""
        network:
          ethernets: {eno1: {}}
          bonds:
            bond0: {interfaces: [bond0, bond1]}
            bond1: {interfaces: [eno1]}
    """)
    assert errors(result) == []
    assert [w for w in lines(result, Severity.WARNING) if "nest" in w] == [
        "t.yaml:4:26: warning: bond0 lists itself as a port; bondd does not nest bonds, so it is"
        " not enslaved (list ethernets or VLANs only)",
        "t.yaml:4:33: warning: bond0 lists the bond bond1 as a port; bondd does not nest bonds,"
        " so it is not enslaved (list ethernets or VLANs only)",
    ]


def test_port_not_defined() -> None:
    assert errors(bond(ports="[eno1, eno3]")) == [
        "t.yaml:5:26: error: bond0: interface 'eno3' is not defined"
        " (add `eno3: {}` under network.ethernets)"
    ]


def test_too_many_arp_targets() -> None:
    targets = ", ".join(f"10.0.0.{i}" for i in range(1, 18))
    [error] = errors(
        bond(
            f"mode: active-backup\nmii-monitor-interval: 0\narp-interval: 100\n"
            f"arp-ip-targets: [{targets}]"
        )
    )
    assert "bond0 has 17 arp-ip-targets; the kernel takes at most 16" in error


@pytest.mark.parametrize("target", ["0.0.0.0", "255.255.255.255", "224.0.0.1"])
def test_bad_arp_target(target: str) -> None:
    [error] = errors(
        bond(
            f"mode: active-backup\nmii-monitor-interval: 0\narp-interval: 100\n"
            f"arp-ip-targets: [{target}]"
        )
    )
    assert f"{target} cannot be an ARP/NS target of bond0" in error


@pytest.mark.parametrize("mac", ["00:00:00:00:00:00", "01:00:5e:00:00:01"])
def test_ad_actor_system_multicast_or_zero(mac: str) -> None:
    assert errors(bond(f'mode: 802.3ad\nad-actor-system: "{mac}"')) == [
        f"t.yaml:8:26: error: ad-actor-system {mac} of bond0 must be a unicast, non-zero MAC"
        " (clear the lowest bit of the first byte, or remove it to use the bond's MAC)"
    ]


def test_duplicate_vlan_ids() -> None:
    result = run("""
        network:
          ethernets: {eno1: {}}
          bonds: {bond0: {interfaces: [eno1]}}
          vlans:
            v1: {id: 10, link: bond0}
            v2: {id: 10, link: bond0}
    """)
    assert errors(result) == [
        "t.yaml:6:14: error: vlans v1 and v2 both use id 10 on bond0"
        " (give each VLAN on a link its own id)"
    ]


def test_addresses_must_be_cidr() -> None:
    assert errors(bond(extra="addresses: [192.168.1.5, 10.0.0.300/8, 2001:db8::1/64]")) == [
        "t.yaml:8:19: error: address '192.168.1.5' of bond bond0 is not in CIDR form"
        " (write it with a prefix length, e.g. 192.168.1.5/24)",
        "t.yaml:8:32: error: malformed address '10.0.0.300/8' of bond bond0"
        " (write address/prefix, e.g. 192.168.1.10/24 or 2001:db8::5/64)",
    ]


def test_gateways_become_default_routes() -> None:
    result = bond(
        extra="addresses: [10.0.0.2/24, 2001:db8::2/64]\ngateway4: 10.0.0.1\ngateway6: 2001:db8::1"
    )
    assert errors(result) == []
    assert result.state.bonds[0].routes == (
        RouteSpec(to="0.0.0.0/0", via="10.0.0.1"),
        RouteSpec(to="::/0", via="2001:db8::1"),
    )


def test_gateway_of_the_wrong_family() -> None:
    [error] = errors(bond(extra="gateway4: 2001:db8::1"))
    assert "gateway4 must be an IPv4 address" in error


def test_routes() -> None:
    result = bond(
        extra="routes:\n  - {to: 10.1.0.0/16, via: 10.0.0.1, metric: 50, table: 7}\n"
        '  - {to: 10.2.0.1/16, via: 10.0.0.1}\n  - {to: "::/0", via: 10.0.0.1}'
    )
    assert errors(result) == [
        "t.yaml:11:29: error: IP family mismatch in route to ::/0: via 10.0.0.1"
        " (give to, via and from in one address family)",
    ]
    assert (
        "t.yaml:10:16: warning: route destination 10.2.0.1/16 has host bits set; bondd installs"
        " it as 10.2.0.0/16 (write 10.2.0.0/16)" in lines(result, Severity.WARNING)
    )
    assert result.state.bonds[0].routes == (
        RouteSpec(to="10.1.0.0/16", via="10.0.0.1", metric=50, table=7),
        RouteSpec(to="10.2.0.0/16", via="10.0.0.1"),
    )


def test_keys_left_to_others_are_noted_once() -> None:
    result = run("""
        network:
          renderer: networkd
          ethernets: {eno1: {dhcp4: false}, eno2: {dhcp4: false, wakeonlan: true}}
          bonds:
            bond0:
              interfaces: [eno1, eno2]
              dhcp4: false
              nameservers: {addresses: [1.1.1.1]}
              critical: true
    """)
    notes = lines(result, Severity.NOTE)
    assert errors(result) == []
    assert notes[0] == (
        "t.yaml:2:3: note: `renderer` is not applied by bondd:"
        " bondd programs the kernel itself; no renderer is involved"
    )
    assert sum("`dhcp4`" in n for n in notes) == 1
    assert any("`nameservers`" in n and "resolver" in n for n in notes)
    assert any("`wakeonlan`" in n for n in notes)
    assert any("`critical`" in n for n in notes)


@pytest.mark.parametrize("kind", ["wifis", "bridges", "tunnels", "vrfs", "modems", "nm-devices"])
def test_unmanaged_device_kinds_are_rejected(kind: str) -> None:
    result = run(f"network:\n  {kind}: {{x: {{}}}}\n")
    assert errors(result) == [
        f"t.yaml:2:3: error: bondd manages bonds, their ports and VLANs; it does not manage"
        f" `{kind}` (move the `{kind}` section to a netplan file in /etc/netplan)"
    ]


def test_layer2_hash_on_lacp_gets_a_hint() -> None:
    result = bond("mode: 802.3ad")
    assert lines(result, Severity.NOTE) == [
        "t.yaml:7:15: note: bond0 is 802.3ad with transmit-hash-policy layer2: all traffic to"
        " one gateway goes through one port"
        " (set transmit-hash-policy: layer3+4 to spread flows over the ports)"
    ]
    assert lines(bond("mode: 802.3ad\ntransmit-hash-policy: layer3+4"), Severity.NOTE) == []


def test_alias_spellings_and_conflicts() -> None:
    result = bond("mode: active-backup\ngratuitious-arp: 3")
    assert result.state.bonds[0].options["num_grat_arp"] == 3
    result = bond("all-slaves-active: true\nall-members-active: false")
    assert result.state.bonds[0].options["all_slaves_active"] == 0
    assert any(
        "`all-members-active` and `all-slaves-active` set the same option" in w
        for w in lines(result, Severity.WARNING)
    )


def test_per_port_options() -> None:
    result = bond("mode: active-backup\nport-priority: {eno1: 10}\nport-queue-id: {eno2: 2}")
    assert errors(result) == []
    ports = {p.id: p for p in result.state.bonds[0].ports}
    assert (ports["eno1"].prio, ports["eno2"].queue_id) == (10, 2)
    [error] = errors(bond("mode: active-backup\nport-priority: {eno7: 10}"))
    assert "port-priority names `eno7`, which is not a port of bond0" in error
    [error] = errors(
        bond("mode: 802.3ad\ntransmit-hash-policy: layer3+4\nport-priority: {eno1: 10}")
    )
    assert "port-priority is not supported in mode 802.3ad" in error


def test_port_with_addresses_is_warned_and_not_applied() -> None:
    text = """
        network:
          ethernets: {eno1: {addresses: [10.0.0.1/24]}}
          bonds: {bond0: {interfaces: [eno1]}}
    """
    expected = (
        "t.yaml:2:22: {}: `addresses` of `eno1` is not applied: eno1 is a port of bond0, and"
        " the kernel keeps a port's traffic on the bond (move `addresses` to the bond bond0)"
    )
    result = run(text)
    assert errors(result) == []
    assert expected.format("warning") in lines(result, Severity.WARNING)
    strict = check_text(textwrap.dedent(text).lstrip("\n"), "t.yaml", strict=True)
    assert errors(strict) == [expected.format("error")]


def test_vlan_on_a_non_bond_is_left_alone() -> None:
    result = run("""
        network:
          ethernets: {eth0: {}}
          vlans: {eth0.5: {id: 5, link: eth0}}
    """)
    assert errors(result) == []
    assert any("not a bond here" in n for n in lines(result, Severity.NOTE))


def test_version_and_top_level() -> None:
    assert errors(run("network: {version: 1}\nbondd: {apply-on-change: yes}\nnetwork2: {}\n")) == [
        "t.yaml:1:20: error: version must be 2, got '1' (only version 2 exists)",
        "t.yaml:3:1: error: unknown key `network2` in the document (did you mean `network`?)",
    ]


def test_bondd_section() -> None:
    result = run("""
        bondd:
          apply-on-change: false
          lacp-gate: "maybe"
          probes:
            - {type: tcp, target: 10.0.0.1}
            - {type: ping, target: 10.0.0.1, port: 22}
            - {type: arp, target: 10.0.0.1}
            - {type: ping, target: nowhere}
            - {type: dns, target: 10.0.0.1}
            - {type: ping, target: 10.0.0.1, timeout: "1500ms", via: bond9}
    """)
    assert not result.state.settings.apply_on_change
    assert errors(result) == [
        "t.yaml:3:14: error: lacp-gate must be true or false, got 'maybe'"
        " (write true or false (yes/no, on/off, y/n also work))",
        "t.yaml:5:7: error: a tcp probe needs `port` (add port: 1-65535)",
        "t.yaml:6:38: error: a ping probe takes no port (remove port, or use type: tcp)",
        "t.yaml:7:7: error: an arp probe needs `via` (the interface to ask on)"
        " (add via: <bond or vlan>)",
        "t.yaml:8:28: error: probe target must be an IP address, got 'nowhere'"
        " (write a single address without /prefix)",
        "t.yaml:9:14: error: probe type must be one of arp, ping, tcp, got 'dns'",
    ]
    assert result.state.settings.probes[-1].timeout == 1.5
    assert any("names no bond or VLAN" in w for w in lines(result, Severity.WARNING))


def test_interface_names() -> None:
    result = run("""
        network:
          ethernets: {eno1: {}}
          bonds: {averyveryverylongbond: {interfaces: [eno1]}}
    """)
    assert errors(result) == []
    assert any("is longer than 15 bytes" in w for w in lines(result, Severity.WARNING))


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("bond%d", "contains '/', ':', '%' or whitespace"),
        ("bo/nd", "contains '/', ':', '%' or whitespace"),
        ("..", "is '.' or '..'"),
        ("bond\\x00", "invalid name"),  # netplan refuses it too
        ("bond\\x1b[2J", "contains a control, formatting or invisible character"),
        ("bond\\u202e0", "contains a control, formatting or invisible character"),
        ("bönd01234567890", "is longer than 15 bytes"),
    ],
)
def test_interface_names_follow_the_kernels_rules(name: str, problem: str) -> None:
    result = run(f"""
        network:
          ethernets: {{eno1: {{}}}}
          bonds: {{"{name}": {{interfaces: [eno1]}}}}
    """)
    # netplan accepts the file; bondd says, at the bond, that it is not created.
    found = errors(result) + lines(result, Severity.WARNING)
    assert any(problem in e or "invalid name" in e for e in found), found
    # The message itself never carries the raw control character.
    assert all(e.isprintable() for e in found)


def test_probe_via_and_ipv6_zone_ids_are_checked() -> None:
    result = run("""
        network:
          ethernets: {eno1: {}}
          bonds: {bond0: {interfaces: [eno1]}}
        bondd:
          probes:
            - {type: arp, target: 192.0.2.1, via: "bond0/../x"}
            - {type: ping, target: "fe80::1%bond0\\nforged"}
            - {type: ping, target: "fe80::1%bond0"}
            - {type: tcp, target: 192.0.2.1, port: 22, timeout: .inf}
            - {type: tcp, target: 192.0.2.1, port: 22, timeout: -1}
            - {type: tcp, target: 192.0.2.1, port: 22, timeout: .nan}
            - {type: tcp, target: 192.0.2.1, port: 22, timeout: "1000000h"}
    """)
    found = errors(result)
    assert any(":6:" in e and "probe via" in e for e in found), found
    assert any(":7:" in e and "zone id that is not an interface name" in e for e in found)
    assert not any(":8:" in e for e in found)
    for line in (9, 10, 11, 12):
        assert any(
            f":{line}:" in e and "probe timeout must be from 0.1 to 300 seconds" in e for e in found
        ), (line, found)


def test_match_forms() -> None:
    result = run("""
        network:
          ethernets:
            a: {match: {name: "enp*s0", driver: [ixgbe, "i40*"]}}
            b: {match: {macaddress: "52:54:00:AA:BB:CC"}}
            c: {match: {}}
            d: {match: {macaddress: "52-54-00-AA-BB-CC"}}
          bonds: {bond0: {interfaces: [a, b]}}
    """)
    ports = result.state.bonds[0].ports
    assert ports[0].match.is_glob and ports[0].match.driver == ("ixgbe", "i40*")
    assert ports[1].match.macaddress == "52:54:00:aa:bb:cc"
    assert errors(result) == [
        "t.yaml:6:29: error: invalid MAC address '52-54-00-AA-BB-CC' in match"
        " (write it as XX:XX:XX:XX:XX:XX)"
    ]


def test_all_errors_are_collected() -> None:
    result = bond(
        "mode: bogus\nmii-monitor-interval: x\nlacp-rate: 7", extra="mtu: 20", strict=True
    )
    assert len(errors(result)) == 4


def test_a_replaced_value_is_still_checked_as_netplan_does() -> None:
    # netplan processes every occurrence of a repeated key: the last value wins,
    # but an invalid earlier one is an error.
    result = bond("mode: bogus\nmode: active-backup")
    assert result.state.bonds[0].options["mode"] == "active-backup"
    assert errors(result) == [
        "t.yaml:7:15: error: unknown bond mode 'bogus' (use one of balance-rr, active-backup,"
        " balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb)"
    ]
    result = bond("mode: active-backup\nmode: 802.3ad\nlacp-rate: fast")
    assert errors(result) == [] and result.state.bonds[0].options["lacp_rate"] == "fast"
