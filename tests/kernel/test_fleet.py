"""bondd.bondd over a real fleet: check mode, converge, no-op, a cut-off host, LACP.

Four hosts (each its own network and mount namespace, bondd daemon and
sshd on its bond's address) behind one switch; the controller runs Debian
12's ansible-playbook over SSH. Every assertion is on the hosts' kernels
(sysfs and `ip -j` in each namespace) or their files, never bondd's reader.
The scenarios run in order on one fleet (building it is most of the cost);
each says what it starts from.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.kernel.fleet import PREFIX, Fleet, Host, bond_yaml
from tests.lab.guard import REFUSAL, in_lab

# One playbook over the fleet takes 20-80 s in the lab kernel; the whole file about 6 min.
pytestmark = [pytest.mark.fleet, pytest.mark.timeout(900)]

CONFIG_PLAY = """
- name: bond0 on every host
  hosts: all
  gather_facts: false
  tasks:
    - name: bond0
      bondd.bondd.config:
        name: 10-bond0.yaml
        content: "{{ bond0_yaml }}"
        bondctl: "{{ bondctl }}"
"""

ROLLOUT_PLAY = """
- name: Roll bond0 out, one host at a time
  hosts: all
  gather_facts: false
  serial: 1
  max_fail_percentage: 0
  roles:
    - role: bondd.bondd.rollout
      vars:
        bondd_rollout_name: 10-bond0.yaml
        bondd_rollout_content: "{{ bond0_yaml }}"
        bondd_rollout_confirm_timeout: 90
        bondd_rollout_reconnect_timeout: 30
        bondd_rollout_connect_timeout: 5
        bondd_rollout_bondctl: "{{ bondctl }}"
"""

FACTS_PLAY = """
- name: Facts
  hosts: all
  gather_facts: false
  tasks:
    - name: facts
      bondd.bondd.facts:
        bondctl: "{{ bondctl }}"
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    if not in_lab():
        pytest.fail(REFUSAL, pytrace=False)
    started = time.monotonic()
    the_fleet = Fleet.create(tmp_path_factory.mktemp("fleet"))
    print(f"\nfleet of {len(the_fleet.hosts)} hosts up in {time.monotonic() - started:.1f}s")
    try:
        yield the_fleet
    finally:
        the_fleet.destroy()


def yaml_for(fleet: Fleet, miimon: dict[str, int], **address: str) -> dict[str, dict[str, str]]:
    return {
        h.name: {"bond0_yaml": bond_yaml(address.get(h.name, h.address), miimon[h.name])}
        for h in fleet.hosts
    }


def set_vars(fleet: Fleet, host_vars: dict[str, dict[str, str]]) -> None:
    fleet.host_vars = host_vars


def test_check_mode_reports_changed_exactly_where_the_plan_is_not_empty(fleet: Fleet) -> None:
    # Start: every host has bond0 active-backup, miimon 100. Propose 50 on h1 and h2.
    set_vars(fleet, yaml_for(fleet, {"h1": 50, "h2": 50, "h3": 100, "h4": 100}))
    files = {h.name: h.config() for h in fleet.hosts}
    run = fleet.playbook(CONFIG_PLAY, "--check", "--diff")
    assert run.rc == 0, run.explain()
    assert run.changed_hosts() == {"h1", "h2"}, run.explain()
    results = run.task_results("bond0")
    assert {op["disruption"] for op in results["h1"]["operations"]} == {"live change"}, results
    assert results["h3"]["operations"] == [] and results["h3"]["result"] == "planned"
    assert "mii" in results["h1"]["diff"][1]["prepared"]
    for host in fleet.hosts:
        assert host.miimon() == 100
        assert host.config() == files[host.name]
        assert host.addresses() == [f"{host.address}/{PREFIX}"]


def test_a_run_converges_every_host_and_a_second_changes_nothing(fleet: Fleet) -> None:
    set_vars(fleet, yaml_for(fleet, {"h1": 50, "h2": 50, "h3": 100, "h4": 100}))
    run = fleet.playbook(CONFIG_PLAY)
    assert run.rc == 0, run.explain()
    assert run.changed_hosts() == {"h1", "h2"}, run.explain()
    assert {r["result"] for r in run.task_results("bond0").values()} == {"committed"}
    assert [h.miimon() for h in fleet.hosts] == [50, 50, 100, 100]
    again = fleet.playbook(CONFIG_PLAY)
    assert again.rc == 0, again.explain()
    assert again.changed_hosts() == set(), again.explain()
    print(
        f"\nfleet of {len(fleet.hosts)}: no-op run {again.seconds:.1f}s (first {run.seconds:.1f}s)"
    )


