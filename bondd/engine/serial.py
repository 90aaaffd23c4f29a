"""Desired states as JSON, for the pending transaction's snapshot on disk.

Hand-written rather than generic so that a stored file stays readable and a
field added to the model later has an explicit default when old files load.
"""

from __future__ import annotations

from typing import Any

from bondd.model import (
    BondOptions,
    BondSpec,
    DesiredState,
    OptionValue,
    PortMatch,
    PortSpec,
    ProbeSpec,
    ProbeType,
    RouteSpec,
    Settings,
    VlanSpec,
)


def route_to_json(route: RouteSpec) -> dict[str, Any]:
    return {
        "to": route.to,
        "via": route.via,
        "metric": route.metric,
        "table": route.table,
        "on_link": route.on_link,
        "source": route.source,
        "scope": route.scope,
        "type": route.type,
        "mtu": route.mtu,
    }


def route_from_json(data: dict[str, Any]) -> RouteSpec:
    return RouteSpec(
        to=data["to"],
        via=data.get("via"),
        metric=data.get("metric"),
        table=data.get("table"),
        on_link=bool(data.get("on_link", False)),
        source=data.get("source"),
        scope=data.get("scope"),
        type=data.get("type", "unicast"),
        mtu=data.get("mtu"),
    )


def _value_to_json(value: OptionValue) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _value_from_json(value: Any) -> OptionValue:
    return tuple(str(v) for v in value) if isinstance(value, list) else value


def _vlan_to_json(vlan: VlanSpec) -> dict[str, Any]:
    return {
        "name": vlan.name,
        "id": vlan.id,
        "link": vlan.link,
        "addresses": list(vlan.addresses),
        "routes": [route_to_json(r) for r in vlan.routes],
        "mtu": vlan.mtu,
        "macaddress": vlan.macaddress,
    }


def _vlan_from_json(data: dict[str, Any]) -> VlanSpec:
    return VlanSpec(
        name=data["name"],
        id=int(data["id"]),
        link=data["link"],
        addresses=tuple(data.get("addresses", ())),
        routes=tuple(route_from_json(r) for r in data.get("routes", ())),
        mtu=data.get("mtu"),
        macaddress=data.get("macaddress"),
    )


def bond_to_json(bond: BondSpec) -> dict[str, Any]:
    return {
        "name": bond.name,
        "ports": [
            {
                "id": p.id,
                "name": p.match.name,
                "macaddress": p.match.macaddress,
                "driver": list(p.match.driver),
                "queue_id": p.queue_id,
                "prio": p.prio,
            }
            for p in bond.ports
        ],
        "options": {k: _value_to_json(v) for k, v in bond.options.items()},
        "addresses": list(bond.addresses),
        "routes": [route_to_json(r) for r in bond.routes],
        "mtu": bond.mtu,
        "macaddress": bond.macaddress,
        "vlans": [_vlan_to_json(v) for v in bond.vlans],
        "ordered_ports": bond.ordered_ports,
    }


def bond_from_json(data: dict[str, Any]) -> BondSpec:
    return BondSpec(
        name=data["name"],
        ports=tuple(
            PortSpec(
                id=p["id"],
                match=PortMatch(
                    name=p.get("name"),
                    macaddress=p.get("macaddress"),
                    driver=tuple(p.get("driver", ())),
                ),
                queue_id=p.get("queue_id"),
                prio=p.get("prio"),
            )
            for p in data.get("ports", ())
        ),
        options=BondOptions({k: _value_from_json(v) for k, v in data.get("options", {}).items()}),
        addresses=tuple(data.get("addresses", ())),
        routes=tuple(route_from_json(r) for r in data.get("routes", ())),
        mtu=data.get("mtu"),
        macaddress=data.get("macaddress"),
        vlans=tuple(_vlan_from_json(v) for v in data.get("vlans", ())),
        ordered_ports=bool(data.get("ordered_ports", False)),
    )


def desired_to_json(state: DesiredState) -> dict[str, Any]:
    return {
        "bonds": [bond_to_json(b) for b in state.bonds],
        "settings": {
            "apply_on_change": state.settings.apply_on_change,
            "lacp_gate": state.settings.lacp_gate,
            "probes": [
                {
                    "type": p.type.value,
                    "target": p.target,
                    "via": p.via,
                    "port": p.port,
                    "timeout": p.timeout,
                }
                for p in state.settings.probes
            ],
            "metrics_textfile": state.settings.metrics_textfile,
        },
        "sources": list(state.sources),
    }


def desired_from_json(data: dict[str, Any]) -> DesiredState:
    settings = data.get("settings", {})
    return DesiredState(
        bonds=tuple(bond_from_json(b) for b in data.get("bonds", ())),
        settings=Settings(
            apply_on_change=bool(settings.get("apply_on_change", True)),
            lacp_gate=bool(settings.get("lacp_gate", True)),
            probes=tuple(
                ProbeSpec(
                    type=ProbeType(p["type"]),
                    target=p["target"],
                    via=p.get("via"),
                    port=p.get("port"),
                    timeout=p.get("timeout"),
                )
                for p in settings.get("probes", ())
            ),
            metrics_textfile=settings.get("metrics_textfile"),
        ),
        sources=tuple(data.get("sources", ())),
    )
