#!/bin/sh
# System tier, first boot: install the .deb into a freshly booted Debian 12
# and prove the service under real systemd: start, status, journal fields,
# reload, restart without link events, watchdog restart. The guest disk is
# kept for the second boot (package.sh).
. /lab/common.sh
deb=$(ls /lab/bondd_*_all.deb | grep -v systest | head -n1)
measure pyroute2 "$(dpkg-query -W -f='${Version}' python3-pyroute2)"

# node_exporter's textfile directory, as Debian's prometheus-node-exporter makes it.
mkdir -p /var/lib/prometheus/node-exporter

# --- install: dpkg -i starts bondd; Type=notify makes dpkg wait for READY=1
t0=$(uptime_s)
check dpkg-install dpkg -i "$deb"
measure dpkg_install_s "$(since "$t0")"
ready_us=$(prop bondd ActiveEnterTimestampMonotonic)
measure install_to_ready_s "$(awk -v a="$t0" -v b="$ready_us" 'BEGIN { printf "%.2f", b / 1e6 - a }')"
check enabled [ "$(systemctl is-enabled bondd)" = enabled ]
check active [ "$(systemctl is-active bondd)" = active ]
systemctl show -p StatusText -p WatchdogUSec -p NRestarts -p Type bondd | tee /tmp/show.txt
check status-text grep -Eq '^StatusText=.*converged' /tmp/show.txt
check watchdog-usec grep -qx 'WatchdogUSec=30s' /tmp/show.txt
check no-restarts grep -qx 'NRestarts=0' /tmp/show.txt
check type-notify grep -qx 'Type=notify' /tmp/show.txt
systemd-analyze verify bondd.service > /tmp/verify.txt 2>&1; verify_rc=$?
cat /tmp/verify.txt
check unit-verify [ "$verify_rc" = 0 ] && [ ! -s /tmp/verify.txt ]
exposure=$(systemd-analyze security bondd 2>/dev/null | sed -n 's/.*exposure level for bondd.service: \([0-9.]*\).*/\1/p')
measure exposure "$exposure"
check exposure-at-most-2 awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }'
check files-installed test -x /usr/sbin/bondd -a -x /usr/bin/bondctl -a -d /etc/bondd.d \
  -a -f /etc/modprobe.d/bondd.conf -a -f /usr/share/doc/bondd/examples/10-bond0.yaml \
  -a -f /usr/share/bash-completion/completions/bondctl -a -f /usr/share/man/man5/bondd.d.5.gz
check version [ "$(bondctl --version)" = "bondctl $(dpkg-query -W -f='${Version}' bondd | sed 's/+.*//')" ]

# --- the ports, and the YAML dropped in: the daemon creates the bond
cp /lab/ports.sh /usr/local/sbin/lab-ports
cp /lab/lab-ports.service /etc/systemd/system/
systemctl daemon-reload
systemctl enable --now lab-ports.service 2>&1
t0=$(uptime_s)
cp /lab/bond0-v1.yaml /etc/bondd.d/10-bond0.yaml
check bond-created wait_for 30 has_ports bond0 p0 p1
measure yaml_to_bond_s "$(since "$t0")"
cat /proc/net/bonding/bond0
check bond-active-backup bond_has bond0 '^Bonding Mode: fault-tolerance \(active-backup\)'
check bond-miimon-100 bond_has bond0 '^MII Polling Interval \(ms\): 100'
check bond-primary-p0 bond_has bond0 '^Primary Slave: p0'
check bond-address wait_for 10 sh -c 'ip -o addr show dev bond0 | grep -q 198.51.100.2/24'
check ping-gateway ping -c 2 -W 2 -I bond0 198.51.100.1
check journal-applied wait_for 10 journal_has_event applied BONDD_BOND=bond0
grep -E '^ *(BONDD_|MESSAGE=|PRIORITY=)' /tmp/event.txt
check journal-txn-field grep -Eq '^ *BONDD_TXN=.+' /tmp/event.txt
bondctl status > /tmp/status.txt 2>&1; status_rc=$?
cat /tmp/status.txt
check bondctl-status [ "$status_rc" = 0 ] && grep -q 'bond0 *active-backup' /tmp/status.txt
check bondctl-plan-converged bondctl plan --detailed-exitcode
prom=/var/lib/prometheus/node-exporter/bondd.prom
check metrics-textfile wait_for 10 grep -q '^bondd_bond_up{bond="bond0"} 1$' "$prom"
check metrics-mode-644 [ "$(stat -c %a "$prom")" = 644 ]
check completion-bond-names bash -c '. /usr/share/bash-completion/bash_completion
  . /usr/share/bash-completion/completions/bondctl
  COMP_WORDS=(bondctl status ""); COMP_CWORD=2; COMP_LINE="bondctl status "; COMP_POINT=15
  _bondctl; [ "${COMPREPLY[*]}" = bond0 ]'

