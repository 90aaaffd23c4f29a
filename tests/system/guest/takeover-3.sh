#!/bin/sh
# Takeover scenarios, boot 3: a reboot with networking.service enabled; then
# ifupdown is switched off and NetworkManager builds the bond with the seed's
# nmcli commands.
. /lab/takeover-common.sh
after_reboot ifupdown ifupdown
systemctl disable networking 2>&1
hand_back ifupdown
systemctl enable --now NetworkManager 2>&1
wait_for 30 nmcli general status > /dev/null 2>&1
# veth devices are unmanaged by NetworkManager's udev rule; real NICs are not.
nmcli device set p0 managed yes; nmcli device set p1 managed yes
nmcli con add type bond con-name bond0 ifname bond0 \
  bond.options "mode=active-backup,miimon=100,primary=p0" \
  ipv4.method manual ipv4.addresses 198.51.100.2/24 ipv4.gateway 198.51.100.1 \
  ipv4.dns 198.51.100.1 2>&1
nmcli con add type ethernet con-name bond0-p0 ifname p0 master bond0 2>&1
nmcli con add type ethernet con-name bond0-p1 ifname p1 master bond0 2>&1
nmcli con up bond0 2>&1
nmcli con up bond0-p0 2>&1; nmcli con up bond0-p1 2>&1
take_over networkmanager networkmanager systemctl restart NetworkManager
nmcli device status 2>&1
check networkmanager-unmanaged sh -c 'nmcli -t -f DEVICE,STATE device | grep -qx "bond0:unmanaged"'
finish
