"""`bondctl import`: realistic files of each source -> bondd YAML that validates, with origins."""

from __future__ import annotations

from pathlib import Path

import pytest

from bondd import config, importers
from bondd.cli.main import main
from bondd.importers.model import Imported, SourceError
from bondd.model import BondSpec, DesiredState

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).parent / "import_samples"


def imported(source: str, *paths: Path) -> tuple[Imported, DesiredState, str]:
    found = importers.load(source, list(paths))
    text = importers.render(found, f"bondctl import --from {source}")
    result = config.check_text(text, "<import>")
    assert result.ok, [d.format() for d in result.diagnostics]
    return found, result.state, text


def bond0(state: DesiredState) -> BondSpec:
    bond = state.bond("bond0")
    assert bond is not None
    return bond


def skipped(found: Imported) -> list[str]:
    return [f"{Path(s.at.file).name}:{s.at.line}: {s.what}" for s in found.skipped]


def test_networkmanager_keyfiles_controller_master_uuid_mac_and_vlan() -> None:
    found, state, text = imported("networkmanager", SAMPLES / "networkmanager")
    bond = bond0(state)
    assert dict(bond.options) == {"mode": "active-backup", "miimon": 100, "primary": "eno1"}
    ports = {p.id: p.match for p in bond.ports}
    assert ports["eno1"].name == "eno1"  # controller=bond0, port-type=bond, by name
    assert ports["bond0-port2"].macaddress == "52:54:00:12:34:02"  # master=UUID, by MAC
    assert bond.addresses == ("192.168.10.20/24",)
    (route,) = bond.routes
    assert (route.via, route.metric) == (
        "192.168.10.1",
        300,
    )  # NM's bond metric, as the kernel holds it
    (vlan,) = bond.vlans
    assert (vlan.id, vlan.addresses, vlan.routes[0].metric) == (100, ("10.0.100.5/24",), 400)
    assert "bond0.nmconnection:17: ipv4.dns=192.168.10.1;" in skipped(found)
    assert "bond0.nmconnection:22: ipv6.method=auto" in skipped(found)
    assert any("type wifi" in s for s in skipped(found))
    assert "bond0.nmconnection:12" in text  # every value says where it came from


def test_networkmanager_numeric_mode_and_lacp_rate(tmp_path: Path) -> None:
    (tmp_path / "b.nmconnection").write_text(
        "[connection]\nid=b\ntype=bond\ninterface-name=bond1\n"
        "[bond]\nmode=4\nlacp_rate=1\nxmit_hash_policy=layer3+4\nfail_over_mac=2\n"
    )
    _, state, _ = imported("networkmanager", tmp_path)
    bond = state.bond("bond1")
    assert bond is not None
    assert bond.options["mode"] == "802.3ad"
    assert bond.options["lacp_rate"] == "fast"
    assert bond.options["fail_over_mac"] == "follow"


def test_networkd_bond_ports_by_name_and_permanent_mac_primary_vlan_and_miimon_default() -> None:
    found, state, text = imported("networkd", SAMPLES / "networkd")
    bond = bond0(state)
    assert bond.options["mode"] == "active-backup"
    assert bond.options["updelay"] == 200  # UpDelaySec=0.2s
    assert bond.options["primary"] == "eno1"  # PrimarySlave=yes
    # MIIMonitorSec unset: written explicitly, with the reason beside it.
    assert bond.options["miimon"] == 100
    assert "MIIMonitorSec= unset" in text
    assert {p.match.macaddress for p in bond.ports} == {None, "52:54:00:12:34:02"}
    assert bond.mtu == 9000
    (vlan,) = bond.vlans
    assert vlan.routes[0].metric == 50
    assert "10-bond0.network:7: [Network] DNS=192.168.10.1" in skipped(found)
    assert "90-dhcp.network:1: 90-dhcp.network" in skipped(found)


def test_networkd_bare_number_is_seconds(tmp_path: Path) -> None:
    (tmp_path / "b.netdev").write_text(
        "[NetDev]\nName=bond1\nKind=bond\n[Bond]\nMode=active-backup\nMIIMonitorSec=1\n"
    )
    _, state, _ = imported("networkd", tmp_path)
    bond = state.bond("bond1")
    assert bond is not None
    assert bond.options["miimon"] == 1000


def test_ifupdown_bond_master_ports_netmask_inet6_and_vlan_include() -> None:
    found, state, _ = imported("ifupdown", SAMPLES / "ifupdown" / "interfaces")
    bond = bond0(state)
    assert dict(bond.options) == {
        "mode": "active-backup",  # bond-mode 1
        "miimon": 100,
        "primary": "eno1",
        "downdelay": 200,
    }
    assert [p.id for p in bond.ports] == ["eno1", "eno2"]  # bond-master on each port
    assert set(bond.addresses) == {"192.168.10.20/24", "2001:db8::20/64"}
    assert (bond.routes[0].via, bond.routes[0].on_link) == ("192.168.10.1", True)
    assert [v.name for v in bond.vlans] == ["bond0.100"]  # from `source interfaces.d/*`
    assert "interfaces:21: dns-nameservers 192.168.10.1" in skipped(found)
    assert "interfaces:27: up ip link set bond0 txqueuelen 2000" in skipped(found)
    stanzas = {(c.interface, c.first, c.last) for c in found.claims if not c.whole}
    assert ("bond0", 17, 27) in stanzas and ("bond0", 16, 16) in stanzas  # stanza and its auto line


