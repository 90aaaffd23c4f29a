"""System tier: the .deb installed in a booted Debian 12 with systemd as PID 1.

Two boots of one guest disk (tests/system/run.py), each running a guest
script that prints `CHECK ok|FAIL NAME` lines: the first boot installs the
package and proves the service (start, status, journal fields, reload,
restart without link events, watchdog); the second is a reboot of the same
disk (bonds before network-online.target) followed by the package's life
cycle (upgrade, remove, reinstall, purge). Every check is one test here;
a check the guest never reported fails too. Results, the guest's output and
its journal are kept in .lab/system/results/.

The package under test is $BONDD_DEB, or one built by packaging/build-deb.sh.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.system.run import REPO, BootResult, Guest

# A guest boot waits on the guest's own deadline (tests/system/run.py); pytest's
# 300 s default would cut a boot short on a loaded machine (the fleet's lab runs
# beside this tier in CI).
pytestmark = [pytest.mark.system, pytest.mark.timeout(1500)]

GUEST = REPO / "tests" / "system" / "guest"
RESULTS = REPO / ".lab" / "system" / "results"
BOOT_TIMEOUT = 420.0

SERVICE_CHECKS = {
    "dpkg-install": "dpkg -i of the built .deb succeeds (and waits for READY=1)",
    "enabled": "bondd.service is enabled on installation",
    "active": "bondd.service is active after installation",
    "status-text": "StatusText says how many bonds are converged",
    "watchdog-usec": "WatchdogUSec is the unit's 30s",
    "no-restarts": "NRestarts is 0",
    "type-notify": "the service is Type=notify",
    "unit-verify": "systemd-analyze verify bondd.service prints nothing",
    "exposure-at-most-2": "systemd-analyze security rates the unit 2.0 or lower",
    "files-installed": "binaries, /etc/bondd.d, modprobe conffile, example, completion, man",
    "version": "bondctl --version matches the package version",
    "bond-created": "dropping the active-backup YAML into /etc/bondd.d creates bond0",
    "bond-active-backup": "/proc/net/bonding/bond0 shows active-backup",
    "bond-miimon-100": "/proc/net/bonding/bond0 shows miimon 100",
    "bond-primary-p0": "/proc/net/bonding/bond0 shows primary p0",
    "bond-address": "bond0 has its address",
    "ping-gateway": "the gateway answers through bond0",
    "journal-applied": "journalctl -u bondd shows BONDD_EVENT=applied with BONDD_BOND=bond0",
    "journal-txn-field": "the applied event carries BONDD_TXN",
    "bondctl-status": "bondctl status works with Debian's pyroute2",
    "bondctl-plan-converged": "bondctl plan --detailed-exitcode finds nothing to do",
    "completion-bond-names": "bash completion offers the live bond for bondctl status",
    "metrics-textfile": "the service writes bondd.prom into node_exporter's directory",
    "metrics-mode-644": "bondd.prom is readable by node_exporter's user despite UMask=0077",
    "reload-needed": "a change behind a symlink is not picked up without a reload",
    "reload-command": "systemctl reload bondd succeeds",
    "reload-applies": "systemctl reload bondd applies the changed file",
    "reload-sysfs-option": "an option bondd writes through sysfs works under the hardening",
    "reload-same-pid": "a reload keeps the daemon's process",
    "journal-reload": "the reload is logged as BONDD_EVENT=reload",
    "restart-command": "systemctl restart bondd succeeds",
    "restart-no-link-events": "a restart leaves the converged bond and its ports untouched",
    "restart-active": "bondd is active after the restart",
    "restart-kept-options": "the bond keeps its options across the restart",
    "window-apply": "bondctl apply --confirm-timeout --no-wait through the daemon succeeds",
    "window-applied": "the change is in the kernel while it waits for confirmation",
    "window-guard-unit": "the waiting change's guard runs as a bondd-guard-* systemd unit",
    "window-guard-other-cgroup": "that guard is not in bondd.service's cgroup",
    "window-stop": "systemctl stop bondd succeeds in the confirm window",
    "window-guard-outlives-stop": "the guard's unit is still active after bondd.service stopped",
    "window-still-waiting": "stopping the daemon did not roll back before the deadline",
    "window-guard-rolls-back": "the guard alone rolls the change back at the deadline",
    "window-guard-journal": "the guard's rollback is in the journal",
    "window-converged-after": "bondd started again plans nothing once the file is restored",
    "watchdog-restart": "a SIGSTOPped daemon is killed by the watchdog and restarted",
    "watchdog-active-again": "the restarted daemon becomes active",
    "watchdog-new-pid": "the restarted daemon is a new process",
    "watchdog-logged": "systemd logged the watchdog timeout",
    "watchdog-converges-again": "the restarted daemon repairs drift made while it was frozen",
}
PACKAGE_CHECKS = {
    "boot-active": "after a reboot bondd is active",
    "boot-bond": "after a reboot bond0 exists with its ports",
    "boot-committed-options": "after a reboot bond0 has the last committed options",
    "boot-bond-before-network-online": "bond0 exists when network-online.target is reached",
    "boot-ready-before-network-online": "bondd is ready before network-online.target",
    "boot-no-restarts": "bondd started once at boot",
    "upgrade-dpkg": "dpkg -i of a newer version succeeds",
    "upgrade-version": "the newer version is installed",
    "upgrade-restarted": "the upgrade restarts bondd",
    "upgrade-active": "bondd is active after the upgrade",
    "upgrade-no-link-events": "the upgrade causes no link event on the bond or its ports",
    "upgrade-kept-conffile": "the upgrade keeps a changed /etc/modprobe.d/bondd.conf",
    "upgrade-kept-config": "the upgrade keeps /etc/bondd.d",
    "upgrade-bond-intact": "the bond keeps its options across the upgrade",
    "remove": "apt-get remove bondd succeeds",
    "remove-stopped": "remove stops bondd",
    "remove-bond-left": "remove leaves the bond in place",
    "remove-kept-state": "remove keeps /var/lib/bondd",
    "remove-kept-conffile": "remove keeps the changed conffile",
    "reinstall-dpkg": "reinstalling succeeds",
    "reinstall-active": "bondd is active after reinstalling",
    "reinstall-kept-conffile": "reinstalling keeps the changed conffile",
    "reinstall-no-link-events": "reinstalling takes the bond back without a link event",
    "purge": "apt-get purge bondd succeeds",
    "purge-not-installed": "dpkg no longer knows bondd",
    "purge-state-gone": "purge removes /var/lib/bondd",
    "purge-run-gone": "purge removes /run/bondd",
    "purge-conffile-gone": "purge removes /etc/modprobe.d/bondd.conf",
    "purge-unit-gone": "purge removes bondd.service",
    "purge-leaves-only-admin-config": "nothing named bondd is left but /etc/bondd.d",
    "purge-admin-config-kept": "the administrator's file in /etc/bondd.d is kept",
    "purge-bond-left": "purge leaves the bond in place",
}
_LINE = re.compile(r"^(CHECK|MEASURE) (\S+) (\S+)(?: (.*))?$")


@dataclass
class Boot:
    name: str
    result: BootResult
    checks: dict[str, str] = field(default_factory=dict)  # name -> "ok" | "FAIL"
    measures: dict[str, str] = field(default_factory=dict)

    def explain(self, check: str) -> str:
        """The guest's output around CHECK, and the end of its journal."""
        lines = self.result.output.splitlines()
        marker = next((i for i, line in enumerate(lines) if f" {check}" in line), len(lines))
        context = "\n".join(lines[max(0, marker - 25) : marker + 1])
        journal = "\n".join(self.result.journal.splitlines()[-40:])
        console = "" if self.result.output else self.result.console[-3000:]
        return (
            f"boot {self.name}: rc {self.result.rc}\n--- guest output\n{context}\n"
            f"--- journal (last lines)\n{journal}\n{console}"
        )


