"""The only part of bondd that talks to the kernel: netlink (pyroute2) and sysfs.

Everything above it (config, plan, engine) works on `bondd.model` values, so
it can be tested without a kernel; everything here is tested in the lab.
"""
