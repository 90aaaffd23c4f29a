"""The schema's `bonds` section: a bond's ports and its kernel parameters.

Part of the schema builder's stack of sections (see schema_base.py). Each
parameter is read through the option table (bondd/options). Pure.
"""

from __future__ import annotations

from bondd import options as opt
from bondd.config import keys
from bondd.config.nodes import YEntry, YMap, YNode, YScalar
from bondd.config.schema_base import (
    ifname_problem,
    raw_value,
)
from bondd.config.schema_ethernets import EthernetSection
from bondd.model import (
    BondOptions,
    BondSpec,
    OptionValue,
    PortMatch,
    PortSpec,
)


class BondSection(EthernetSection):
    """Bond definitions: interfaces, parameters and per-port options."""

    def bond(self, name: str, entry: YEntry, all_bonds: dict[str, YEntry]) -> BondSpec | None:
        self.index.put(entry.key_pos, "bond", name)
        node = self.mapping(entry.value, f"bond {name}")
        if node is None:
            return None
        self.check_keys(node, keys.BOND_KEYS | {keys.OVS_KEY}, f"bond {name}")
        self.others(node, {})
        self.backend(name, "bonds", node)
        if keys.OVS_KEY in node.entries:
            self.r.error(
                node.entries[keys.OVS_KEY].key_pos,
                "Open vSwitch bonds are not managed by bondd",
                "remove `openvswitch` for a kernel bond, or leave this bond to netplan",
            )
        port_ids = self.interfaces(name, node, all_bonds)
        options: dict[str, OptionValue] = {}
        per_port: dict[str, dict[str, int]] = {}
        if "parameters" in node.entries:
            params = self.mapping(node.entries["parameters"].value, f"parameters of {name}")
            if params is not None:
                options, per_port = self.parameters(name, params, port_ids)
        ports = []
        for port_id in port_ids:
            eth = self.ethernets.get(port_id)
            # A VLAN port is the VLAN device by name; whoever creates it, bondd enslaves it.
            match = eth.match if eth else PortMatch(name=port_id)
            extra = per_port.get(port_id, {})
            ports.append(PortSpec(port_id, match, extra.get("queue_id"), extra.get("prio")))
        common = self.common(f"bond {name}", ("bond", name), node)
        if problem := ifname_problem(name):
            self.r.passed(entry.key_pos, f"bond {name} is not created: its name {problem}")
            return None
        return BondSpec(
            name=name,
            ports=tuple(ports),
            options=BondOptions(options),
            addresses=common.addresses,
            routes=common.routes,
            mtu=common.mtu,
            macaddress=common.macaddress,
        )

    def interfaces(self, name: str, node: YMap, all_bonds: dict[str, YEntry]) -> list[str]:
        if "interfaces" not in node.entries:
            return []
        seq = self.sequence(node.entries["interfaces"].value, f"interfaces of {name}")
        if seq is None:
            return []
        ids: list[str] = []
        for item in seq.items:
            port_id = self.string(item, f"an entry of interfaces of {name}")
            if port_id is None:
                continue
            self.index.put(item.pos, "bond", name, "port", port_id)
            if not self.known(port_id, item.pos):
                self.r.error(
                    item.pos,
                    f"{name}: interface '{port_id}' is not defined",
                    f"add `{port_id}: {{}}` under network.ethernets",
                )
            elif port_id == name or port_id in all_bonds:
                what = "itself" if port_id == name else f"the bond {port_id}"
                self.r.passed(
                    item.pos,
                    f"{name} lists {what} as a port; bondd does not nest bonds, so it is not"
                    " enslaved",
                    "list ethernets or VLANs only",
                )
            elif port_id not in self.ethernets and port_id not in self.vlan_names:
                self.r.error(
                    item.pos,
                    f"port `{port_id}` of {name} is a {self.kind_of.get(port_id, 'device')}"
                    " entry, which bondd does not manage",
                    "bond ports are ethernets or VLANs",
                )
            elif port_id in ids:
                self.r.warning(
                    item.pos, f"port `{port_id}` is listed twice in {name}", "list it once"
                )
            elif port_id in self.port_of:
                first = self.index.at("bond", self.port_of[port_id], "port", port_id)
                where = f" (line {first.line} of {first.file})" if first else ""
                self.r.error(
                    item.pos,
                    f"{name}: interface '{port_id}' is already assigned to bond"
                    f" {self.port_of[port_id]}{where}",
                    "a port belongs to one bond; remove it from one of them",
                )
            else:
                self.port_of[port_id] = name
                ids.append(port_id)
                if port_id in self.vlan_names:
                    self.r.note(
                        item.pos,
                        f"VLAN `{port_id}` is a port of {name}: bondd does not create it,"
                        " it enslaves it once it exists",
                    )
        return ids

    def parameters(
        self, name: str, params: YMap, port_ids: list[str]
    ) -> tuple[dict[str, OptionValue], dict[str, dict[str, int]]]:
        options: dict[str, OptionValue] = {}
        per_port: dict[str, dict[str, int]] = {}
        spelled: dict[str, str] = {}
        valid = opt.yaml_keys() | {k for o in opt.PORT_OPTIONS for k in o.yaml_keys}
        for key, entry in params.entries.items():
            option = opt.by_yaml_key(key) or opt.by_yaml_key(key, opt.Scope.PORT)
            if option is None:
                self.r.unknown(key, entry.key_pos, f"parameters of {name}", valid)
                continue
            if option.kernel_name in spelled:
                self.r.warning(
                    entry.key_pos,
                    f"`{key}` and `{spelled[option.kernel_name]}` set the same option;"
                    f" `{key}`, the later one, is used",
                    "keep one of them",
                )
            spelled[option.kernel_name] = key
            self.index.put(entry.key_pos, "bond", name, "key", option.kernel_name)
            self.index.put(entry.value.pos, "bond", name, "option", option.kernel_name)
            if option.scope is opt.Scope.PORT:
                self.port_option(name, option, entry.value, port_ids, per_port)
                continue
            if (
                option.kernel_name == "primary"
                and isinstance(entry.value, YScalar)
                and not self.known(entry.value.value, entry.value.pos)
            ):
                self.r.error(
                    entry.value.pos,
                    f"{name}: interface '{entry.value.value}' is not defined",
                    "primary names one of the bond's ports",
                )
                continue
            netplan_scalar = option.netplan and option.kind is not opt.Kind.IPV4_LIST
            if netplan_scalar and self.string(entry.value, f"{key} of {name}") is None:
                continue
            try:
                options[option.kernel_name] = opt.parse_yaml_value(option, raw_value(entry.value))
            except opt.NotAppliedError as exc:
                options.pop(option.kernel_name, None)
                default = opt.default_for(option, options)
                self.r.passed(
                    entry.value.pos,
                    f"{key} of {name} is not applied: {exc.message}; {name} keeps the kernel"
                    f" default {default!r}",
                    exc.hint,
                )
            except opt.OptionValueError as exc:
                self.r.error(entry.value.pos, exc.message, exc.hint)
        return options, per_port

    def port_option(
        self,
        name: str,
        option: opt.BondOption,
        value: YNode,
        port_ids: list[str],
        per_port: dict[str, dict[str, int]],
    ) -> None:
        key = option.yaml_key
        node = self.mapping(value, f"{key} of {name}")
        if node is None:
            return
        for port_id, entry in node.entries.items():
            if port_id not in port_ids:
                self.r.error(
                    entry.key_pos,
                    f"{key} names `{port_id}`, which is not a port of {name}",
                    f"use one of: {', '.join(port_ids)}" if port_ids else None,
                )
                continue
            try:
                parsed = opt.parse_yaml_value(option, raw_value(entry.value))
            except opt.OptionValueError as exc:
                self.r.error(entry.value.pos, exc.message, exc.hint)
                continue
            assert isinstance(parsed, int)
            per_port.setdefault(port_id, {})[option.kernel_name] = parsed
            self.index.put(
                entry.value.pos, "bond", name, "port-option", port_id, option.kernel_name
            )
