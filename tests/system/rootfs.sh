#!/bin/bash
# Build (or find) the Debian 12 root filesystem the system tier boots with
# systemd as PID 1 under User-Mode Linux, and print its path.
#
#     bash tests/system/rootfs.sh            # prints /var/cache/bondd-lab/rootfs-HASH
#
# The guest has no network, so everything the bondd .deb depends on is put in
# here, the way apt would have pulled it in. The tree is cached per machine
# under /var/cache/bondd-lab, named by a hash of this recipe and of the UML
# kernel version: a changed recipe or kernel builds a new tree, an unchanged
# one is reused (about 80 s to build with a cold package cache, none after).
# Older trees are removed once a new one is complete.
set -euo pipefail

CACHE=${BONDD_LAB_CACHE:-/var/cache/bondd-lab}
PACKAGES=systemd,systemd-sysv,udev,dbus,apt,iproute2,kmod,iputils-ping,procps,python3,python3-yaml,python3-pyroute2,python3-watchdog,python3-sdnotify,man-db
SUITE=bookworm

if [ "$(id -u)" -ne 0 ]; then
  echo "rootfs: run as root (debootstrap and chroot need it)" >&2
  exit 77
fi
uml_version=$(ls /usr/lib/uml/modules 2>/dev/null | sort | tail -n1)
if [ -z "$uml_version" ]; then
  echo "rootfs: no UML modules under /usr/lib/uml/modules; apt-get install user-mode-linux" >&2
  exit 1
fi
key=$( { cat "$0"; echo "$uml_version"; } | sha256sum | cut -c1-16)
tree=$CACHE/rootfs-$key
if [ -f "$tree/.bondd-lab-complete" ]; then
  echo "$tree"
  exit 0
fi

mkdir -p "$CACHE/debs"
work=$CACHE/building-$key
rm -rf "$work"
echo "rootfs: building $tree (debootstrap $SUITE)" >&2
started=$SECONDS
debootstrap --variant=minbase --cache-dir="$CACHE/debs" --include="$PACKAGES" \
  "$SUITE" "$work" >"$CACHE/debootstrap-$key.log" 2>&1 || {
  echo "rootfs: debootstrap failed; see $CACHE/debootstrap-$key.log" >&2
  tail -n 20 "$CACHE/debootstrap-$key.log" >&2
  exit 1
}

# The UML kernel's modules, where the guest's modprobe looks (hard links when
# the cache shares a file system with /usr, a copy otherwise). bonding, veth
# and dummy are loaded on demand by the kernel, as on a real host.
mkdir -p "$work/usr/lib/modules"
cp -al "/usr/lib/uml/modules/$uml_version" "$work/usr/lib/modules/" 2>/dev/null \
  || cp -a "/usr/lib/uml/modules/$uml_version" "$work/usr/lib/modules/"

echo "# hostfs root: nothing to mount" > "$work/etc/fstab"
echo bondd-guest > "$work/etc/hostname"
chroot "$work" passwd -d root >/dev/null
ln -sf /usr/lib/systemd/system/multi-user.target "$work/etc/systemd/system/default.target"

# Boot tuning for UML, where every exec and page fault is slow: no boot-time
# generators, no units that mean nothing in a throwaway network guest, and
# udev coldplug of network devices only (UML has hundreds of tty devices).
mkdir -p "$work/etc/systemd/system-generators"
for g in systemd-cryptsetup-generator systemd-debug-generator systemd-fstab-generator \
  systemd-getty-generator systemd-gpt-auto-generator systemd-hibernate-resume-generator \
  systemd-integritysetup-generator systemd-rc-local-generator systemd-run-generator \
  systemd-system-update-generator systemd-sysv-generator systemd-veritysetup-generator; do
  ln -sf /dev/null "$work/etc/systemd/system-generators/$g"
