# -*- coding: utf-8 -*-
# Copyright: bondd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running bondctl from a module: one place for its path, its JSON and its exit codes.

The modules never reimplement bondd: every decision (plan, apply, confirm,
status) is bondctl's, read back through its --json output, so what Ansible
reports is exactly what an admin would see on the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# bondctl's exit codes (bondctl(8)).
EX_OK = 0
EX_NOTHING = 1
EX_CHANGES = 2
EX_ROLLED_BACK = 3
EX_DATAERR = 65
EX_NOINPUT = 66
EX_TEMPFAIL = 75
EX_NOPERM = 77

BONDCTL_OPTION = dict(type="path", default="bondctl")


def bondctl_path(module):
    """The bondctl to run: the `bondctl` option, looked up in PATH when it is a bare name."""
    wanted = module.params["bondctl"]
    if "/" in wanted:
        return wanted
    return module.get_bin_path(wanted, required=True, opt_dirs=["/usr/sbin", "/usr/local/bin"])


def run(module, *args):
    """Run `bondctl --json ARGS`; return (rc, parsed JSON or None, stdout, stderr)."""
    argv = [bondctl_path(module), "--json"] + list(args)
    rc, out, err = module.run_command(argv, environ_update={"LC_ALL": "C.UTF-8"})
    try:
        data = json.loads(out) if out.strip() else None
    except ValueError:
        data = None
    return rc, data, out, err


def error_text(out, err):
    """bondctl's own words for a failure: every finding, then its error line."""
    # Through the daemon the findings come on stdout, the error line on stderr.
    text = "" if (out or "").lstrip().startswith("{") else (out or "")
    lines = [line for line in (text + "\n" + (err or "")).splitlines() if line.strip()]
    return "\n".join(lines) or "bondctl failed without a message"


def status(module):
    """`bondctl status --json` as a dict; fails the module when bondctl cannot say."""
    rc, data, out, err = run(module, "status")
    if rc != EX_OK or not isinstance(data, dict):
        module.fail_json(
            msg="bondctl status failed: %s" % error_text(out, err), rc=rc, stdout=out, stderr=err
        )
    return data


def operations(plan):
    """The plan's operations as the modules return them: bond, op, description, disruption."""
    if not plan:
        return []
    return [
        dict(
            bond=op.get("bond"),
            op=op.get("op"),
            description=op.get("description"),
            disruption=op.get("disruption"),
        )
        for op in plan.get("operations", [])
    ]
