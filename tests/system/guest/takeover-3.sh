#!/bin/sh
# Takeover scenarios, boot 3: a reboot with networking.service enabled; then
# ifupdown is switched off and NetworkManager builds the bond with the seed's
# nmcli commands.
. /lab/takeover-common.sh
after_reboot ifupdown ifupdown
systemctl disable networking 2>&1
hand_back ifupdown
# veth devices are unmanaged by NetworkManager's udev rule, real NICs are not:
# mask the rule so p0 and p1 are ordinary managed devices; no automatic
# "Wired connection" profiles, as on a server configured by hand.
ln -sf /dev/null /etc/udev/rules.d/85-nm-unmanaged.rules
udevadm control --reload
udevadm trigger --subsystem-match=net --action=change
udevadm settle
printf '[main]\nno-auto-default=*\n' > /etc/NetworkManager/conf.d/10-lab.conf
systemctl enable --now NetworkManager 2>&1
wait_for 30 nmcli general status > /dev/null 2>&1
nmcli con add type bond con-name bond0 ifname bond0 \
  bond.options "mode=active-backup,miimon=100,primary=p0" \
  ipv4.method manual ipv4.addresses 198.51.100.2/24 ipv4.gateway 198.51.100.1 \
  ipv4.dns 198.51.100.1 2>&1
nmcli con add type ethernet con-name bond0-p0 ifname p0 master bond0 2>&1
nmcli con add type ethernet con-name bond0-p1 ifname p1 master bond0 2>&1
nmcli con up bond0 2>&1
nmcli con up bond0-p0 2>&1; nmcli con up bond0-p1 2>&1
# NetworkManager keeps working for a while after `con up` returns: wait until
# the bond has stayed as the seed describes it for 5 s in a row.
stable() { for _ in 1 2 3 4 5; do seed_bond_is_up || return 1; sleep 1; done; }
wait_for 90 stable
nmcli device status 2>&1
take_over networkmanager networkmanager systemctl restart NetworkManager
nmcli device status 2>&1
check networkmanager-unmanaged sh -c 'nmcli -t -f DEVICE,STATE device | grep -qx "bond0:unmanaged"'
finish
