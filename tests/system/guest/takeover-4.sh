#!/bin/sh
# Takeover scenarios, boot 4: a reboot with NetworkManager enabled (and its
# profiles for bond0 and its ports still there): bondd alone brings the bond
# up, NetworkManager leaves it unmanaged, and an apply of a change works.
# Then NetworkManager is switched off, bondd hands the bond back, and netplan
# with its networkd renderer builds it from the seed's netplan YAML.
. /lab/takeover-common.sh
lacp=bond1
after_reboot networkmanager networkmanager
nmcli device status 2>&1
check networkmanager-reboot-unmanaged sh -c 'nmcli -t -f DEVICE,STATE device | grep -qx "bond0:unmanaged"'
systemctl disable --now NetworkManager 2>&1
hand_back networkmanager
lacp=

cat > /etc/netplan/60-bond0.yaml <<'X'
network:
  version: 2
  renderer: networkd
  ethernets:
    p0: {}
    p1: {}
  bonds:
    bond0:
      interfaces: [p0, p1]
      parameters:
        mode: active-backup
        mii-monitor-interval: 100
        primary: p0
      addresses: [198.51.100.2/24]
      routes:
        - to: default
          via: 198.51.100.1
      nameservers:
        addresses: [198.51.100.1]
X
chmod 600 /etc/netplan/60-bond0.yaml
systemctl enable --now systemd-networkd 2>&1
netplan apply 2>&1
check netplan-made-by-manager wait_for 60 seed_bond_is_up
ls /run/systemd/network
rm -rf /tmp/import && mkdir -p /tmp/import
bondctl import --from netplan > /tmp/import/60-from-netplan.yaml 2> /tmp/import.err; rc=$?
cat /tmp/import/60-from-netplan.yaml /tmp/import.err
check netplan-import [ "$rc" = 0 ]
check netplan-import-lists-dns grep -q '^#.*nameservers: DNS' /tmp/import/60-from-netplan.yaml
check netplan-validate bondctl --config-dir /tmp/import validate
bondctl --config-dir /tmp/import plan --detailed-exitcode > /tmp/plan.txt 2>&1; rc=$?
cat /tmp/plan.txt
check netplan-plan-empty [ "$rc" = 0 ]
start_link_monitor /tmp/links-netplan.txt
# netplan writes its backend's files again at every boot, so takeover
# refuses it and says what to do; the refusal changes nothing.
ls -l --time-style=+%s /etc/netplan /run/systemd/network /etc/bondd.d > /tmp/files-before.txt
bondctl takeover --from netplan > /tmp/takeover.txt 2>&1; rc=$?
cat /tmp/takeover.txt
check netplan-takeover-refused [ "$rc" != 0 ]
check netplan-takeover-says-what-to-do grep -q 'remove the bonds from /etc/netplan' /tmp/takeover.txt
ls -l --time-style=+%s /etc/netplan /run/systemd/network /etc/bondd.d > /tmp/files-after.txt
check netplan-refusal-changes-nothing cmp /tmp/files-before.txt /tmp/files-after.txt
# What it says: the bond out of /etc/netplan, the import into /etc/bondd.d,
# `bondctl apply`; then netplan generates no files for it and networkd,
# restarted, leaves it alone.
rm /etc/netplan/60-bond0.yaml
t0=$(uptime_s)
bondctl apply --yes /tmp/import/60-from-netplan.yaml > /tmp/apply.txt 2>&1; rc=$?
measure netplan_move_in_apply_s "$(since "$t0")"
cat /tmp/apply.txt
check netplan-move-in-apply [ "$rc" = 0 ]
netplan generate 2>&1
systemctl restart systemd-networkd 2>&1
sleep 5
stop_link_monitor
check netplan-no-link-events no_link_events /tmp/links-netplan.txt bond0 p0 p1
check netplan-still-up-after-networkd-restart seed_bond_is_up
check netplan-converged bondctl plan --detailed-exitcode
check netplan-adopted grep -q bond0 /var/lib/bondd/ownership.json
check netplan-no-backend-files sh -c '! ls /run/systemd/network/*netplan* 2>/dev/null'
networkctl list --no-pager 2>&1
finish