def _parse(name: str, result: BootResult) -> Boot:
    boot = Boot(name, result)
    for line in result.output.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        kind, first, second, _ = match.groups()
        if kind == "CHECK":
            boot.checks[second] = first
        else:
            boot.measures[first] = second
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}-output.txt").write_text(result.output)
    (RESULTS / f"{name}-journal.txt").write_text(result.journal)
    (RESULTS / f"{name}-console.txt").write_text(result.console)
    return boot


def _deb() -> Path:
    given = os.environ.get("BONDD_DEB")
    if given:
        return Path(given).resolve()
    subprocess.run(
        ["bash", str(REPO / "packaging" / "build-deb.sh")],
        check=True,
        env=dict(os.environ, BONDD_SKIP_LINTIAN="1"),
    )
    return sorted((REPO / "dist").glob("bondd_*_all.deb"))[-1]


def _newer(deb: Path, workdir: Path) -> Path:
    """The same package under a higher version: what an upgrade installs."""
    tree = workdir / "newer"
    subprocess.run(["dpkg-deb", "-R", str(deb), str(tree)], check=True)
    control = tree / "DEBIAN" / "control"
    text = control.read_text()
    version = re.search(r"^Version: (\S+)$", text, re.M)
    assert version is not None
    newer = f"{version.group(1)}+systest1"
    control.write_text(text.replace(f"Version: {version.group(1)}", f"Version: {newer}"))
    out = workdir / f"bondd_{newer}_all.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-b", str(tree), str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    shutil.rmtree(tree)
    return out


