"""The only part of bondd that talks to the kernel: netlink and sysfs.

Everything above it (config, plan, engine) works on `bondd.model` values, so
it can be tested without a kernel; everything here is tested in the lab.

Who does what, and why:

- Reads go through bondd's own rtnetlink codec (`codec`: framing, dumps,
  errors, attributes, the ifinfomsg/ifaddrmsg/rtmsg headers) and `decode`
  (messages -> `ActualState`), used by `reader` (the whole host, or one bond
  and its ports), `events` (the daemon's subscription) and `rawlink`. A read
  is the hot path: every plan, verify and drift repair makes one, and
  pyroute2's Python decode of the link, address and route dumps took
  0.4-0.8 s for 64 bonds in the lab where the raw decode takes 0.03-0.09 s
  (bench/RESULTS.md). Owning the decode also makes it the same on Debian's
  pyroute2 0.7.2 and PyPI's 0.9.x, and lets the unit tests decode captured
  kernel dumps (tests/unit/netlink/).
- Writes: the ones a plan makes by the thousand on a VLAN-heavy host
  (VLAN create and delete, link up/down, addresses) are encoded by the
  codec too (`linkwrite`): through pyroute2 they cost four times as much,
  its request layer's Python rather than the kernel (lab, 300 VLANs x 3
  writes: 2.6 s against 0.64 s). The rest goes through pyroute2's
  `IPRoute` (`writer`, `netlink`): bonds, enslaving, routes and the bond
  options its attribute map can encode; a plan makes a handful of those,
  each costing the kernel far more than the encoding, so its well-tested
  request layer earns its place there. The bond attributes its map lacks
  are encoded by `rawlink` over the codec, and address lists and MACs are
  written through `sysfs`.
- `procbonding`, `sysfs`, `linkspeed`, `hostfacts`: what only /proc and
  /sys tell.
"""
