"""Run bondd in-process inside the test's host namespace, with its own dirs, and
read the host back the way the kernel shows it (`kernel_state`), the one view
every "identical" and "old or new" comparison of the kernel tier uses."""

from __future__ import annotations

import errno
import json
import subprocess
import textwrap
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bondd import config
from bondd.deadman import GuardStarter
from bondd.engine.clock import SystemClock
from bondd.engine.converge import Outcome, converge, make_plan
from bondd.engine.holder import boot_id
from bondd.engine.store import Store
from bondd.engine.transaction import Host, Proposal
from bondd.errors import KernelOpError
from bondd.kernel.netlink import IPRoute
from bondd.kernel.probe import NetworkProber
from bondd.kernel.reader import KernelReader
from bondd.kernel.writer import KernelWriter
from bondd.model import ActualState, DesiredState
from bondd.plan.ops import Op
from bondd.plan.planner import Plan


@dataclass
class Bondd:
    config_dir: Path
    state_dir: Path
    ipr: IPRoute = field(default_factory=IPRoute)

    def __post_init__(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.reader = KernelReader(self.ipr)
        self.writer = KernelWriter(self.ipr)
        self.store = Store(self.state_dir)

    def write(self, yaml_text: str, name: str = "50-test.yaml") -> None:
        (self.config_dir / name).write_text(textwrap.dedent(yaml_text))

    def desired(self) -> DesiredState:
        return config.load_desired([self.config_dir], explicit=True)

    def plan(self, yaml_text: str | None = None) -> Plan:
        if yaml_text is not None:
            self.write(yaml_text)
        return make_plan(self.desired(), self.reader, self.store)[0]

    def apply(self, yaml_text: str | None = None) -> Outcome:
        """Apply; returns the outcome. `writes_last` counts this apply's kernel writes."""
        if yaml_text is not None:
            self.write(yaml_text)
        before = self.writer.writes
        outcome = converge(self.desired(), self.reader, self.writer, self.store, SystemClock())
        self.writes_last = self.writer.writes - before
        return outcome

    def read(self) -> ActualState:
        return self.reader.read()

    def host(self, writer: object | None = None, *, guarded: bool = False) -> Host:
        """The transaction's Host over this harness (optionally another writer).

        `guarded`: with the real dead-man timer (a guard process per transaction).
        """
        return Host(
            self.reader,
            writer or self.writer,  # type: ignore[arg-type]
            self.store,
            SystemClock(),
            NetworkProber(),
            boot_id(),
            deadman=GuardStarter(self.state_dir) if guarded else None,
        )

    def proposal(self, yaml_text: str | None = None) -> Proposal:
        if yaml_text is not None:
            self.write(yaml_text)
        found = config.check([self.config_dir], explicit=True).files
        return Proposal(self.desired(), config.content_hash(found))

    def close(self) -> None:
        self.reader.close()
        self.writer.close()
        self.ipr.close()


class FaultyWriter:
    """The real writer, except that op number `fail_at` (0-based) fails once with EIO."""

    def __init__(self, inner: KernelWriter, fail_at: int) -> None:
        self.inner = inner
        self.fail_at = fail_at
        self.calls = 0
        self.fired = False

    @property
    def writes(self) -> int:
        return self.inner.writes

    def apply(self, op: Op) -> None:
        index = self.calls
        self.calls += 1
        if index == self.fail_at and not self.fired:
            self.fired = True
            raise KernelOpError(op, errno.EIO, "injected fault")
        self.inner.apply(op)

    def ports_of(self, bond: str) -> list[str]:
        return self.inner.ports_of(bond)


# --- the host as the kernel shows it --------------------------------------------
#
# What "identical" and "old or new" compare: `ip -j -d link`, `ip -j -d addr`,
# `ip -j -d route` and the bonding sysfs files, whole, minus the fields named
# below (each with the reason it may differ between two equal hosts). Nothing
# of bondd's reader is used, so a field the reader misses still counts.
# /proc/net/bonding is not read: every value it prints is in the sysfs files
# or `ip -d link` already, in a form that needs no parsing.

# Top-level `ip -d link` fields that are not configuration.
_LINK_VOLATILE = frozenset(
    {
        "ifindex",  # a bond a rollback deletes and re-creates gets a new one
        "link_index",  # a veth's peer's ifindex, in the switch namespace
        "operstate",  # follows the carrier (the ports' link, the next miimon tick)
        # A link that was up once keeps the default qdisc it got then ("noop"
        # becomes "noqueue"); bondd sets no qdisc, and no rollback can make a
        # port that a failed change enslaved "never up" again.
        "qdisc",
        "stats",  # counters (only with -s, dropped in case)
        "stats64",
    }
)
# Link flags that follow the carrier, not what was configured.
_CARRIER_FLAGS = frozenset({"LOWER_UP", "NO-CARRIER", "M-DOWN"})
# A bond's `info_data` keys that LACP negotiation or failover move by themselves.
_BOND_DATA_VOLATILE = frozenset(
    {
        "active_slave",  # failover picks it (bondd sets only `primary`)
        "ad_info",  # the aggregator, its key and partner: LACP negotiation
    }
)
# A port's `info_slave_data` keys that move by themselves.
_PORT_DATA_VOLATILE = frozenset(
    {
        "state",  # active/backup: failover's choice
        "mii_status",  # the carrier
        "link_failure_count",  # a counter
        "ad_aggregator_id",  # renumbered when ports join again
        "ad_actor_oper_port_state",  # LACP negotiation, as a number and as text
        "ad_actor_oper_port_state_str",
        "ad_partner_oper_port_state",
        "ad_partner_oper_port_state_str",
    }
)
# Bonding sysfs files that move by themselves (same reasons as above).
_SYSFS_VOLATILE = frozenset(
    {
        "active_slave",  # failover's choice
        "mii_status",  # the carrier
        "ad_aggregator",  # LACP negotiation: aggregator id, its size, keys, partner
        "ad_num_ports",
        "ad_actor_key",
        "ad_partner_key",
        "ad_partner_mac",
        "ad_actor_oper_port_state",
        "ad_partner_oper_port_state",
        "link_failure_count",  # a counter
        "state",  # a port's active/backup: failover's choice
    }
)
# Address fields that count down or follow duplicate address detection.
_ADDRESS_VOLATILE = frozenset({"valid_life_time", "preferred_life_time", "tentative"})
# Route fields that count down or follow the carrier.
_ROUTE_VOLATILE = frozenset({"expires"})
_ROUTE_CARRIER_FLAGS = frozenset({"linkdown"})


def _ip_json(*args: str) -> list[dict[str, Any]]:
    out = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=True).stdout
    data = json.loads(out or "[]")
    assert isinstance(data, list)
    return data