@pytest.mark.parametrize("words", ["bond-slaves", "bond-ports", "bond-members"])
def test_ifupdown_port_list_spellings(tmp_path: Path, words: str) -> None:
    (tmp_path / "interfaces").write_text(
        f"auto bond1\niface bond1 inet manual\n    {words} eno1 eno2\n"
        "    bond-mode 802.3ad\n    bond-lacp-rate fast\n    bond-xmit-hash-policy layer3+4\n"
    )
    _, state, _ = imported("ifupdown", tmp_path / "interfaces")
    bond = state.bond("bond1")
    assert bond is not None
    assert [p.id for p in bond.ports] == ["eno1", "eno2"]
    assert bond.options["lacp_rate"] == "fast"


def test_ifcfg_rhel8_quoted_bonding_opts_numeric_values_hwaddr_and_route_file() -> None:
    found, state, _ = imported("ifcfg", SAMPLES / "ifcfg-rhel8")
    bond = bond0(state)
    assert dict(bond.options) == {
        "mode": "802.3ad",
        "miimon": 100,
        "lacp_rate": "fast",
        "xmit_hash_policy": "layer3+4",
    }
    eno2 = bond.port("eno2")
    assert eno2 is not None and eno2.match.macaddress == "52:54:00:12:34:02"
    assert {r.to for r in bond.routes} == {"0.0.0.0/0", "10.2.0.0/16"}
    assert "ifcfg-bond0:8: DNS1=192.168.10.1" in skipped(found)


def test_ifcfg_rhel9_unquoted_bonding_opts_master_uuid_netmask_ipv6_and_vlan() -> None:
    _, state, _ = imported("ifcfg", SAMPLES / "ifcfg-rhel9")
    bond = bond0(state)
    assert dict(bond.options) == {"mode": "active-backup"}
    assert [p.id for p in bond.ports] == ["eno1", "eno2"]  # MASTER_UUID= and MASTER=
    assert set(bond.addresses) == {"192.168.10.20/24", "2001:db8::20/64"}
    assert bond.mtu == 9000
    assert [v.id for v in bond.vlans] == [100]


def test_netplan_through_bondds_loader_drops_what_bondd_does_not_carry() -> None:
    found, state, _ = imported("netplan", SAMPLES / "netplan")
    bond = bond0(state)
    assert dict(bond.options) == {"mode": "active-backup", "miimon": 100, "primary": "eno1"}
    assert skipped(found) == [
        "01-netcfg.yaml:3: renderer",
        "01-netcfg.yaml:8: ethernets.eno3",
        "01-netcfg.yaml:13: bonds.bond0.dhcp4",
        "01-netcfg.yaml:22: bonds.bond0.nameservers",
    ]


@pytest.mark.parametrize(
    "case",
    [
        ("ifcfg", "ifcfg-bond1", 'DEVICE=bond1\nTYPE=Bond\nBONDING_OPTS="mode=9"\n', 3),
        ("ifcfg", "ifcfg-bond1", "DEVICE=bond1\nTYPE=Bond\nBONDING_OPTS=miimon=fast\n", 3),
        ("ifupdown", "interfaces", "iface bond1 inet manual\n  bond-slaves a\n  bond-bogus 1\n", 3),
        ("networkd", "b.netdev", "[NetDev]\nName=bond1\nKind=bond\n[Bond]\nMode=fast\n", 5),
        (
            "networkmanager",
            "b.nmconnection",
            "[connection]\ntype=bond\ninterface-name=b\n[bond]\nmiimon=1s\n",
            5,
        ),
    ],
)
def test_untranslatable_value_is_an_error_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: tuple[str, str, str, int]
) -> None:
    source, name, text, line = case
    (tmp_path / name).write_text(text)
    with pytest.raises(SourceError) as caught:
        importers.load(source, [tmp_path])
    assert caught.value.message.startswith(f"{tmp_path / name}:{line}: ")
    assert main(["import", "--from", source, str(tmp_path)]) == 65
    assert f"{tmp_path / name}:{line}:" in capsys.readouterr().err


def test_import_prints_yaml_that_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "--from", "networkd", str(SAMPLES / "networkd")]) == 0
    out = capsys.readouterr().out
    (tmp_path / "50-imported.yaml").write_text(out)
    assert main(["--config-dir", str(tmp_path), "validate"]) == 0


def test_a_named_path_that_is_missing_is_an_error(tmp_path: Path) -> None:
    assert main(["import", "--from", "ifcfg", str(tmp_path / "nope")]) == 65
