"""The kernel's current bonds as a desired state: what a rollback converges to.

Rollback is "plan with the snapshot as desired state", so a snapshot is a
`DesiredState` naming every bond exactly as the kernel has it: ports by
device name, every option the kernel holds for the mode, addresses, routes,
MTU, MAC and VLANs. Planning it against the same kernel yields no op.
"""

from __future__ import annotations

from collections.abc import Iterable

from bondd.model import (
    ActualState,
    BondOptions,
    BondSpec,
    BondState,
    DesiredState,
    OptionValue,
    PortMatch,
    PortSpec,
    Settings,
)
from bondd.options import RUNTIME_OPTIONS, by_kernel_name


def snapshot_desired(actual: ActualState, bonds: Iterable[str], settings: Settings) -> DesiredState:
    """The named bonds (those that exist) as a desired state."""
    specs = tuple(
        bond_spec(bond) for name in sorted(set(bonds)) if (bond := actual.bond(name)) is not None
    )
    return DesiredState(bonds=specs, settings=settings, sources=("<snapshot>",))


def bond_spec(bond: BondState) -> BondSpec:
    mode = bond.mode
    options: dict[str, OptionValue] = {
        name: value
        for name, value in bond.options.items()
        if name not in RUNTIME_OPTIONS
        and mode in by_kernel_name(name).modes
        and not (name == "primary" and value == "")
    }
    ports = tuple(
        PortSpec(
            id=port.name,
            match=PortMatch(name=port.name),
            queue_id=port.queue_id,
            prio=port.prio if mode in by_kernel_name("prio").modes else None,
        )
        for port in bond.ports
    )
    return BondSpec(
        name=bond.name,
        ports=ports,
        options=BondOptions(options),
        addresses=bond.addresses,
        routes=bond.routes,
        mtu=bond.mtu,
        macaddress=bond.macaddress,
        vlans=bond.vlans,
        ordered_ports=True,
    )