# --- reload: the file behind a symlink changes (no inotify event in
# /etc/bondd.d), so only `systemctl reload` makes bondd read it
mkdir -p /etc/lab-config
cp /lab/bond0-v1.yaml /etc/lab-config/bond0.yaml
ln -s /etc/lab-config/bond0.yaml /etc/bondd.d/.10-bond0.yaml.tmp
mv -T /etc/bondd.d/.10-bond0.yaml.tmp /etc/bondd.d/10-bond0.yaml
sleep 2
pid_before=$(prop bondd MainPID)
cp /lab/bond0-v2.yaml /etc/lab-config/bond0.yaml.tmp
mv /etc/lab-config/bond0.yaml.tmp /etc/lab-config/bond0.yaml
sleep 3
check reload-needed sysfs_is bond0 miimon 100
t0=$(uptime_s)
check reload-command systemctl reload bondd
check reload-applies wait_for 20 sysfs_is bond0 miimon 50
measure reload_to_applied_s "$(since "$t0")"
check reload-sysfs-option bond_has bond0 'Slave queue ID: 2'
check reload-same-pid [ "$(prop bondd MainPID)" = "$pid_before" ]
check journal-reload journal_has_event reload

# --- restart: a converged bond is left alone (no link event at all)
start_link_monitor /tmp/restart-links.txt
t0=$(uptime_s)
check restart-command systemctl restart bondd
measure restart_to_ready_s "$(since "$t0")"
stop_link_monitor
cat /tmp/restart-links.txt
check restart-no-link-events no_link_events /tmp/restart-links.txt bond0 p0 p1
check restart-active [ "$(systemctl is-active bondd)" = active ]
check restart-kept-options sysfs_is bond0 miimon 50

# --- stopped in a confirm window: the change's guard runs in a systemd unit of
# its own, so stopping bondd.service (which kills its whole cgroup) leaves it
# running, and it rolls the change back at the deadline, with no daemon
sed 's/mii-monitor-interval: 50/mii-monitor-interval: 200/' /lab/bond0-v2.yaml > /etc/lab-config/bond0.yaml.tmp
mv /etc/lab-config/bond0.yaml.tmp /etc/lab-config/bond0.yaml
check window-apply bondctl apply --yes --confirm-timeout 30 --no-wait
check window-applied sysfs_is bond0 miimon 200
# The waiting change's own guard, as its pending record names it, and its unit.
guard_pid=$(python3 -c 'import json; print(json.load(open("/var/lib/bondd/pending.json"))["guard"]["pid"])')
guard_unit=$(sed -n 's|^0::/system.slice/\(bondd-guard-[^/]*\.service\)$|\1|p' "/proc/$guard_pid/cgroup")
echo "guard: pid $guard_pid, unit ${guard_unit:-none}"
check window-guard-unit [ -n "$guard_unit" ]
check window-guard-other-cgroup sh -c "! grep -q bondd.service /proc/$guard_pid/cgroup"
t0=$(uptime_s)
check window-stop systemctl stop bondd
check window-guard-outlives-stop sh -c "[ \"\$(systemctl is-active $guard_unit)\" = active ] && kill -0 $guard_pid"
check window-still-waiting sysfs_is bond0 miimon 200
check window-guard-rolls-back wait_for 60 sysfs_is bond0 miimon 50
measure stop_to_guard_rollback_s "$(since "$t0")"
check window-guard-journal wait_for 10 sh -c 'journalctl --no-pager -o cat BONDD_EVENT=rolled_back | grep -q "^guard: rolled back transaction"'
journalctl --no-pager -o cat | grep "guard:" | tail -3
cp /lab/bond0-v2.yaml /etc/lab-config/bond0.yaml.tmp
mv /etc/lab-config/bond0.yaml.tmp /etc/lab-config/bond0.yaml
systemctl start bondd
check window-converged-after wait_for 20 bondctl plan --detailed-exitcode

# --- watchdog: a daemon that stops feeding it is killed and restarted by
# systemd, and converges again (a hand-made change while it was frozen is
# repaired). WatchdogSec is shortened here so the check takes seconds.
mkdir -p /run/systemd/system/bondd.service.d
printf '[Service]\nWatchdogSec=3s\n' > /run/systemd/system/bondd.service.d/lab-watchdog.conf
systemctl daemon-reload
systemctl restart bondd
restarts=$(prop bondd NRestarts)
pid=$(prop bondd MainPID)
t0=$(uptime_s)
kill -STOP "$pid"
ip link set bond0 type bond miimon 200
check watchdog-restart wait_for 30 sh -c "[ \$(systemctl show -p NRestarts --value bondd) -gt $restarts ]"
check watchdog-active-again wait_for 30 sh -c '[ "$(systemctl is-active bondd)" = active ]'
measure watchdog_stop_to_active_s "$(since "$t0")"
check watchdog-new-pid [ "$(prop bondd MainPID)" != "$pid" ]
journalctl -u bondd --no-pager -o cat | grep -i watchdog | tail -3
check watchdog-logged sh -c 'journalctl -u bondd --no-pager -o cat | grep -qi "watchdog timeout"'
check watchdog-converges-again wait_for 30 sysfs_is bond0 miimon 50
rm -r /run/systemd/system/bondd.service.d
systemctl daemon-reload
systemctl show -p StatusText -p NRestarts bondd
finish
