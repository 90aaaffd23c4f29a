"""From desired and actual state to an ordered list of operations. Pure.

`target` brings the desired state to the form the kernel reports, `diff`
compares it with the actual state field by field, `planner` turns the
differences into operations in an order the kernel accepts, each labelled
with the disruption it causes. Nothing here touches the kernel.
"""
