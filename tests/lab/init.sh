#!/bin/sh
# PID 1 of the bondd lab: a User-Mode Linux kernel whose root is the host's /
# (hostfs). It gives the kernel tier a real bonding driver without touching the
# host's network: every interface the tests make lives in this kernel.
#
# The runner (tests/lab/run.py) passes two kernel parameters, which the kernel
# hands to init as environment variables:
#   BONDD_LAB_JOB   a shell script on the host to run
#   BONDD_LAB_KEEP  the checkout, kept visible over the private tmpfs mounts
#   BONDD_LAB_MODS  a directory laid out as DIR/lib/modules/VERSION for the
#                   UML kernel's modules (the host has no /lib/modules for it)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# Private /run, /tmp and /var/tmp: the lab must never see or write the host's
# runtime state (netns bind mounts, sockets, bondd's run dir).
# BONDD_LAB_KEEP (the checkout, which holds the job and the virtualenv) stays
# visible even when it lives under one of those directories.
mkdir -p /dev/shm/keep
[ -n "$BONDD_LAB_KEEP" ] && mount --bind "$BONDD_LAB_KEEP" /dev/shm/keep
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
if [ -n "$BONDD_LAB_KEEP" ] && [ ! -d "$BONDD_LAB_KEEP/tests/lab" ]; then
  mkdir -p "$BONDD_LAB_KEEP" && mount --move /dev/shm/keep "$BONDD_LAB_KEEP"
fi
mkdir -p /run/netns

# Module autoload (e.g. the kernel asking for "bridge") must find the UML tree.
cat > /run/lab-modprobe <<MP
#!/bin/sh
exec /sbin/modprobe -d "$BONDD_LAB_MODS" "\$@"
MP
chmod 755 /run/lab-modprobe
echo /run/lab-modprobe > /proc/sys/kernel/modprobe
hostname bondd-lab
ip link set lo up

# max_bonds=0: without it, loading the driver creates a stray round-robin bond0.
/run/lab-modprobe ipv6 && /run/lab-modprobe bonding max_bonds=0 \
  && /run/lab-modprobe -a dummy veth bridge 8021q \
  || echo "bondd-lab: loading kernel modules failed" >&2
echo "bondd-lab: ready in $(cut -d' ' -f1 /proc/uptime)s (kernel $(uname -r))"

rc=125
if [ -n "$BONDD_LAB_JOB" ] && [ -f "$BONDD_LAB_JOB" ]; then
  sh "$BONDD_LAB_JOB"; rc=$?
else
  echo "bondd-lab: no job script given" >&2
fi
echo "bondd-lab: job exited $rc after $(cut -d' ' -f1 /proc/uptime)s"
sync
echo o > /proc/sysrq-trigger 2>/dev/null
poweroff -f
