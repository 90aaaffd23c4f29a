"""bondd: a reconciling host agent for Linux NIC bonding.

The version lives here and nowhere else; packaging and `--version` read it.
"""

__version__ = "0.1.0"
