#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bondd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One bondd file on a host, changed as a bondd transaction (plan, apply, confirm window)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: config
short_description: Put one bondd configuration file in place as a safe, self-undoing transaction
version_added: "1.0.0"
description:
  - Installs one bondd YAML file under C(/etc/bondd.d) (or removes it) and applies it through
    bondd's transaction, through the running daemon when there is one, else through a
    standalone C(bondctl). The transaction takes a snapshot, executes, reads the kernel back, runs
    the connectivity probes and, for 802.3ad bonds, the LACP gate, then commits or rolls back.
  - With C(confirm_timeout) the change waits for a confirmation (M(bondd.bondd.confirm)); the
    host rolls itself back at the deadline otherwise, with nobody connected. The role
    C(bondd.bondd.rollout) confirms only after Ansible has opened a new connection to the host.
  - In check mode the plan for the proposed file is computed against the host's live kernel
    and nothing is touched. The task is C(changed) exactly when the plan has operations.
  - In diff mode the file's before and after and the plan are shown.
  - Every decision is bondctl's; the module reads its C(--json) output.
author:
  - bondd contributors (@bondd)
options:
  name:
    description:
      - The file's name under C(/etc/bondd.d), for example C(10-bond0.yaml).
      - A plain file name; no directory part.
    type: str
    required: true
  content:
    description:
      - The file's YAML text. Mutually exclusive with C(src).
    type: str
  src:
    description:
      - A file on the controller holding the YAML, looked up like the C(copy) module's C(src)
        in the role's or play's C(files/). Mutually exclusive with C(content).
    type: path
  state:
    description:
      - C(present) installs the file and applies it; C(absent) removes it and applies the
        directory without it (bonds bondd created for it are deleted, their ports restored).
      - C(absent) has no confirm window; the removal is gated by bondd's probes.
    type: str
    choices: [present, absent]
    default: present
  confirm_timeout:
    description:
      - Seconds the change waits for a confirmation before the host rolls it back by itself.
      - C(0) commits as soon as the kernel is verified and the probes pass.
      - With a window the task returns C(result=waiting) at once; confirm with
        M(bondd.bondd.confirm) after reconnecting.
    type: int
    default: 0
  probes:
    description:
      - Replaces the file's C(bondd.probes) list (what must still work after the change),
        for example a ping of the gateway. The file is then written with its
        C(bondd.probes) replaced (comments are not kept).
      - An empty list turns connectivity probes off for this apply (the LACP gate stays);
        only the confirm window can then undo a change that cuts the host off.
      - Omitted, the file's own probes are used (by default a ping of each changed bond's gateway).
    type: list
    elements: dict
  bondctl:
    description:
      - The C(bondctl) to run on the host, a path or a name looked up in C(PATH).
    type: path
    default: bondctl
notes:
  - Needs root on the host (C(become)).
  - Supports check mode (the plan, nothing touched) and diff mode (the file and the plan).
  - C(result=rolled_back) and C(result=invalid) fail the task with bondd's message.
seealso:
  - module: bondd.bondd.confirm
  - module: bondd.bondd.facts
"""

EXAMPLES = r"""
- name: Plan bond0 on every host, touch nothing
  bondd.bondd.config:
    name: 10-bond0.yaml
    src: bond0.yaml
  check_mode: true
  diff: true

- name: Apply bond0 with a 60 second confirm window
  bondd.bondd.config:
    name: 10-bond0.yaml
    content: "{{ lookup('template', 'bond0.yaml.j2') }}"
    confirm_timeout: 60
    probes:
      - {type: ping, target: 192.0.2.1}
  register: change

- name: Remove a bond file
  bondd.bondd.config:
    name: 20-bond1.yaml
    state: absent
"""

RETURN = r"""
result:
  description:
    - What became of the change. C(committed) (also when there was nothing to do),
      C(waiting) (applied, waiting for a confirmation until C(deadline)), C(rolled_back) or
      C(invalid). In check mode C(planned).
  returned: always
  type: str
  sample: waiting
reason:
  description: bondd's reason for the result (why it rolled back, or what is invalid).
  returned: always
  type: str
  sample: "lacp: bond0: partner-silent: no LACP partner answers"
