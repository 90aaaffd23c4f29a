"""Every option in the table: set from YAML, read back from the kernel, changed, read again."""

from __future__ import annotations

import pytest

from bondd.errors import PlanError
from bondd.model import BondMode
from bondd.options import OPTIONS, BondOption, Kind, by_kernel_name, parse_yaml_value
from tests.kernel.harness import Bondd
from tests.kernel.kernel_view import kernel_text
from tests.lab.netlab import Lab

# kernel name -> (mode, extra parameters, first value, second value), YAML spellings.
CASES: dict[str, tuple[str, str, object, object]] = {
    "mode": ("active-backup", "", "balance-xor", "broadcast"),
    "miimon": ("active-backup", "", 200, 300),
    "updelay": ("active-backup", "mii-monitor-interval: 100", 200, 300),
    "downdelay": ("active-backup", "mii-monitor-interval: 100", 200, 300),
    "use_carrier": ("active-backup", "", False, True),
    "arp_interval": ("active-backup", "arp-ip-targets: [198.51.100.1]", 200, 300),
    "arp_ip_target": (
        "active-backup",
        "arp-interval: 100",
        ["198.51.100.1"],
        ["198.51.100.1", "198.51.100.3"],
    ),
    "arp_validate": (
        "active-backup",
        "arp-interval: 100, arp-ip-targets: [198.51.100.1]",
        "active",
        "all",
    ),
    "arp_all_targets": (
        "active-backup",
        "arp-interval: 100, arp-ip-targets: [198.51.100.1]",
        "all",
        "any",
    ),
    "primary": ("active-backup", "", "p0", "p1"),
    "primary_reselect": ("active-backup", "", "better", "failure"),
    "fail_over_mac": ("active-backup", "", "active", "follow"),
    "xmit_hash_policy": ("balance-xor", "", "layer3+4", "layer2+3"),
    "resend_igmp": ("active-backup", "", 5, 10),
    "num_grat_arp": ("active-backup", "", 5, 10),
    "all_slaves_active": ("active-backup", "", True, False),
    "min_links": ("802.3ad", "", 1, 2),
    "lp_interval": ("balance-tlb", "", 5, 10),
    "packets_per_slave": ("balance-rr", "", 5, 10),
    "lacp_rate": ("802.3ad", "", "fast", "slow"),
    "ad_select": ("802.3ad", "", "bandwidth", "count"),
    "ad_actor_sys_prio": ("802.3ad", "", 100, 200),
    "ad_user_port_key": ("802.3ad", "", 5, 10),
    "ad_actor_system": ("802.3ad", "", "02:00:00:00:00:01", "02:00:00:00:00:02"),
    "tlb_dynamic_lb": ("balance-tlb", "", False, True),
    "peer_notif_delay": ("active-backup", "mii-monitor-interval: 100", 200, 300),
    "lacp_active": ("802.3ad", "", False, True),
    "arp_missed_max": ("active-backup", "arp-interval: 100, arp-ip-targets: [198.51.100.1]", 3, 5),
    "ns_ip6_target": (
        "active-backup",
        "arp-interval: 100",
        ["2001:db8::1"],
        ["2001:db8::1", "2001:db8::2"],
    ),
    "coupled_control": ("802.3ad", "", False, True),
    "queue_id": ("active-backup", "", 1, 2),
    "prio": ("active-backup", "", 10, 20),
}
SETTABLE = [o for o in OPTIONS if o.yaml_keys]


def test_every_settable_option_has_a_kernel_case() -> None:
    assert sorted(o.kernel_name for o in SETTABLE) == sorted(CASES)


def yaml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    return f'"{value}"' if isinstance(value, str) else str(value)


def config(option: BondOption, mode: str, extra: str, value: object) -> str:
    key = option.yaml_key
    if option.scope.value == "port":
        setting = f"{key}: {{p0: {value}}}"
    elif option.kernel_name == "mode":
        setting = ""
        mode = str(value)
    else:
        setting = f"{key}: {yaml_value(value)}"
    params = ", ".join(p for p in (f"mode: {mode}", extra, setting) if p)
    return f"""
network:
  version: 2
  ethernets: {{p0: {{}}, p1: {{}}}}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters: {{{params}}}
"""


def expected_text(option: BondOption, value: object) -> str:
    canonical = parse_yaml_value(option, value)
    if isinstance(canonical, tuple):
        return " ".join(canonical)
    if option.kind is Kind.BOOL and option.kernel_name == "lacp_active":
        return "on" if canonical else "off"
    return str(canonical)


@pytest.mark.parametrize("name", sorted(CASES))
def test_option_is_set_read_back_changed_and_read_back(lab: Lab, bondd: Bondd, name: str) -> None:
    option = by_kernel_name(name)
    mode, extra, first, second = CASES[name]
    lab.cable("p0")
    lab.cable("p1")
    where = "p0" if option.scope.value == "port" else "bond0"
    for value in (first, second):
        try:
            bondd.apply(config(option, mode, extra, value))
        except PlanError as exc:
            # An option this kernel lacks is reported by name, never dropped silently.
            assert f"has no {name} option" in str(exc) or f"per-port {name}" in str(exc)
            print(f"\nLAB-FIGURE option {name}: unsupported by this kernel ({exc})")
            return
        assert kernel_text(option, where) == expected_text(option, value), (name, value)
        assert bondd.plan().empty, f"{name}={value}: second plan not empty"
    if name != "mode":
        assert BondMode(str(bondd.read().bond("bond0").options["mode"])).value == mode  # type: ignore[union-attr]
