#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bondd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Confirm the change waiting in bondd's confirm window: the commit of commit-confirmed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: confirm
short_description: Keep the bondd change that is waiting for confirmation
version_added: "1.0.0"
description:
  - Commits the transaction waiting in bondd's confirm window (C(bondctl confirm)), so the host
    does not roll it back at the deadline.
  - Idempotent. With nothing waiting the task is ok, unchanged, and says so.
  - With C(txn) (the C(txn) returned by M(bondd.bondd.config) of the change being rolled out) only that
    transaction is confirmed. If it is no longer waiting the task fails, because the host rolled
    it back at its deadline, or someone else confirmed or undid it.
author:
  - bondd contributors (@bondd)
options:
  txn:
    description:
      - The transaction to confirm. Omitted, whatever is waiting is confirmed.
    type: str
  bondctl:
    description:
      - The C(bondctl) to run on the host, a path or a name looked up in C(PATH).
    type: path
    default: bondctl
notes:
  - Needs root on the host (C(become)).
seealso:
  - module: bondd.bondd.config
"""

EXAMPLES = r"""
- name: Apply with a window
  bondd.bondd.config:
    name: 10-bond0.yaml
    src: bond0.yaml
    confirm_timeout: 60
  register: change

- name: Reconnect over the network as it is now
  ansible.builtin.wait_for_connection:
    timeout: 30

- name: Keep the change
  bondd.bondd.confirm:
    txn: "{{ change.txn }}"
  when: change.result == 'waiting'
"""

RETURN = r"""
txn:
  description: The transaction confirmed (or that would be in check mode); null when none.
  returned: always
  type: str
msg:
  description: What was done, in words.
  returned: always
  type: str
  sample: nothing is waiting for confirmation
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.bondd.bondd.plugins.module_utils import bondctl


def main():
    module = AnsibleModule(
        argument_spec=dict(txn=dict(type="str"), bondctl=bondctl.BONDCTL_OPTION),
        supports_check_mode=True,
    )
    wanted = module.params["txn"]
    if module.check_mode:
        pending = bondctl.status(module).get("pending")
        waiting = pending if pending and pending.get("phase") == "waiting" else None
        if waiting is None or (wanted and waiting.get("txn") != wanted):
            gone(module, wanted)
        module.exit_json(changed=True, txn=waiting.get("txn"), msg="would confirm it")
    # One bondctl call (the window is running): confirm, then read what it says.
    rc, _data, out, err = bondctl.run(module, "confirm")
    match = re.search(r"confirmed transaction ([0-9a-f]+)", out or "")
    if rc == bondctl.EX_OK and match:
        txn = match.group(1)
        if wanted and txn != wanted:
            module.fail_json(
                msg="confirmed transaction %s, not %s: %s was no longer waiting" % (txn, wanted, wanted),
                txn=txn,
                changed=True,
            )
        module.exit_json(changed=True, txn=txn, msg="confirmed transaction %s: committed" % txn)
    if rc == bondctl.EX_NOTHING and "no change is waiting" in (err or "") + (out or ""):
        gone(module, wanted)
    module.fail_json(
        msg="bondctl confirm failed: %s" % bondctl.error_text(out, err), rc=rc, stdout=out, stderr=err
    )


def gone(module, wanted):
    """Nothing waits: fine when nothing was named; the change is gone when it was."""
    if wanted:
        module.fail_json(
            msg="transaction %s is no longer waiting for confirmation: the host rolled it"
            " back at its deadline, or it was confirmed or undone by someone else;"
            " bondd.bondd.facts and `journalctl -u bondd` show which" % wanted,
            txn=wanted,
        )
    module.exit_json(changed=False, txn=None, msg="nothing is waiting for confirmation")


if __name__ == "__main__":
    main()