txn:
  description: The transaction's id, for M(bondd.bondd.confirm); null when nothing was applied.
  returned: always
  type: str
deadline:
  description: Unix time at which a waiting change is rolled back unless confirmed.
  returned: when result is waiting
  type: float
operations:
  description: The plan, one entry per operation, with its disruption class.
  returned: always
  type: list
  elements: dict
  contains:
    bond:
      description: The bond the operation is about.
      type: str
    op:
      description: The operation's kind.
      type: str
    description:
      description: What the operation does, in words.
      type: str
    disruption:
      description: What it costs (live change, bond down briefly, ports released, new bond).
      type: str
plan:
  description: The plan as C(bondctl plan --json) prints it.
  returned: always
  type: dict
plan_text:
  description: The plan as C(bondctl plan) prints it.
  returned: always
  type: str
gates:
  description: Each probe and gate, with its verdict, as bondd ran them.
  returned: when the change was applied
  type: list
  elements: dict
file_changed:
  description: The file's content differs (or differed) from what is on the host.
  returned: always
  type: bool
"""

import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.bondd.bondd.plugins.module_utils import bondctl

try:
    import yaml

    HAS_YAML = True
except ImportError:
    HAS_YAML = False

CONFIG_DIR = "/etc/bondd.d"
RUN_CONFIG_DIR = "/run/bondd.d"


def read(path):
    try:
        with open(path, "r") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def with_probes(module, content, probes):
    """The file with its bondd.probes replaced; scalars stay text, as bondd reads them."""
    if not HAS_YAML:
        module.fail_json(msg="the probes option needs PyYAML on the host (python3-yaml)")
    try:
        document = yaml.load(content, Loader=yaml.BaseLoader) or {}
    except yaml.YAMLError as exc:
        module.fail_json(msg="%s is not YAML: %s" % (module.params["name"], exc), result="invalid")
    if not isinstance(document, dict):
        module.fail_json(msg="%s is not a YAML mapping" % module.params["name"], result="invalid")
    settings = document.get("bondd")
    if not isinstance(settings, dict):
        settings = {}
    settings["probes"] = [dict((str(k), str(v)) for k, v in p.items()) for p in probes]
    document["bondd"] = settings
    return yaml.safe_dump(document, default_flow_style=False, sort_keys=False)


def plan_present(module, proposal_path):
    rc, data, out, err = bondctl.run(module, "plan", proposal_path)
    return rc, data, out, err


def plan_absent(module, name, workdir):
    """Plan the directories as they would be without the file: copies, never the real ones."""
    dirs = []
    for index, real in enumerate((CONFIG_DIR, RUN_CONFIG_DIR)):
        copy = os.path.join(workdir, "dir%d" % index)
        os.mkdir(copy)
        if os.path.isdir(real):
            for entry in os.listdir(real):
                source = os.path.join(real, entry)
                if (index == 0 and entry == name) or not os.path.isfile(source):
                    continue
                shutil.copyfile(source, os.path.join(copy, entry))
        dirs += ["--config-dir", copy]
    return bondctl.run(module, "plan", *dirs)


def fail_invalid(module, out, err, **extra):
    message = bondctl.error_text(out, err)
    module.fail_json(msg=message, result="invalid", reason=message, **extra)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            content=dict(type="str"),
            src=dict(type="path"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            confirm_timeout=dict(type="int", default=0),
            probes=dict(type="list", elements="dict"),
            bondctl=bondctl.BONDCTL_OPTION,
        ),
        mutually_exclusive=[("content", "src")],
        required_if=[("state", "present", ("content", "src"), True)],
        supports_check_mode=True,
    )
    params = module.params
    name = params["name"]
    if not name or "/" in name or name.startswith("."):
        module.fail_json(msg="name must be a plain file name under %s, got %r" % (CONFIG_DIR, name))
    if params["confirm_timeout"] < 0:
        module.fail_json(msg="confirm_timeout must be 0 (no window) or a number of seconds")
    present = params["state"] == "present"
    target = os.path.join(CONFIG_DIR, name)
    before = read(target)
    after = None
    if present:
        if params["content"] is not None:
            after = params["content"]
        else:
            after = read(params["src"])
            if after is None:
                module.fail_json(msg="cannot read src %s on the host" % params["src"])
        if params["probes"]:
            after = with_probes(module, after, params["probes"])
    file_changed = before != after

    workdir = tempfile.mkdtemp(prefix="bondd-ansible-")
    try:
        proposal = os.path.join(workdir, name)
        if present:
            with open(proposal, "w") as handle:
                handle.write(after)
            rc, plan, out, err = plan_present(module, proposal)
        else:
            rc, plan, out, err = plan_absent(module, name, workdir)
        if rc == bondctl.EX_DATAERR:
            fail_invalid(module, out, err, file_changed=file_changed, operations=[])
        if rc != bondctl.EX_OK or not isinstance(plan, dict):
            module.fail_json(
                msg="bondctl plan failed: %s" % bondctl.error_text(out, err),
                rc=rc,
                stdout=out,
                stderr=err,
            )
        has_ops = not plan.get("converged", True)
        plan_text = plan_text_of(plan)
        outcome = dict(
            changed=has_ops,
            file_changed=file_changed,
            operations=bondctl.operations(plan),
            plan=plan,
            plan_text=plan_text,
            txn=None,
            reason="",
        )
        if module._diff:
            outcome["diff"] = [
                dict(
                    before_header=target,
                    after_header=target,
                    before=before or "",
                    after=after or "",
                ),
                dict(prepared=plan_text),
            ]
        if module.check_mode:
            outcome["result"] = "planned"
            module.exit_json(**outcome)
        if not has_ops and not file_changed:
            outcome.update(result="committed", reason="converged: nothing to do")
            module.exit_json(**outcome)
        apply_args = ["apply", "--yes"]
        if params["probes"] is not None and not params["probes"]:
            apply_args.append("--no-probes")
        if present:
            if params["confirm_timeout"] > 0:
                apply_args += ["--confirm-timeout", str(params["confirm_timeout"]), "--no-wait"]
            apply_args.append(proposal)
        else:
            os.unlink(target)
        rc, answer, out, err = bondctl.run(module, *apply_args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(module, outcome, rc, answer, out, err)


def plan_text_of(plan):
    lines = list("warning: %s" % w for w in plan.get("warnings", []))
    if plan.get("converged", True):
        return "\n".join(lines + ["converged: nothing to do"])
    for op in plan.get("operations", []):
        lines.append("%s: %s (%s)" % (op.get("bond"), op.get("description"), op.get("disruption")))
    return "\n".join(lines)


def report(module, outcome, rc, answer, out, err):
    """Turn bondctl apply's answer into the task's result; rolled back and invalid fail."""
    if rc == bondctl.EX_DATAERR:
        fail_invalid(module, out, err, **without(outcome, "reason"))
    if not isinstance(answer, dict):
        module.fail_json(
            msg="bondctl apply failed: %s" % bondctl.error_text(out, err), rc=rc, **outcome
        )
    state = answer.get("result")
    outcome.update(
        txn=answer.get("txn"),
        reason=answer.get("reason") or "",
        gates=answer.get("gates", []),
        plan_text=answer.get("plan_text") or outcome["plan_text"],
    )
    if answer.get("plan"):
        outcome.update(plan=answer["plan"], operations=bondctl.operations(answer["plan"]))
    if state == "rolled-back":
        outcome.update(result="rolled_back", changed=False)
        module.fail_json(msg="bondd rolled the change back: %s" % outcome["reason"], **outcome)
    if state == "waiting":
        outcome.update(result="waiting", deadline=answer.get("deadline"), changed=True)
    elif state in ("committed", "converged"):
        outcome.update(result="committed")
        if state == "converged" and not outcome["reason"]:
            outcome["reason"] = "converged: nothing to do"
    else:
        module.fail_json(msg="bondctl apply answered %r" % state, rc=rc, **outcome)
    module.exit_json(**outcome)


def without(mapping, *keys):
    return dict((k, v) for k, v in mapping.items() if k not in keys)


if __name__ == "__main__":
    main()
