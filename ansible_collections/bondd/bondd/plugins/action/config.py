# -*- coding: utf-8 -*-
# Copyright: bondd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of bondd.bondd.config: `src` names a file on the controller, as with copy.

The module itself runs on the host; this only reads `src` (from the role's or
play's files/) and hands its text to the module as `content`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        src = args.pop("src", None)
        if src is not None:
            if args.get("content") is not None:
                result.update(failed=True, msg="src and content are mutually exclusive")
                return result
            try:
                path = self._find_needle("files", src)
                with open(path, "rb") as handle:
                    args["content"] = to_text(handle.read(), errors="surrogate_or_strict")
            except (AnsibleError, IOError, OSError) as exc:
                result.update(failed=True, msg="cannot read src %s: %s" % (src, to_text(exc)))
                return result
        result.update(
            self._execute_module(
                module_name="bondd.bondd.config", module_args=args, task_vars=task_vars
            )
        )
        return result