def _without(data: Mapping[str, Any], drop: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in drop}


def _sysfs_dir(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    if not path.is_dir():
        return found
    for item in sorted(path.iterdir()):
        if item.name in _SYSFS_VOLATILE:
            continue
        try:
            text = item.read_text()
        except OSError:  # write-only files (queue_id in the bond's directory)
            continue
        tokens = text.split()
        # `slaves` lists the ports in enslave order; who is a port is the point.
        found[item.name] = " ".join(sorted(tokens) if item.name == "slaves" else tokens)
    return found


def _link_view(link: Mapping[str, Any]) -> dict[str, Any]:
    view = _without(link, _LINK_VOLATILE)
    view["flags"] = sorted(set(link.get("flags", [])) - _CARRIER_FLAGS)
    info = dict(link.get("linkinfo", {}))
    if "info_data" in info and info.get("info_kind") == "bond":
        info["info_data"] = _without(info["info_data"], _BOND_DATA_VOLATILE)
    if "info_slave_data" in info and info.get("info_slave_kind") == "bond":
        info["info_slave_data"] = _without(info["info_slave_data"], _PORT_DATA_VOLATILE)
    if info:
        view["linkinfo"] = info
    return view


def _addresses(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    kept = [
        _without(a, _ADDRESS_VOLATILE)
        for a in entry.get("addr_info", [])
        # IPv6 link-local and autoconfigured addresses are the kernel's own,
        # made from the MAC when the link comes up: not configuration.
        if not (a.get("family") == "inet6" and a.get("scope") == "link") and not a.get("dynamic")
    ]
    return sorted(kept, key=lambda a: (str(a.get("family")), str(a.get("local"))))


def _routes(names: Collection[str]) -> list[dict[str, Any]]:
    routes = []
    for family in ("-4", "-6"):
        for route in _ip_json(family, "-d", "route", "show", "table", "all"):
            if route.get("dev") not in names:
                continue
            # The local table (and IPv6's per-link fe80::/64 and multicast
            # routes) the kernel derives from addresses and links, compared above.
            if route.get("table") == "local" or str(route.get("dst", "")).startswith(
                ("fe80::", "ff00::", "multicast")
            ):
                continue
            view = _without(route, _ROUTE_VOLATILE)
            view["flags"] = sorted(set(route.get("flags", [])) - _ROUTE_CARRIER_FLAGS)
            view["family"] = family
            routes.append(view)
    return sorted(routes, key=lambda r: json.dumps(r, sort_keys=True))


def kernel_state(names: Collection[str]) -> dict[str, object]:
    """What a rollback must restore, as the kernel shows it: `ip -j -d link`, `addr`
    and `route` and the bonding sysfs files of `names` (None for a link that is gone),
    normalised by dropping only the fields listed above. Never bondd's reader."""
    links = {str(link["ifname"]): link for link in _ip_json("-d", "link", "show")}
    addrs = {str(a["ifname"]): a for a in _ip_json("-d", "addr", "show")}
    view: dict[str, object] = {}
    for name in names:
        link = links.get(name)
        if link is None:
            view[name] = None
            continue
        view[name] = {
            "link": _link_view(link),
            "addresses": _addresses(addrs.get(name, {})),
            "bonding": _sysfs_dir(Path("/sys/class/net", name, "bonding")),
            "port": _sysfs_dir(Path("/sys/class/net", name, "bonding_slave")),
        }
    view["routes"] = _routes(names)
    return view


def differences(before: Mapping[str, object], after: Mapping[str, object]) -> list[str]:
    """Where two kernel_state views differ, as `path: old -> new` lines (for messages)."""
    out: list[str] = []

    def walk(path: str, old: object, new: object) -> None:
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            for key in sorted(set(old) | set(new), key=str):
                walk(f"{path}.{key}" if path else str(key), old.get(key), new.get(key))
        elif old != new:
            out.append(f"{path}: {old!r} -> {new!r}")

    walk("", before, after)
    return out
