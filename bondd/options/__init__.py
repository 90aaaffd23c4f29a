"""The one table of kernel bond options, and conversions between their spellings.

Each `BondOption` row says everything bondd knows about one kernel option:
its YAML key(s) (netplan's name first, then netplan's older spellings, or
bondd's own kebab-case name where netplan has none), sysfs file, netlink
attribute, value type and range, named<->numeric values, kernel default,
modes the kernel accepts it in, modes where it has any effect, and whether
changing it needs the bond down or without ports. Validation, planning,
the kernel reader and writer and the renderers all read this table; there is
no second one. Sources: Documentation/networking/bonding.rst and
drivers/net/bonding/bond_options.c (bond_opts[] and its value tables),
netplan's YAML reference for the key names.

Values have three spellings: YAML (what a person writes: `100ms`, `true`,
`layer3+4`), canonical (what the kernel prints in sysfs and what `BondSpec`
holds: ints, the enum word, tuples of addresses) and netlink (numbers).
The package holds three files: row.py (what a row says), table.py (the
rows; adding an option means adding a row there) and codec.py (the value
conversions). Everyone imports from `bondd.options`. Pure: no I/O.
"""

from bondd.options.codec import (
    default_for,
    from_netlink,
    parse_duration,
    parse_mac,
    parse_sysfs,
    parse_yaml_value,
    to_netlink,
    to_yaml,
)
from bondd.options.row import (
    ALL_MODES,
    INT_MAX,
    INT_MIN,
    MAX_TARGETS,
    BondOption,
    Kind,
    NotAppliedError,
    OptionValueError,
    Restriction,
    Scope,
    Unit,
)
from bondd.options.table import (
    BOND_OPTIONS,
    OPTIONS,
    PORT_OPTIONS,
    RUNTIME_OPTIONS,
    by_ifla,
    by_kernel_name,
    by_yaml_key,
    yaml_keys,
)

__all__ = [
    "ALL_MODES",
    "BOND_OPTIONS",
    "INT_MAX",
    "INT_MIN",
    "MAX_TARGETS",
    "OPTIONS",
    "PORT_OPTIONS",
    "RUNTIME_OPTIONS",
    "BondOption",
    "Kind",
    "NotAppliedError",
    "OptionValueError",
    "Restriction",
    "Scope",
    "Unit",
    "by_ifla",
    "by_kernel_name",
    "by_yaml_key",
    "default_for",
    "from_netlink",
    "parse_duration",
    "parse_mac",
    "parse_sysfs",
    "parse_yaml_value",
    "to_netlink",
    "to_yaml",
    "yaml_keys",
]
