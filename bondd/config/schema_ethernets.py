"""The schema's `ethernets` section: the ports a bond may use, and how they are matched.

Part of the schema builder's stack of sections (see schema_base.py). Pure.
"""

from __future__ import annotations

from bondd import scalars
from bondd.config import grammar, keys
from bondd.config.nodes import YEntry, YMap, YNode, YScalar, YSeq
from bondd.config.schema_base import (
    EthernetEntry,
    ifname_problem,
    is_true,
)
from bondd.config.schema_layer3 import Layer3Section
from bondd.model import PortMatch


class EthernetSection(Layer3Section):
    """Ethernet definitions, their match rules and the keys a port may carry."""

    def ethernet(self, eth_id: str, entry: YEntry) -> None:
        self.index.put(entry.key_pos, "ethernet", eth_id)
        node = self.mapping(entry.value, f"ethernet {eth_id}")
        if node is None:
            return
        self.check_keys(node, keys.ETHERNET_KEYS | {keys.OVS_KEY}, f"ethernet {eth_id}")
        self.others(node, grammar.PHYSICAL)
        match = PortMatch(name=eth_id)
        if "match" in node.entries:
            parsed = self.port_match(eth_id, node.entries["match"].value)
            if parsed is not None:
                match = parsed
        elif "set-name" in node.entries:
            self.r.error(
                node.entries["set-name"].key_pos,
                f"{eth_id}: 'set-name:' requires 'match:' properties",
                "add match: with the device's macaddress or name",
            )
        elif problem := ifname_problem(eth_id):
            self.r.passed(
                entry.key_pos,
                f"ethernet id `{eth_id}` {problem}, so no device has this name;"
                " bondd cannot use it as a port",
                "add `match:` with the device's name or macaddress",
            )
        self.backend(eth_id, "ethernets", node)
        if "link" in node.entries:
            link = self.string(node.entries["link"].value, f"link of {eth_id}")
            if link is not None and not self.known(link, node.entries["link"].value.pos):
                self.r.error(
                    node.entries["link"].value.pos,
                    f"{eth_id}: interface '{link}' is not defined",
                    "link names the SR-IOV physical function, defined under ethernets",
                )
        self.ethernets[eth_id] = EthernetEntry(eth_id, entry.key_pos, match, node)

    def port_match(self, eth_id: str, value: YNode) -> PortMatch | None:
        node = self.mapping(value, f"match of {eth_id}")
        if node is None:
            return None
        self.check_keys(node, keys.MATCH_KEYS, f"match of {eth_id}")
        name = mac = None
        drivers: tuple[str, ...] = ()
        if "name" in node.entries:
            name = self.string(node.entries["name"].value, "match name")
            if name is not None and (problem := scalars.id_problem(name)):
                self.r.error(node.entries["name"].value.pos, f"match name: {problem}")
                name = None
        if "macaddress" in node.entries:
            mac_node = node.entries["macaddress"].value
            raw = self.string(mac_node, "match macaddress")
            if raw is not None and not scalars.is_mac(raw):
                self.r.error(
                    mac_node.pos,
                    f"invalid MAC address '{raw}' in match",
                    "write it as XX:XX:XX:XX:XX:XX",
                )
            elif raw is not None and len(raw) == 17:
                mac = raw.lower()
            elif raw is not None:
                self.r.passed(
                    mac_node.pos,
                    f"{eth_id} matches an InfiniBand hardware address; bondd cannot use it as a"
                    " port",
                    "bond ports are Ethernet devices",
                )
        if "driver" in node.entries:
            drivers = self.drivers(node.entries["driver"].value)
        if name is None and mac is None and not drivers:
            if node.entries:
                return None
            self.r.passed(
                node.pos,
                f"match of {eth_id} selects every device; bondd does not use it as a port",
                "give name, macaddress or driver",
            )
            return None
        return PortMatch(name=name, macaddress=mac, driver=drivers)

    def drivers(self, node: YNode) -> tuple[str, ...]:
        items = node.items if isinstance(node, YSeq) else [node]
        if isinstance(node, YMap):
            self.r.error(node.pos, "invalid type for 'driver': must be a scalar or a list")
            return ()
        found: list[str] = []
        for item in items:
            text = self.string(item, "match driver")
            if text is None:
                continue
            if any(c.isspace() for c in text):
                self.r.error(item.pos, "a 'driver' glob cannot contain whitespace")
                continue
            if text:
                found.append(text)
        return tuple(found)

    def finish_ethernets(self) -> None:
        """Check the keys of each ethernet now that we know which are ports."""
        pfs = {
            eth.node.entries["link"].value.value
            for eth in self.ethernets.values()
            if "link" in eth.node.entries and isinstance(eth.node.entries["link"].value, YScalar)
        }
        for eth in self.ethernets.values():
            for key in ("embedded-switch-mode", "delay-virtual-functions-rebind"):
                value = eth.node.entries.get(key)
                if (
                    value is not None
                    and (key == "embedded-switch-mode" or is_true(value.value))
                    and eth.id not in pfs
                    and "virtual-function-count" not in eth.node.entries
                ):
                    self.r.error(
                        eth.node.entries[key].key_pos,
                        f"{eth.id}: this is not a SR-IOV PF, so `{key}` does not apply",
                        "give it virtual-function-count, or link a VF to it",
                    )
            bond = self.port_of.get(eth.id)
            for key, entry in eth.node.entries.items():
                if key == keys.OVS_KEY:
                    self.r.error(
                        entry.key_pos,
                        "Open vSwitch ports are not managed by bondd",
                        "remove `openvswitch` or manage this device with netplan",
                    )
                elif key in keys.OTHERS_COMMON:
                    self.r.note_once(key, entry.key_pos, keys.OTHERS_COMMON[key])
                elif key in keys.OTHERS_PHYSICAL:
                    self.r.note_once(key, entry.key_pos, keys.OTHERS_PHYSICAL[key])
            if bond is None:
                self.common(f"ethernet {eth.id}", ("ethernet", eth.id), eth.node, applied=False)
                self.r.note(
                    eth.pos, f"ethernet `{eth.id}` is not a port of any bond; bondd leaves it alone"
                )
                continue
            self.port_keys(eth.id, eth.node, bond)

    def port_keys(self, port: str, node: YMap, bond: str) -> None:
        """What a bond port carries that bondd does not apply: said once per key, with why."""
        self.common(f"port {port}", ("port", port), node, applied=False)
        for key, entry in node.entries.items():
            if key in ("addresses", "routes", "gateway4", "gateway6"):
                self.r.passed(
                    entry.key_pos,
                    f"`{key}` of `{port}` is not applied: {port} is a port of {bond}, and the"
                    " kernel keeps a port's traffic on the bond",
                    f"move `{key}` to the bond {bond}",
                )
            elif key == "mtu":
                self.r.warning(
                    entry.key_pos,
                    f"the MTU of port `{port}` follows its bond {bond}",
                    f"set mtu on {bond} instead",
                )
            elif key == "macaddress":
                self.r.warning(
                    entry.key_pos,
                    f"the bond {bond} sets the MAC address of port `{port}`",
                    f"set macaddress on {bond}, or fail-over-mac-policy",
                )
