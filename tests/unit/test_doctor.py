"""`bondctl doctor`'s judgement and its readers of other tools' files, on fake hosts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bondd import hostconf
from bondd.doctor import HostFacts, PendingFacts, diagnose, exit_code, to_text
from bondd.kernel.hostfacts import bonding_module
from bondd.model import ActualState, BondOptions, BondState, PortState

pytestmark = pytest.mark.unit


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- the bonding module's max_bonds -----------------------------------------------


def test_max_bonds_defaults_to_one_bond_when_nothing_sets_it(tmp_path: Path) -> None:
    assert hostconf.bonding_max_bonds(tmp_path) == hostconf.ModuleSetting(1, None)


def test_max_bonds_from_modprobe_files_later_names_win_and_etc_shadows_lib(
    tmp_path: Path,
) -> None:
    write(tmp_path, "lib/modprobe.d/bondd.conf", "options bonding max_bonds=0\n")
    write(tmp_path, "etc/modprobe.d/bondd.conf", "options bonding max_bonds=2  # local\n")
    write(tmp_path, "usr/lib/modprobe.d/50-other.conf", "options bonding miimon=100\n")
    setting = hostconf.bonding_max_bonds(tmp_path)
    assert setting.max_bonds == 2 and setting.source == str(tmp_path / "etc/modprobe.d/bondd.conf")
    write(tmp_path, "etc/modprobe.d/zz-last.conf", "options bonding mode=1 max_bonds=0\n")
    assert hostconf.bonding_max_bonds(tmp_path).max_bonds == 0


def test_kernel_command_line_overrides_modprobe_files(tmp_path: Path) -> None:
    write(tmp_path, "etc/modprobe.d/bondd.conf", "options bonding max_bonds=0\n")
    setting = hostconf.bonding_max_bonds(tmp_path, {"max_bonds": "1"})
    assert setting == hostconf.ModuleSetting(1, "kernel command line (bonding.max_bonds)")


def test_max_bonds_read_from_a_fake_sysfs_and_cmdline(tmp_path: Path) -> None:
    assert not bonding_module(tmp_path).loaded
    write(tmp_path, "sys/module/bonding/parameters/max_bonds", "1\n")
    write(tmp_path, "proc/cmdline", "root=/dev/sda1 bonding.max_bonds=3 quiet\n")
    module = bonding_module(tmp_path)
    assert module.loaded and module.sysfs_max_bonds == 1
    assert module.cmdline_options == {"max_bonds": "3"}


# --- other agents' files ------------------------------------------------------------------


def test_networkmanager_keyfile_and_ifcfg_naming_a_port(tmp_path: Path) -> None:
    write(
        tmp_path,
        "etc/NetworkManager/system-connections/p0.nmconnection",
        "[connection]\nid=p0\ntype=ethernet\ninterface-name=p0\nmaster=bond0\n",
    )
    write(tmp_path, "etc/sysconfig/network-scripts/ifcfg-p1", 'DEVICE="p1"\nMASTER=bond0\n')
    found = hostconf.networkmanager_files(tmp_path)
    assert set(found) == {"p0", "p1", "bond0"}


def test_networkd_first_matching_network_file_and_netdev(tmp_path: Path) -> None:
    write(
        tmp_path, "usr/lib/systemd/network/80-wifi.network", "[Match]\nWLANInterfaceType=station\n"
    )
    write(
        tmp_path,
        "etc/systemd/network/20-uplinks.network",
        "[Match]\nName=p* !p9\n[Network]\nBond=bond0\n",
    )
    write(
        tmp_path,
        "run/systemd/network/10-netplan-p1.network",
        "[Match]\nMACAddress=02:00:00:00:00:01\n",
    )
    write(tmp_path, "etc/systemd/network/10-bond0.netdev", "[NetDev]\nName=bond0\nKind=bond\n")
    links = [
        hostconf.Link("p0"),
        hostconf.Link("p1", "02:00:00:00:00:01"),
        hostconf.Link("q0"),
    ]
    found = hostconf.networkd_files(tmp_path, links)
    assert found["p0"] == [str(tmp_path / "etc/systemd/network/20-uplinks.network")]
    assert found["p1"] == [str(tmp_path / "run/systemd/network/10-netplan-p1.network")]
    assert "q0" not in found
    assert found["bond0"] == [str(tmp_path / "etc/systemd/network/10-bond0.netdev")]


def test_networkd_runtime_state_per_ifindex(tmp_path: Path) -> None:
    write(tmp_path, "run/systemd/netif/links/7", "ADMIN_STATE=configured\nOPER_STATE=routable\n")
    assert hostconf.networkd_states(tmp_path) == {7: "configured"}


def test_default_link_policy_applies_to_bonds_unless_an_earlier_file_says_none(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "usr/lib/systemd/network/99-default.link",
        "[Match]\nOriginalName=*\n[Link]\nMACAddressPolicy=persistent\n",
    )
    policy = hostconf.bond_mac_policy(tmp_path, "bond0")
    assert policy is not None and policy.policy == "persistent"
    write(
        tmp_path,
        "etc/systemd/network/05-bondd-bonds.link",
        "[Match]\nOriginalName=bond*\n[Link]\nMACAddressPolicy=none\n",
    )
    policy = hostconf.bond_mac_policy(tmp_path, "bond0")
    assert policy is not None and policy.policy == "none"


# --- the judgement --------------------------------------------------------------------


def port(name: str, master: str = "bond1", **kw: object) -> PortState:
    return PortState(name=name, ifindex=int(name[-1]) + 10, master=master, mii_up=True, **kw)  # type: ignore[arg-type]


def bond(name: str, *ports: PortState, **options: object) -> BondState:
    values: dict[str, object] = {"mode": "active-backup", "miimon": 100, "arp_interval": 0}
    values.update(options)
    return BondState(
        name=name,
        ifindex=5,
        ports=ports,
        options=BondOptions(values),  # type: ignore[arg-type]
        addresses=("192.0.2.2/24",),
        up=True,
    )


def facts(*bonds: BondState, **kw: object) -> HostFacts:
    links = tuple(p for b in bonds for p in b.ports)
    return HostFacts(
        actual=ActualState(bonds=bonds, links=links),
        configured_bonds=frozenset({"bond1"}),
        managed=frozenset({"bond1"}),
        **kw,  # type: ignore[arg-type]
    )


def checks(host: HostFacts) -> set[tuple[str, str, str]]:
    return {(f.severity.value, f.check, f.subject) for f in diagnose(host)}


def test_healthy_host_has_no_findings_and_exit_0() -> None:
    host = facts(bond("bond1", port("p0"), port("p1")))
    assert diagnose(host) == [] and exit_code(diagnose(host)) == 0
    assert "healthy" in to_text([])


def test_stray_round_robin_bond_is_a_problem_and_its_module_setting_a_warning() -> None:
    stray = bond("bond0", mode="balance-rr")
    host = facts(bond("bond1", port("p0"), port("p1")), stray, max_bonds=1)
    assert checks(host) == {("problem", "stray-bond", "bond0"), ("warning", "max-bonds", "host")}
    assert exit_code(diagnose(host)) == 2


def test_risky_bond_settings() -> None:
    lacp = bond(
        "bond1", port("p0"), port("p1"), mode="802.3ad", xmit_hash_policy="layer2", miimon=0
    )
    host = facts(lacp, speeds={"p0": 10000, "p1": 1000})
    assert checks(host) == {
        ("problem", "no-monitoring", "bond1"),
        ("warning", "layer2-hash", "bond1"),
        ("warning", "mixed-speed", "bond1"),
    }
    assert checks(facts(bond("bond1", port("p0")))) == {("warning", "single-port", "bond1")}


def test_address_on_a_port_is_a_problem() -> None:
    host = facts(bond("bond1", port("p0", addresses=("192.0.2.2/24",)), port("p1")))
    [finding] = diagnose(host)
    assert (finding.check, finding.subject) == ("port-address", "p0")
    assert "same address as bond1" in finding.message


def test_other_agents_managing_bondd_interfaces() -> None:
    host = facts(
        bond("bond1", port("p0"), port("p1")),
        nm_files={"p0": ["/etc/NetworkManager/system-connections/p0.nmconnection"]},
        nm_running=True,
        networkd_files={"p1": ["/etc/systemd/network/20-p1.network"]},
        networkd_states={"p1": "configured"},
        mac_policy={"bond1": ("persistent", "/usr/lib/systemd/network/99-default.link")},
    )
    assert checks(host) == {
        ("problem", "networkmanager", "p0"),
        ("problem", "networkd", "p1"),
        ("warning", "mac-policy", "bond1"),
    }


def test_pending_transaction_waiting_is_a_warning_abandoned_is_a_problem() -> None:
    base = bond("bond1", port("p0"), port("p1"))
    waiting = PendingFacts("abc", "waiting", deadline=2000.0, process_alive=True)
    assert checks(facts(base, pending=waiting, now=1000.0)) == {("warning", "pending", "host")}
    late = PendingFacts("abc", "waiting", deadline=500.0, process_alive=False)
    assert checks(facts(base, pending=late, now=1000.0)) == {("problem", "pending", "host")}
