"""The option table: every row well formed, every row parses a good value and refuses a bad one."""

from __future__ import annotations

import pytest

from bondd import options as opt
from bondd.config import check_text
from bondd.model import BondMode, OptionValue, Severity

pytestmark = pytest.mark.unit

# kernel name -> (a valid YAML value, its canonical value, an invalid YAML value)
CASES: dict[str, tuple[object, OptionValue, object]] = {
    "mode": ("802.3ad", "802.3ad", "round-robin"),
    "active_slave": ("eno1", "eno1", 7),
    "miimon": ("1s", 1000, -5),
    "updelay": (200, 200, "fast"),
    "downdelay": ("200ms", 200, True),
    "use_carrier": (True, 1, 3),
    "arp_interval": (500, 500, "0.5ms"),
    "arp_ip_target": (["10.0.0.1"], ("10.0.0.1",), ["2001:db8::1"]),
    "arp_validate": ("filter_active", "filter_active", "sometimes"),
    "arp_all_targets": ("all", "all", "most"),
    "primary": ("eno1", "eno1", ""),
    "primary_reselect": ("better", "better", "worse"),
    "fail_over_mac": ("follow", "follow", "lead"),
    "xmit_hash_policy": ("vlan+srcmac", "vlan+srcmac", "layer7"),
    "resend_igmp": (0, 0, 256),
    "num_grat_arp": (255, 255, -1),
    "all_slaves_active": (False, 0, "maybe"),
    "min_links": (2, 2, "two"),
    "lp_interval": ("2s", 2, 0),
    "packets_per_slave": (65535, 65535, 65536),
    "lacp_rate": ("fast", "fast", "rapid"),
    "ad_select": ("count", "count", "random"),
    "ad_actor_sys_prio": (1, 1, 0),
    "ad_user_port_key": (1023, 1023, 1024),
    "ad_actor_system": ("02:00:00:00:00:01", "02:00:00:00:00:01", "02:00:00:00:01"),
    "tlb_dynamic_lb": (False, 0, 1.5),
    "peer_notif_delay": (300000, 300000, 300001),
    "lacp_active": ("off", 0, "sometimes"),
    "arp_missed_max": (255, 255, 0),
    "ns_ip6_target": (["2001:db8::1"], ("2001:db8::1",), ["10.0.0.1"]),
    "coupled_control": (True, 1, None),
    "queue_id": (3, 3, 65536),
    "prio": (-10, -10, "high"),
}


def test_every_row_has_a_case() -> None:
    assert set(CASES) == {o.kernel_name for o in opt.OPTIONS}


def test_rows_are_well_formed() -> None:
    names = [o.kernel_name for o in opt.OPTIONS]
    assert len(names) == len(set(names))
    keys = [(o.scope, k) for o in opt.OPTIONS for k in o.yaml_keys]
    assert len(keys) == len(set(keys))
    for option in opt.OPTIONS:
        assert option.ifla.startswith("IFLA_BOND_")
        assert option.effective_modes <= option.modes, option.kernel_name
        if option.kind in (opt.Kind.ENUM, opt.Kind.BOOL):
            assert option.values, option.kernel_name
            default = option.default
            assert default in option.values or default in option.values.values()
        if option.kind is opt.Kind.INT:
            assert option.minimum is not None and option.maximum is not None
            assert isinstance(option.default, int)
            assert option.minimum <= option.default <= option.maximum
        for key in option.yaml_keys:
            assert key == key.lower() and "_" not in key


@pytest.mark.parametrize("kernel_name", sorted(CASES))
def test_row_parses_a_valid_value(kernel_name: str) -> None:
    good, canonical, _ = CASES[kernel_name]
    assert opt.parse_yaml_value(opt.by_kernel_name(kernel_name), good) == canonical


@pytest.mark.parametrize("kernel_name", sorted(CASES))
def test_row_refuses_an_invalid_value(kernel_name: str) -> None:
    _, _, bad = CASES[kernel_name]
    with pytest.raises(opt.OptionValueError):
        opt.parse_yaml_value(opt.by_kernel_name(kernel_name), bad)


def _mode_for(option: opt.BondOption) -> BondMode:
    for mode in (
        BondMode.ACTIVE_BACKUP,
        BondMode.IEEE_802_3AD,
        BondMode.BALANCE_RR,
        BondMode.BALANCE_TLB,
    ):
        if mode in option.effective_modes:
            return mode
    raise AssertionError(option.kernel_name)


def _yaml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    return f'"{value}"' if isinstance(value, str) else str(value)


@pytest.mark.parametrize(
    "option", [o for o in opt.BOND_OPTIONS if o.yaml_keys], ids=lambda o: o.kernel_name
)
def test_every_yaml_key_goes_through_the_whole_pipeline(option: opt.BondOption) -> None:
    good, canonical, bad = CASES[option.kernel_name]
    mode = _mode_for(option)
    extra = "        arp-ip-targets: [10.0.0.1]\n" if option.kernel_name == "arp_interval" else ""
    if option.kernel_name == "mode":
        extra = ""
    for key in option.yaml_keys:
        text = (
            "network:\n  ethernets: {eno1: {}, eno2: {}}\n  bonds:\n    bond0:\n"
            "      interfaces: [eno1, eno2]\n      parameters:\n"
            + ("" if option.kernel_name == "mode" else f"        mode: {mode}\n")
            + (
                "        mii-monitor-interval: 0\n"
                if option.kernel_name in ("arp_interval", "arp_ip_target", "ns_ip6_target")
                else ""
            )
            + extra
            + f"        {key}: {_yaml_value(good)}\n"
        )
        result = check_text(text)
        errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
        assert not errors, (key, [d.format() for d in errors])
        assert result.state.bonds[0].options[option.kernel_name] == canonical
        bad_text = text.replace(f"{key}: {_yaml_value(good)}", f"{key}: {_yaml_value(bad)}")
        bad_result = check_text(bad_text, strict=True)
        assert not bad_result.ok, key
        assert option.kernel_name not in bad_result.state.bonds[0].options


