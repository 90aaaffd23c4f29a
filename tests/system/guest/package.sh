#!/bin/sh
# System tier, second boot of the same guest disk (a reboot): bondd starts at
# boot and has the bond in place before network-online.target; then the
# package's life cycle: upgrade without a link flap, keeping a changed
# conffile; remove; reinstall; purge leaving only the admin's files.
. /lab/common.sh
up=$(ls /lab/bondd_*systest*_all.deb | head -n1)

# --- boot: the committed configuration is applied before the network is "online"
check boot-active wait_for 30 sh -c '[ "$(systemctl is-active bondd)" = active ]'
ready_us=$(prop bondd ActiveEnterTimestampMonotonic)
start_us=$(prop bondd ExecMainStartTimestampMonotonic)
measure boot_to_ready_s "$(awk -v b="$ready_us" 'BEGIN { printf "%.2f", b / 1e6 }')"
measure start_to_ready_s "$(awk -v a="$start_us" -v b="$ready_us" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')"
check boot-bond has_ports bond0 p0 p1
check boot-committed-options sysfs_is bond0 miimon 50
cat /run/bondd-lab-online.txt
check boot-bond-before-network-online grep -qx bond0 /run/bondd-lab-online.txt
online_us=$(prop network-online.target ActiveEnterTimestampMonotonic)
check boot-ready-before-network-online [ "$ready_us" -gt 0 ] && [ "$ready_us" -le "$online_us" ]
check boot-no-restarts [ "$(prop bondd NRestarts)" = 0 ]

# --- upgrade: a changed conffile is kept; bondd restarts; no link goes down
echo "# changed by the admin: keep me" >> /etc/modprobe.d/bondd.conf
cp /etc/modprobe.d/bondd.conf /tmp/modprobe-changed.conf
pid=$(prop bondd MainPID)
start_link_monitor /tmp/upgrade-links.txt
check upgrade-dpkg dpkg -i "$up"
stop_link_monitor
cat /tmp/upgrade-links.txt
check upgrade-version [ "$(dpkg-query -W -f='${Version}' bondd)" = "$(dpkg-deb -f "$up" Version)" ]
check upgrade-restarted [ "$(prop bondd MainPID)" != "$pid" ]
check upgrade-active [ "$(systemctl is-active bondd)" = active ]
check upgrade-no-link-events no_link_events /tmp/upgrade-links.txt bond0 p0 p1
check upgrade-kept-conffile cmp /etc/modprobe.d/bondd.conf /tmp/modprobe-changed.conf
check upgrade-kept-config test -e /etc/bondd.d/10-bond0.yaml
check upgrade-bond-intact sysfs_is bond0 miimon 50

# --- remove: the service stops, the bonds and the state stay
check remove apt-get remove -y bondd
check remove-stopped sh -c '! systemctl is-active --quiet bondd'
check remove-bond-left has_ports bond0 p0 p1
check remove-kept-state test -d /var/lib/bondd
check remove-kept-conffile cmp /etc/modprobe.d/bondd.conf /tmp/modprobe-changed.conf

# --- reinstall: the changed conffile survives, bondd takes the bond back as it is
start_link_monitor /tmp/reinstall-links.txt
check reinstall-dpkg dpkg -i "$up"
stop_link_monitor
check reinstall-active [ "$(systemctl is-active bondd)" = active ]
check reinstall-kept-conffile cmp /etc/modprobe.d/bondd.conf /tmp/modprobe-changed.conf
check reinstall-no-link-events no_link_events /tmp/reinstall-links.txt bond0 p0 p1

# --- purge: nothing of bondd's is left but the administrator's own files
check purge apt-get purge -y bondd
check purge-not-installed sh -c '! dpkg-query -W bondd >/dev/null 2>&1'
check purge-state-gone test ! -e /var/lib/bondd
check purge-run-gone test ! -e /run/bondd
check purge-conffile-gone test ! -e /etc/modprobe.d/bondd.conf
check purge-unit-gone sh -c '! systemctl cat bondd.service >/dev/null 2>&1'
# Allowed: /etc/bondd.d (it holds the administrator's file) and man-db's
# cache of formatted pages (man-db's to expire; systemd-analyze verify read
# the pages). The lab's own files are named bondd-lab*.
{ find / -xdev \( -path /lab -o -path /proc -o -path /sys -o -path /dev \) -prune \
    -o -name '*bondd*' -print; find /run -name '*bondd*'; } \
  | grep -Ev '(/|/\.|invocation:)bondd-lab' | sort > /tmp/left.txt
echo "left after purge:"; cat /tmp/left.txt
check purge-leaves-only-admin-config \
  sh -c '[ "$(grep -Ev "^/var/cache/man/cat[58]/bondd" /tmp/left.txt)" = /etc/bondd.d ]'
check purge-admin-config-kept test -L /etc/bondd.d/10-bond0.yaml
check purge-bond-left has_ports bond0 p0 p1
finish
