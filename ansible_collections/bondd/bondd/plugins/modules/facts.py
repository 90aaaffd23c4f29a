#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bondd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bondd's view of a host (bonds, ports, LACP verdicts, drift, pending change) as facts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: facts
short_description: Read bondd's status of a host into facts
version_added: "1.0.0"
description:
  - Runs C(bondctl status --json) and returns it as the fact C(ansible_facts.bondd), plus a
    summary per bond that is easy to test in C(when) and C(assert).
  - Reads only; changes nothing. The full form is described in bondd's
    C(docs/status-json.md).
author:
  - bondd contributors (@bondd)
options:
  bondctl:
    description:
      - The C(bondctl) to run on the host, a path or a name looked up in C(PATH).
    type: path
    default: bondctl
seealso:
  - module: bondd.bondd.config
"""

EXAMPLES = r"""
- name: Read bondd's status
  bondd.bondd.facts:

- name: Every 802.3ad bond negotiated, nothing drifted, nothing waiting
  ansible.builtin.assert:
    that:
      - ansible_facts.bondd.converged
      - ansible_facts.bondd.pending is none
      - ansible_facts.bondd.lacp_verdicts.values() | reject('equalto', 'negotiated') | list == []
"""

RETURN = r"""
ansible_facts:
  description: Facts about bondd on the host.
  returned: always
  type: dict
  contains:
    bondd:
      description: bondd's status of the host.
      type: dict
      contains:
        status:
          description: C(bondctl status --json) as it printed it (bonds, ports, LACP, drift).
          type: dict
        bonds:
          description: Per bond, C(mode), C(up), C(managed), C(active_port), C(ports) (names),
            C(lacp_verdict) (null unless 802.3ad) and C(drift) (list; empty when converged,
            null when the bond is not configured).
          type: dict
        lacp_verdicts:
          description: Bond name to LACP verdict (C(negotiated), C(partner-silent), C(split),
            C(port-down), C(waiting)), for 802.3ad bonds.
          type: dict
        drifted:
          description: Names of configured bonds whose kernel state differs from the
            configuration.
          type: list
          elements: str
        missing:
          description: Configured bonds the kernel does not have.
          type: list
          elements: str
        pending:
          description: The change applied but not committed (C(txn), C(phase), C(deadline)),
            else null.
          type: dict
        converged:
          description: The configuration is valid, nothing drifted, nothing missing.
          type: bool
        config_error:
          description: Why the configuration could not be read, else null.
          type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.bondd.bondd.plugins.module_utils import bondctl


def summary(status):
    bonds = {}
    verdicts = {}
    drifted = []
    for bond in status.get("bonds", []):
        lacp = bond.get("lacp")
        verdict = lacp.get("verdict") if lacp else None
        if verdict:
            verdicts[bond["name"]] = verdict
        if bond.get("drift"):
            drifted.append(bond["name"])
        bonds[bond["name"]] = dict(
            mode=bond.get("mode"),
            up=bond.get("up"),
            managed=bond.get("managed"),
            active_port=bond.get("active_port"),
            ports=[p.get("name") for p in bond.get("ports", [])],
            addresses=bond.get("addresses", []),
            lacp_verdict=verdict,
            drift=bond.get("drift"),
        )
    config = status.get("config") or {}
    missing = list(status.get("missing", []))
    return dict(
        status=status,
        bonds=bonds,
        lacp_verdicts=verdicts,
        drifted=drifted,
        missing=missing,
        pending=status.get("pending"),
        converged=bool(config.get("ok")) and not drifted and not missing,
        config_error=config.get("error"),
    )


def main():
    module = AnsibleModule(
        argument_spec=dict(bondctl=bondctl.BONDCTL_OPTION),
        supports_check_mode=True,
    )
    module.exit_json(changed=False, ansible_facts=dict(bondd=summary(bondctl.status(module))))


if __name__ == "__main__":
    main()