def test_a_rollout_that_cuts_a_host_off_rolls_it_back_and_stops(fleet: Fleet) -> None:
    # Every host goes to miimon 200; h2's change also moves its address, so the
    # controller loses it. h1's change, reconnect and confirm take 15-30 s in the
    # loaded lab: a window of 90 s leaves room.
    moved = "198.51.100.212"
    before = {h.name: h.miimon() for h in fleet.hosts}
    set_vars(fleet, yaml_for(fleet, {h.name: 200 for h in fleet.hosts}, h2=moved))
    h1, h2, *rest = fleet.hosts
    seen = watch(fleet, h2)
    run = fleet.playbook(ROLLOUT_PLAY, alive=(3, 5))
    why = run.explain()
    assert run.rc != 0, why
    assert h1.miimon() == 200 and not h1.pending(), why
    ran = run.hosts_that_ran("Apply the change with a confirm window")
    assert ran == {"h1", "h2"}, why  # the play stopped before h3 and h4
    reconnect = run.task_results("Reach the host again over the network as it is now")
    assert reconnect.get("h2", {}).get("failed"), why
    assert "h1" in reconnect and not reconnect["h1"].get("failed"), why
    assert [h.miimon() for h in rest] == [before[h.name] for h in rest]
    assert [h.addresses() for h in rest] == [[f"{h.address}/{PREFIX}"] for h in rest]
    # h2 undoes the change by itself when its window ends: old address, old miimon.
    deadline = time.monotonic() + 300
    while "back" not in seen:
        assert time.monotonic() < deadline, f"{seen}\n{h2.log()}"
        time.sleep(0.25)
    seen["stop"] = 1.0
    assert "cut" in seen, seen
    assert h2.addresses() == [f"{h2.address}/{PREFIX}"], h2.log()
    assert h2.miimon() == before["h2"] and not h2.pending(), h2.log()
    assert moved not in h2.config() and h2.address in h2.config()
    assert "not confirmed within 90s" in h2.log(), h2.log()
    print(
        f"\nh2's change reached its kernel {seen['cut'] - seen['first']:.1f}s into the play;"
        f" verified rolled back (old address and miimon in its kernel, sshd answering the"
        f" controller) {seen['back'] - seen['cut']:.1f}s after it (window 90s)"
    )
    facts = fleet.playbook(FACTS_PLAY, "--limit", "h1,h2")
    assert facts.rc == 0, facts.explain()
    for name, result in facts.task_results("facts").items():
        bondd = result["ansible_facts"]["bondd"]
        assert bondd["converged"] and bondd["pending"] is None, (name, bondd)
        assert bondd["bonds"]["bond0"]["mode"] == "active-backup", bondd


def test_an_lacp_change_against_a_silent_switch_fails_and_rolls_back(fleet: Fleet) -> None:
    h3 = fleet.hosts[2]
    lacp = bond_yaml(h3.address, h3.miimon(), mode="802.3ad", extra=", lacp-rate: fast")
    set_vars(fleet, {h3.name: {"bond0_yaml": lacp}})
    run = fleet.playbook(CONFIG_PLAY, "--limit", "h3", alive=(2, 30))
    assert run.rc != 0, run.explain()
    result = run.task_results("bond0")["h3"]
    assert result.get("failed") and result.get("result") == "rolled_back", run.explain()
    assert "partner-silent" in result["msg"], result["msg"]
    assert h3.mode() == "active-backup"
    assert "802.3ad" not in h3.config()
    assert fleet.can_connect(h3)


def watch(fleet: Fleet, host: Host) -> dict[str, float]:
    """When the host's kernel loses its address, and when it is back and the controller reaches it.

    The change is seen in the host's own kernel (`ip -j addr`); the rollback counts
    once the kernel has the old address and miimon again and the host's sshd
    answers a new connection from the controller's namespace.
    """
    seen: dict[str, float] = {"first": time.monotonic()}
    old = [f"{host.address}/{PREFIX}"]
    miimon = host.miimon()

    def loop() -> None:
        while "stop" not in seen:
            now = time.monotonic()
            if "cut" not in seen:
                if host.addresses() != old:
                    seen["cut"] = now
            elif host.addresses() == old and host.miimon() == miimon and fleet.can_connect(host):
                seen["back"] = time.monotonic()
                return
            time.sleep(0.2)

    threading.Thread(target=loop, daemon=True).start()
    return seen
