"""Generated and mutated configurations for the fuzz campaign, from a seed.

Why a seeded generator and not only hypothesis: the campaign must be a
number a reader can rerun (10,000+ configs, the same ones every time for a
seed) and must reach deep into validation and planning, so the base configs
are built from the option table (every YAML key, values in range, at the
edges and out of range) and then damaged the ways files really get damaged:
a key dropped or misspelt, a value of the wrong type, a port used twice, a
line lost, indentation broken, the file cut short.

`run_one` is the pipeline the daemon and `bondctl apply` follow (validate,
then plan, then execute), against a fixed synthetic kernel state and a
writer that only counts: pure, no kernel.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import yaml

from bondd import options as opt
from bondd.config import check_text
from bondd.engine.executor import execute
from bondd.errors import BonddError, KernelOpError
from bondd.model import ActualState, BondMode, BondOptions, BondState, PortState, VlanSpec
from bondd.plan.ops import Op
from bondd.plan.ownership import Ownership
from bondd.plan.planner import plan

MODES = [
    "balance-rr",
    "active-backup",
    "balance-xor",
    "broadcast",
    "802.3ad",
    "balance-tlb",
    "balance-alb",
    "0",
    "4",
    "lacp",
]
PORT_NAMES = ["eno1", "eno2", "eno3", "eno4", "eno5", "eno6", "dummy0", "ghost0", "uplink-a"]
JUNK: list[Any] = [
    None,
    "",
    -1,
    0,
    2**31,
    2**64,
    1.5,
    True,
    "x" * 300,
    [],
    {},
    [None],
    {"a": 1},
    "\u00e9\u4e2d\U0001f600",
    "../../etc/passwd",
    "0x10",
    "1e3",
    "-0",
    "100ms",
    "5s",
    "yes",
    "~",
]


def synthetic_actual() -> ActualState:
    """A host with six NICs, a bond bondd does not own (bond0 on eno1, eno2) and a VLAN."""

    def nic(i: int, **extra: Any) -> PortState:
        mac = f"52:54:00:00:00:{i:02x}"
        return PortState(
            name=f"eno{i}",
            ifindex=10 + i,
            perm_macaddress=mac,
            macaddress=mac,
            up=True,
            mtu=1500,
            carrier=True,
            **extra,
        )

    ports = (
        nic(1, master="bond0", mii_up=True),
        nic(2, master="bond0", mii_up=True, backup=True),
    )
    bond0 = BondState(
        name="bond0",
        ifindex=100,
        ports=ports,
        options=BondOptions(
            {o.kernel_name: o.default for o in opt.BOND_OPTIONS if o.scope is opt.Scope.BOND}
            | {"mode": "active-backup", "miimon": 100}
        ),
        addresses=("192.168.10.20/24",),
        mtu=1500,
        macaddress="52:54:00:00:00:01",
        vlans=(VlanSpec("bond0.10", 10, "bond0", ("10.0.10.5/24",), (), 1500, None),),
        up=True,
        carrier=True,
        active_port="eno1",
    )
    links = (
        *ports,
        *(nic(i) for i in range(3, 7)),
        PortState(name="dummy0", ifindex=50, kind="dummy", mtu=1500, addresses=("10.9.9.9/32",)),
    )
    return ActualState(bonds=(bond0,), links=tuple(sorted(links, key=lambda p: p.name)))


OWNERSHIP = Ownership(owned=frozenset({"bond7"}))


class CountingWriter:
    """Stands in for the kernel writer: counts what would have been written."""

    def __init__(self) -> None:
        self.writes = 0

    def apply(self, op: Op) -> None:
        self.writes += 1

    def ports_of(self, bond: str) -> list[str]:
        return []


@dataclass
class Tally:
    """What the campaign saw; `tracebacks` and `invalid_writes` must stay empty/zero."""

    configs: int = 0
    valid: int = 0
    invalid: int = 0
    refused_by_planner: int = 0
    ops: int = 0
    invalid_writes: int = 0
    tracebacks: list[str] = field(default_factory=list)
    nondeterministic: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.configs} configs: {self.valid} valid (planned, {self.ops} ops counted),"
            f" {self.invalid} invalid, {self.refused_by_planner} refused by the planner;"
            f" {len(self.tracebacks)} tracebacks, {self.invalid_writes} writes for invalid ones,"
            f" {len(self.nondeterministic)} non-deterministic plans"
        )


# -- generation ---------------------------------------------------------------


def _option_value(rng: random.Random, option: opt.BondOption, ports: list[str], clean: bool) -> Any:
    """A value for the option: in range and well typed when `clean`, else anything near it."""
    kind = option.kind
    if kind is opt.Kind.INT:
        low = option.minimum if option.minimum is not None else 0
        high = option.maximum if option.maximum is not None else 100_000
        if clean:
            return rng.choice([low, high, rng.randint(low, min(high, low + 1000))])
        return rng.choice([low - 1, high + 1, rng.randint(low, high), -5, 2**40])
    if kind is opt.Kind.BOOL:
        return rng.choice([True, False]) if clean else rng.choice(["true", "1", "on", 2, None])
    if kind is opt.Kind.ENUM:
        words = list(option.values)
        if clean:
            return rng.choice(words)
        return rng.choice([*(str(v) for v in option.values.values()), "bogus", words[0].upper()])
    if kind is opt.Kind.MAC:
        good = ["02:00:00:00:00:01", "52:54:00:aa:bb:cc"]
        return rng.choice(good if clean else ["01:00:5e:00:00:01", "00:00:00:00:00:00", "zz"])
    if kind is opt.Kind.IPV4_LIST:
        good = ["192.168.10.1", "10.0.0.1", "10.0.0.2"]
        if clean:
            return rng.sample(good, rng.randint(0, 3))
        return rng.choice(
            [["255.255.255.255"], ["fe80::1"], ["1.2.3"], [f"10.0.0.{i}" for i in range(17)]]
        )
    if kind is opt.Kind.IPV6_LIST:
        if clean:
            return rng.sample(["2001:db8::1", "2001:db8::2"], rng.randint(0, 2))
        return rng.choice([["::"], ["10.0.0.1"], ["2001:db8::zz"], ["fe80::1"]])
    if clean:
        return rng.choice(ports) if ports else ""
    return rng.choice(["eno9", "", "bond0"])


def base_config(rng: random.Random) -> dict[str, Any]:
    """A plausible config: 1-4 bonds over the synthetic host's NICs, options from the table.

    Three in five are clean (every value well typed and in range), so planning
    is reached often; the rest carry values at and past the edges.
    """
    clean = rng.random() < 0.6
    ethernets: dict[str, Any] = {}
    bonds: dict[str, Any] = {}
    vlans: dict[str, Any] = {}
    free = PORT_NAMES[:]
    rng.shuffle(free)
    params_pool = [o for o in opt.BOND_OPTIONS if o.yaml_keys and o.scope is opt.Scope.BOND]
    for b in range(rng.randint(1, 4)):
        names = [f"bond{b}", f"bond{b}", "bond0", "bond7", f"uplink{b}"]
        name = rng.choice(names if clean else [*names, "b" * 16, "bond 0", "-x"])
        count = rng.choice([0, 1, 2, 2, 2, 3])
        ports = [free.pop() for _ in range(min(count, len(free)))]
        for port in ports:
            match rng.random():
                case r if r < 0.6:
                    ethernets[port] = {}
                case r if r < 0.8 and port.startswith("eno"):
                    ethernets[port] = {"match": {"macaddress": f"52:54:00:00:00:0{port[-1]}"}}
                case r if r < 0.9:
                    ethernets[port] = {"match": {"name": rng.choice(["eno*", "eth*", port])}}
                case _:
                    ethernets[port] = {"mtu": rng.choice([1500, 9000, 68, 65536])}
        mode = rng.choice(MODES[:7] if clean else MODES)
        params: dict[str, Any] = {"mode": mode}
        pool = params_pool
        if clean:  # only what the kernel accepts in this mode, and a port to point at
            pool = [
                o
                for o in params_pool
                if BondMode(mode) in o.modes and (ports or o.kind is not opt.Kind.INTERFACE)
            ]
        for option in rng.sample(pool, min(len(pool), rng.randint(0, 4 if clean else 8))):
            key = rng.choice(option.yaml_keys)
            params[key] = _option_value(rng, option, ports, clean)
        bond: dict[str, Any] = {"interfaces": ports, "parameters": params}
        if rng.random() < 0.7:
            shared = [] if clean else ["192.168.10.20/24", "2001:db8::5/64"]
            bond["addresses"] = [rng.choice([f"10.{b}.0.2/24", f"2001:db8:{b}::5/64", *shared])]
        if rng.random() < 0.4:
            bond["routes"] = [
                rng.choice(
                    [
                        {"to": "default", "via": f"10.{b}.0.1"},
                        {"to": "203.0.113.0/24", "via": f"10.{b}.0.1", "metric": 100},
                        {"to": "2001:db8:1::/48", "via": "2001:db8::1"},
                        {"to": "198.51.100.0/24", "scope": "link"},
                    ]
                )
            ]
        if rng.random() < 0.3:
            bond["mtu"] = rng.choice([1500, 9000, 576])
        if rng.random() < 0.2 and not (clean and "routes" in bond):
            bond["gateway4"] = f"10.{b}.0.1"
        if rng.random() < 0.15:
            bond["dhcp4"] = True
        bonds[name] = bond
        if rng.random() < 0.3:
            vid = rng.choice([10, 100, 4094] if clean else [0, 4095, 10])
            vlans[f"{name}.{vid}"] = {
                "id": vid,
                "link": name,
                "addresses": [f"10.{b}.1{vid % 25}.5/24"],
            }
    network: dict[str, Any] = {"version": 2, "ethernets": ethernets, "bonds": bonds}
    if vlans:
        network["vlans"] = vlans
    doc: dict[str, Any] = {"network": network}
    if rng.random() < 0.5:
        doc["bondd"] = {
            "apply-on-change": rng.choice([True, False]),
            "lacp-gate": rng.choice([True, False]),
            "probes": rng.choice(
                [
                    [],
                    [{"type": "ping", "target": "10.0.0.1"}],
                    [{"type": "arp", "target": "10.0.0.1", "via": "bond0"}],
                    [{"type": "tcp", "target": "10.0.0.5", "port": 22, "timeout": 10}],
                ]
            ),
        }
    return doc


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


def mutate_tree(rng: random.Random, doc: dict[str, Any]) -> None:
    """One structural mutation, in place: drop, retype, rename, duplicate, or add a key."""
    paths = _paths(doc)
    if not paths:
        return
    path = rng.choice(paths)
    parent, last = _parent(doc, path), path[-1]
    action = rng.randrange(6)
    if action == 0:
        del parent[last]
    elif action == 1:
        parent[last] = rng.choice(JUNK)
    elif action == 2 and isinstance(parent, dict):
        value = parent.pop(last)
        parent[
            rng.choice([f"{last}x", str(last).upper(), str(last).replace("-", "_"), "slaves"])
        ] = value
    elif action == 3 and isinstance(parent, dict):
        parent[rng.choice(["unknown-key", "renderer", "optional", "wifis", "bridges"])] = (
            rng.choice(JUNK)
        )
    elif action == 4:
        # A port of one bond used by another, or a bond naming itself.
        bonds = (
            doc.get("network", {}).get("bonds") if isinstance(doc.get("network"), dict) else None
        )
        if isinstance(bonds, dict) and bonds:
            target = bonds[rng.choice(list(bonds))]
            if isinstance(target, dict):
                target["interfaces"] = rng.choice(
                    [["eno1", "eno1"], ["eno1"], [rng.choice(list(bonds))]]
                )
    else:
        parent[last] = [parent[last], parent[last]]


def mutate_text(rng: random.Random, text: str) -> str:
    """One textual mutation: lose, repeat or re-indent a line, cut the file, add bytes."""
    lines = text.splitlines()
    if not lines:
        return text
    i = rng.randrange(len(lines))
    action = rng.randrange(6)
    if action == 0:
        del lines[i]
    elif action == 1:
        lines.insert(i, lines[i])
    elif action == 2:
        lines[i] = " " * rng.choice([1, 3, 5]) + lines[i]
    elif action == 3:
        return text[: rng.randrange(len(text))]
    elif action == 4:
        junk = rng.choice(
            [":", "- ", "{", "]", "&a", "*a", "!!python/object:os.system", "\t", "\0"]
        )
        at = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:at] + junk + lines[i][at:]
    else:
        lines[i] = lines[i].replace(":", "", 1)
    return "\n".join(lines) + "\n"


def generate(seed: int) -> str:
    """Config number `seed`: a base config, then 0-3 tree mutations and maybe a text one."""
    rng = random.Random(seed)
    doc = base_config(rng)
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
        mutate_tree(rng, doc)
    text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=rng.random() < 0.2)
    if rng.random() < 0.25:
        text = mutate_text(rng, text)
    return text


# -- the pipeline -------------------------------------------------------------


def run_one(text: str, actual: ActualState, tally: Tally, label: str) -> None:
    """Validate; only a valid config is planned and executed (against the counting writer)."""
    tally.configs += 1
    writer = CountingWriter()
    try:
        result = check_text(text, f"{label}.yaml")
        if not result.ok:
            tally.invalid += 1
            tally.invalid_writes += writer.writes  # nothing below runs for it
            return
        tally.valid += 1
        try:
            first = plan(result.state, actual, OWNERSHIP)
        except BonddError:
            tally.refused_by_planner += 1
            return
        again = plan(check_text(text, f"{label}.yaml").state, actual, OWNERSHIP)
        if again.ops != first.ops:
            tally.nondeterministic.append(label)
        execution = execute(first.ops, writer)
        assert execution.error is None or isinstance(execution.error, KernelOpError)
        tally.ops += writer.writes
    except Exception as exc:  # the campaign's whole point: count, don't stop
        tally.tracebacks.append(f"{label}: {type(exc).__name__}: {exc}")


def campaign(count: int, seed: int = 0) -> Tally:
    tally = Tally()
    actual = synthetic_actual()
    for i in range(seed, seed + count):
        run_one(generate(i), actual, tally, f"config-{i}")
    return tally
