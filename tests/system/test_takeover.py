"""System tier: `bondctl takeover` from the real managers, in the booted Debian 12 guest.

One guest disk, four boots, one manager active at a time, each building the
seed's bond0 (active-backup) and its 802.3ad variant bond1 (lacp_rate fast,
layer3+4; LACP partner: a bond in netns sw): systemd-networkd from
.netdev/.network files (boot 1), ifupdown with ifenslave from
/etc/network/interfaces (boot 2), NetworkManager from the seed's nmcli
profiles (boot 3). Each time bondd imports (validate, plan empty), takes
over with `ip monitor link` showing no event on the bonds or their ports,
the manager is restarted or reloaded and leaves them alone, and the next
boot (the manager still enabled) brings the bonds up by bondd alone and
applies a changed option; then bondd hands the bonds back before the next
manager builds them. Last, netplan with its networkd renderer builds bond0
(boot 4): import, plan empty, takeover refused, and the move-in it names
instead with no link event. The guest scripts are
tests/system/guest/takeover-*.sh.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from tests.system.run import Guest
from tests.system.test_system import BOOT_TIMEOUT, GUEST, RESULTS, Boot, _deb, _parse

# Three boots of one guest: more than the suite-wide 300 s per test.
pytestmark = [pytest.mark.system, pytest.mark.timeout(1800)]

TAKEN_OVER = [
    "made-by-manager",
    "import",
    "import-lists-dns",
    "validate",
    "plan-empty",
    "takeover",
    "no-link-events",
    "still-up-after-manager-restart",
    "converged",
    "adopted",
]
AFTER_REBOOT = [
    "reboot-bond-up",
    "reboot-by-bondd",
    "reboot-yaml-has-miimon",
    "reboot-apply-change",
    "reboot-miimon-50",
]
# The seed's 802.3ad variant (bond1), built by the same manager next to bond0.
LACP_TAKEN_OVER = [
    "lacp-made-by-manager",
    "lacp-settled",
    "lacp-imported",
    "lacp-ping-partner",
]
# netplan: takeover is refused (netplan regenerates its backend's files at
# every boot); the move-in it names instead is checked for link events.
NETPLAN = [
    "made-by-manager",
    "import",
    "import-lists-dns",
    "validate",
    "plan-empty",
    "takeover-refused",
    "takeover-says-what-to-do",
    "refusal-changes-nothing",
    "move-in-apply",
    "no-link-events",
    "still-up-after-networkd-restart",
    "converged",
    "adopted",
    "no-backend-files",
]
CHECKS = {
    "takeover-1": [
        "install",
        *(f"networkd-{c}" for c in TAKEN_OVER),
        "networkd-files-moved-aside",
        *(f"networkd-{c}" for c in LACP_TAKEN_OVER),
        "networkd-lacp-files-moved-aside",
    ],
    "takeover-2": [
        *(f"networkd-{c}" for c in AFTER_REBOOT),
        "networkd-reboot-unmanaged",
        "networkd-reboot-lacp-up",
        "networkd-hand-back-released",
        *(f"ifupdown-{c}" for c in TAKEN_OVER),
        *(f"ifupdown-{c}" for c in LACP_TAKEN_OVER),
        "ifupdown-stanza-commented",
    ],
    "takeover-3": [
        *(f"ifupdown-{c}" for c in AFTER_REBOOT),
        "ifupdown-reboot-lacp-up",
        "ifupdown-hand-back-released",
        "networkmanager-refused-with-ifenslave",
        "networkmanager-refusal-says-purge",
        "networkmanager-refusal-writes-nothing",
        *(f"networkmanager-{c}" for c in TAKEN_OVER),
        *(f"networkmanager-{c}" for c in LACP_TAKEN_OVER),
        "networkmanager-restart-no-link-changes",
        "networkmanager-still-up-after-restart",
        "networkmanager-unmanaged",
    ],
    "takeover-4": [
        *(f"networkmanager-{c}" for c in AFTER_REBOOT),
        "networkmanager-reboot-lacp-up",
        "networkmanager-reboot-unmanaged",
        "networkmanager-hand-back-released",
        *(f"netplan-{c}" for c in NETPLAN),
    ],
}


@pytest.fixture(scope="session")
def takeover_boots() -> Iterator[dict[str, Boot]]:
    if os.geteuid() != 0:
        pytest.fail("the system tier runs as root (overlay mounts, a UML guest)", pytrace=False)
    files = [
        _deb(),
        GUEST / "common.sh",
        GUEST / "takeover-common.sh",
        GUEST / "ports.sh",
        GUEST / "lab-ports.service",
        GUEST / "lacp-partner.sh",
    ]
    out: dict[str, Boot] = {}
    with Guest("takeover") as guest:
        for name in CHECKS:
            out[name] = _parse(name, guest.boot(GUEST / f"{name}.sh", files, BOOT_TIMEOUT))
    measures: dict[str, object] = {k: v for b in out.values() for k, v in b.measures.items()}
    measures.update({f"{b.name}_boot_wall_s": round(b.result.seconds, 1) for b in out.values()})
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "takeover-measures.json").write_text(json.dumps(measures, indent=2) + "\n")
    print(json.dumps(measures, indent=2))
    yield out


@pytest.mark.parametrize(
    ("boot", "check"), [(boot, check) for boot, checks in CHECKS.items() for check in checks]
)
def test_takeover(takeover_boots: dict[str, Boot], boot: str, check: str) -> None:
    found = takeover_boots[boot]
    state = found.checks.get(check)
    assert state is not None, f"the guest never reported {check}\n{found.explain(check)}"
    assert state == "ok", f"{check} failed\n{found.explain(check)}"


@pytest.mark.parametrize("boot", list(CHECKS))
def test_takeover_guest_reported_only_known_checks(
    takeover_boots: dict[str, Boot], boot: str
) -> None:
    found = takeover_boots[boot]
    assert set(found.checks) <= set(CHECKS[boot]), set(found.checks) - set(CHECKS[boot])
    assert found.result.rc in (0, 1), found.explain("guest:")