def test_lookups() -> None:
    assert opt.by_yaml_key("gratuitious-arp") is opt.by_kernel_name("num_grat_arp")
    assert opt.by_yaml_key("all-slaves-active") is opt.by_yaml_key("all-members-active")
    assert opt.by_kernel_name("num_unsol_na") is opt.by_kernel_name("num_grat_arp")
    assert opt.by_yaml_key("port-priority", opt.Scope.PORT) is opt.by_kernel_name("prio")
    assert opt.by_yaml_key("port-priority") is None
    assert opt.by_ifla("IFLA_BOND_MIIMON") is opt.by_kernel_name("miimon")
    assert opt.by_ifla("IFLA_BOND_SLAVE_QUEUE_ID") is opt.by_kernel_name("queue_id")
    assert "mii-monitor-interval" in opt.yaml_keys()


def test_kernel_numbers_match_the_uapi() -> None:
    mode = opt.by_kernel_name("mode")
    assert [opt.to_netlink(mode, m.value) for m in BondMode] == list(range(7))
    xmit = opt.by_kernel_name("xmit_hash_policy")
    assert dict(xmit.values) == {
        "layer2": 0,
        "layer3+4": 1,
        "layer2+3": 2,
        "encap2+3": 3,
        "encap3+4": 4,
        "vlan+srcmac": 5,
    }
    validate = opt.by_kernel_name("arp_validate")
    assert list(validate.values.values()) == list(range(7))
    assert BondMode.IEEE_802_3AD.number == 4
    assert BondMode.from_number(6) is BondMode.BALANCE_ALB


def test_restrictions_follow_bond_options_c() -> None:
    needs_down = {o.kernel_name for o in opt.OPTIONS if o.restriction.needs_down}
    no_ports = {o.kernel_name for o in opt.OPTIONS if o.restriction.needs_no_ports}
    assert needs_down == {
        "mode",
        "lacp_rate",
        "ad_select",
        "ad_user_port_key",
        "tlb_dynamic_lb",
        "lacp_active",
        "coupled_control",
    }
    assert no_ports == {"mode", "fail_over_mac"}


@pytest.mark.parametrize(
    ("kernel_name", "text", "value"),
    [
        ("mode", "active-backup 1", "active-backup"),
        ("miimon", "100\n", 100),
        ("lacp_active", "on 1", 1),
        ("all_slaves_active", "0", 0),
        ("arp_ip_target", "10.0.0.1 10.0.0.2\n", ("10.0.0.1", "10.0.0.2")),
        ("primary", "\n", ""),
        ("ad_actor_system", "02:AA:00:00:00:01", "02:aa:00:00:00:01"),
    ],
)
def test_parse_sysfs(kernel_name: str, text: str, value: OptionValue) -> None:
    assert opt.parse_sysfs(opt.by_kernel_name(kernel_name), text) == value


def test_netlink_round_trip() -> None:
    for option in opt.OPTIONS:
        _, canonical, _ = CASES[option.kernel_name]
        assert opt.from_netlink(option, opt.to_netlink(option, canonical)) == canonical


@pytest.mark.parametrize(
    ("raw", "unit", "expected"),
    [
        (100, opt.Unit.MS, 100),
        ("100", opt.Unit.MS, 100),
        ("100ms", opt.Unit.MS, 100),
        ("1s", opt.Unit.MS, 1000),
        ("1.5s", opt.Unit.MS, 1500),
        ("1min 30s", opt.Unit.MS, 90000),
        ("1s500ms", opt.Unit.MS, 1500),
        (2, opt.Unit.S, 2),
        ("2000ms", opt.Unit.S, 2),
    ],
)
def test_durations(raw: object, unit: opt.Unit, expected: int) -> None:
    assert opt.parse_duration(raw, unit) == expected


@pytest.mark.parametrize("raw", ["", "1.5", "ms", "5 parsecs", "-1", None, True, 1.5, "1500ms x"])
def test_bad_durations(raw: object) -> None:
    with pytest.raises(opt.OptionValueError):
        opt.parse_duration(raw, opt.Unit.MS)


def test_to_yaml_and_defaults() -> None:
    assert opt.to_yaml(opt.by_kernel_name("use_carrier"), 1) is True
    assert opt.to_yaml(opt.by_kernel_name("arp_ip_target"), ("10.0.0.1",)) == ["10.0.0.1"]
    miimon = opt.by_kernel_name("miimon")
    assert opt.default_for(miimon, {}) == 100
    assert opt.default_for(miimon, {"arp_interval": 100}) == 0


def test_openvswitch_modes_are_explained() -> None:
    with pytest.raises(opt.OptionValueError, match="Open vSwitch"):
        opt.parse_yaml_value(opt.by_kernel_name("mode"), "balance-slb")
