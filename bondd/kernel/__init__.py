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
- Writes are encoded by the codec as well: links, VLANs, enslaving,
  addresses and bond options (`linkwrite`, with the attribute widths in
  `rawlink`), routes (`routewrite`); `writer` maps plan ops onto them, and
  bond address lists and MACs go through `sysfs`. Through pyroute2 the
  writes a VLAN-heavy plan makes by the thousand cost four times as much,
  its request layer's Python rather than the kernel (lab, 300 VLANs x 3
  writes: 2.6 s against 0.64 s), and importing pyroute2 alone was 22 of
  the daemon's 39 MB: the daemon imports none of it. pyroute2's `IPRoute`
  (`netlink`) is left to `bondctl failover`'s drill (`drill`) and the
  tests, which use it as an independent second opinion.
- `procbonding`, `sysfs`, `linkspeed`, `hostfacts`: what only /proc and
  /sys tell.
"""
