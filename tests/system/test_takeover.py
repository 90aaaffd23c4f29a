"""System tier: `bondctl takeover` from the real managers, in the booted Debian 12 guest.

One guest disk, three boots, one manager active at a time: systemd-networkd
builds the seed's bond0 from .netdev/.network files (boot 1), ifupdown with
ifenslave from /etc/network/interfaces (boot 2). Each time bondd imports
(validate, plan empty), takes over with `ip monitor link` showing no event
on the bond or its ports, the manager is restarted and leaves them alone,
and the next boot (the manager still enabled) brings the bond up by bondd
alone and applies a changed option. The guest scripts are
tests/system/guest/takeover-*.sh. NetworkManager is not here yet: in this
guest it never settled the seed's bond on the veth ports (a port stayed in
"getting IP configuration" and was re-enslaved), so its hand-over is proven
in the unit tier only.
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
CHECKS = {
    "takeover-1": [
        "install",
        *(f"networkd-{c}" for c in TAKEN_OVER),
        "networkd-files-moved-aside",
    ],
    "takeover-2": [
        *(f"networkd-{c}" for c in AFTER_REBOOT),
        "networkd-reboot-unmanaged",
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