done
for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
  fstrim.timer man-db.timer e2scrub_reap.service systemd-pstore.service getty@tty1.service \
  systemd-logind.service systemd-user-sessions.service systemd-binfmt.service \
  proc-sys-fs-binfmt_misc.mount proc-sys-fs-binfmt_misc.automount dev-mqueue.mount \
  sys-kernel-config.mount sys-fs-fuse-connections.mount sys-kernel-debug.mount \
  sys-kernel-tracing.mount dev-hugepages.mount kmod-static-nodes.service \
  systemd-update-utmp.service systemd-update-utmp-runlevel.service systemd-random-seed.service \
  systemd-remount-fs.service systemd-sysusers.service systemd-firstboot.service \
  systemd-machine-id-commit.service systemd-journal-catalog-update.service ldconfig.service \
  systemd-update-done.service systemd-hwdb-update.service systemd-ask-password-console.path \
  systemd-ask-password-wall.path getty.target console-getty.service; do
  ln -sf /dev/null "$work/etc/systemd/system/$u"
done
mkdir -p "$work/etc/systemd/system/systemd-udev-trigger.service.d"
cat > "$work/etc/systemd/system/systemd-udev-trigger.service.d/net-only.conf" <<'UNIT'
[Service]
ExecStart=
ExecStart=-/bin/udevadm trigger --type=devices --action=add --subsystem-match=net
UNIT
# man-db's trigger rebuilds its index on every dpkg -i (slow under UML, and
# it fails on hostfs); the file below is its switch.
rm -f "$work/var/lib/man-db/auto-update"

# What a host that waits for the network sees: the list of bonds at the moment
# network-online.target is reached (read by the boot checks).
cat > "$work/etc/systemd/system/bondd-lab-online.service" <<'UNIT'
[Unit]
Description=bondd lab: record the bonds present when network-online.target is reached
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'ls /proc/net/bonding > /run/bondd-lab-online.txt 2>&1; exit 0'

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/bondd-lab-online.service \
  "$work/etc/systemd/system/multi-user.target.wants/bondd-lab-online.service"

# The job runner: once multi-user.target is reached it runs /lab/job.sh,
# keeps its output and exit status in /lab (a host directory, through the
# overlay), saves the journal and powers the guest off.
mkdir -p "$work/usr/local/sbin" "$work/lab"
cat > "$work/usr/local/sbin/bondd-lab-job" <<'RUNNER'
#!/bin/sh
echo "bondd-lab: multi-user.target reached after $(cut -d' ' -f1 /proc/uptime)s"
cd /lab || exit 125
if [ -f /lab/job.sh ]; then
  /bin/sh /lab/job.sh > /lab/out.log 2>&1 </dev/null
  echo $? > /lab/rc.tmp
else
  echo "bondd-lab: no /lab/job.sh" > /lab/out.log
  echo 125 > /lab/rc.tmp
fi
cat /lab/out.log
journalctl -b --no-pager -o short-monotonic > /lab/journal.txt 2>&1
mv /lab/rc.tmp /lab/rc
echo "bondd-lab: job exited $(cat /lab/rc) after $(cut -d' ' -f1 /proc/uptime)s"
sync
RUNNER
chmod 755 "$work/usr/local/sbin/bondd-lab-job"
cat > "$work/etc/systemd/system/bondd-lab-job.service" <<'UNIT'
[Unit]
Description=bondd lab: run /lab/job.sh, then power off
After=multi-user.target
ConditionPathExists=/lab/job.sh
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/bondd-lab-job
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=900

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/bondd-lab-job.service \
  "$work/etc/systemd/system/multi-user.target.wants/bondd-lab-job.service"

chroot "$work" apt-get clean
touch "$work/.bondd-lab-complete"
rm -rf "$tree"
mv "$work" "$tree"
for old in "$CACHE"/rootfs-*; do
  [ "$old" = "$tree" ] || rm -rf "$old"
done
echo "rootfs: built $tree in $((SECONDS - started))s ($(du -sh "$tree" | cut -f1))" >&2
echo "$tree"