@pytest.fixture(scope="session")
def boots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Boot]]:
    if os.geteuid() != 0:
        pytest.fail("the system tier runs as root (overlay mounts, a UML guest)", pytrace=False)
    deb = _deb()
    newer = _newer(deb, tmp_path_factory.mktemp("deb"))
    files = [
        deb,
        newer,
        GUEST / "common.sh",
        GUEST / "ports.sh",
        GUEST / "lab-ports.service",
        GUEST / "bond0-v1.yaml",
        GUEST / "bond0-v2.yaml",
    ]
    out: dict[str, Boot] = {}
    with Guest("system") as guest:
        out["service"] = _parse("service", guest.boot(GUEST / "service.sh", files, BOOT_TIMEOUT))
        out["package"] = _parse("package", guest.boot(GUEST / "package.sh", files, BOOT_TIMEOUT))
    measures = {
        "deb_bytes": deb.stat().st_size,
        **{f"{b.name}_boot_wall_s": round(b.result.seconds, 1) for b in out.values()},
        **{k: v for b in out.values() for k, v in b.measures.items()},
    }
    (RESULTS / "measures.json").write_text(json.dumps(measures, indent=2) + "\n")
    print("\nsystem tier measurements:", json.dumps(measures, indent=2))
    yield out


def _assert_check(boot: Boot, check: str) -> None:
    state = boot.checks.get(check)
    assert state is not None, f"the guest never reported {check}\n{boot.explain(check)}"
    assert state == "ok", f"{check} failed\n{boot.explain(check)}"


@pytest.mark.parametrize("check", SERVICE_CHECKS)
def test_service(boots: dict[str, Boot], check: str) -> None:
    """First boot: install the .deb, then the service under systemd (see SERVICE_CHECKS)."""
    _assert_check(boots["service"], check)


@pytest.mark.parametrize("check", PACKAGE_CHECKS)
def test_package(boots: dict[str, Boot], check: str) -> None:
    """Second boot: a reboot, then upgrade, remove, reinstall, purge (see PACKAGE_CHECKS)."""
    _assert_check(boots["package"], check)


@pytest.mark.parametrize("name", ["service", "package"])
def test_guest_reported_every_check(boots: dict[str, Boot], name: str) -> None:
    """Each guest script finished, and every check it made is one the host knows."""
    boot = boots[name]
    known = SERVICE_CHECKS if name == "service" else PACKAGE_CHECKS
    assert set(boot.checks) <= set(known), f"unknown checks: {set(boot.checks) - set(known)}"
    assert boot.result.rc in (0, 1), boot.explain("guest:")
