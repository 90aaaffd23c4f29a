#!/bin/sh
# Takeover scenarios, boot 3: a reboot with ifupdown's networking.service
# enabled; then ifupdown is switched off, bondd hands the bond back, and
# NetworkManager builds it with the seed's nmcli commands.
. /lab/takeover-common.sh
lacp=bond1
after_reboot ifupdown ifupdown
systemctl disable networking 2>&1
hand_back ifupdown
# NetworkManager's 85-nm-unmanaged.rules marks every veth device unmanaged
# (NM_UNMANAGED=1), because on a real host veths belong to containers; the
# guest's p0 to p3 stand in for NICs, which NetworkManager manages. This
# rule, ordered after NetworkManager's, makes exactly those four managed again
# and leaves every other veth to NetworkManager's default.
cat > /etc/udev/rules.d/86-bondd-lab-ports.rules <<'X'
SUBSYSTEM=="net", ACTION=="add|change|move", ENV{INTERFACE}=="p[0-3]", ENV{NM_UNMANAGED}="0"
X
udevadm control --reload
udevadm trigger --subsystem-match=net --action=change
udevadm settle
# No automatic "Wired connection" profiles, as on a server configured by hand.
printf '[main]\nno-auto-default=*\n' > /etc/NetworkManager/conf.d/10-lab.conf
systemctl enable --now NetworkManager 2>&1
wait_for 30 nmcli general status > /dev/null 2>&1
nmcli device status 2>&1
nmcli con add type bond con-name bond0 ifname bond0 \
  bond.options "mode=active-backup,miimon=100,primary=p0" \
  ipv4.method manual ipv4.addresses 198.51.100.2/24 ipv4.gateway 198.51.100.1 \
  ipv4.dns 198.51.100.1 2>&1
nmcli con add type ethernet con-name bond0-p0 ifname p0 master bond0 2>&1
nmcli con add type ethernet con-name bond0-p1 ifname p1 master bond0 2>&1
nmcli con add type bond con-name bond1 ifname bond1 \
  bond.options "mode=802.3ad,miimon=100,lacp_rate=fast,xmit_hash_policy=layer3+4" \
  ipv4.method manual ipv4.addresses 203.0.113.2/24 2>&1
nmcli con add type ethernet con-name bond1-p2 ifname p2 master bond1 2>&1
nmcli con add type ethernet con-name bond1-p3 ifname p3 master bond1 2>&1
# The seed ends with `nmcli con up` of its profiles. Here each profile
# is activated by NetworkManager itself the moment it is added (autoconnect,
# device available), so the seed's `con up` would only re-activate them:
# measured in this guest, re-activating the bond and then each port detached
# and re-attached the ports for seconds and once made NetworkManager delete
# bond0 and build it again. So the test waits for NetworkManager to finish
# instead: all six devices "connected" and the bond as the seed describes
# it for 5 s in a row.
nm_settled() {
  [ "$(nmcli -t -f DEVICE,STATE device | grep -cE '^(bond[01]|p[0-3]):connected$')" = 6 ]
}
stable() { for _ in 1 2 3 4 5; do nm_settled && both_up 100 || return 1; sleep 1; done; }
wait_for 90 stable
nmcli device status 2>&1
# This guest still has ifenslave (from the ifupdown scenario), and Debian's
# NetworkManager runs ifupdown's if-post-down.d hooks whenever it lets go of
# a device: ifenslave's hook would then delete the bond (seen here: bond0
# deleted a second after NetworkManager let go). The takeover refuses that
# and says to purge ifenslave, which NetworkManager does not use.
bondctl takeover --from networkmanager > /tmp/refused.txt 2>&1; rc=$?
cat /tmp/refused.txt
check networkmanager-refused-with-ifenslave [ "$rc" != 0 ]
check networkmanager-refusal-says-purge grep -q 'apt-get purge ifenslave' /tmp/refused.txt
check networkmanager-refusal-writes-nothing [ ! -e /etc/NetworkManager/conf.d/90-bondd-takeover.conf ]
dpkg --purge ifenslave 2>&1
take_over networkmanager networkmanager systemctl reload NetworkManager
# A restart too: NetworkManager reads the drop-in at start and leaves them
# alone. Measured in this guest: a restart sends one RTM_NEWLINK for each of
# bond0, p0 and p1 with the same flags, master and state: NetworkManager,
# finding devices it used to manage unmanaged, gives their IPv6 address
# generation mode back to the kernel (addrgenmode none -> eui64, the diff
# below). The check is that none changes state; the count is reported.
ip -o link show > /tmp/links-before-nm-restart.txt
ip -d link show > /tmp/links-d-before.txt; ip addr show > /tmp/addr-before.txt
start_link_monitor /tmp/links-nm-restart.txt
systemctl restart NetworkManager 2>&1
wait_for 30 nmcli general status > /dev/null 2>&1
sleep 5
stop_link_monitor
cut -c1-200 /tmp/links-nm-restart.txt
ip -d link show > /tmp/links-d-after.txt; ip addr show > /tmp/addr-after.txt
diff /tmp/links-d-before.txt /tmp/links-d-after.txt; diff /tmp/addr-before.txt /tmp/addr-after.txt
measure networkmanager_restart_link_notifications \
  "$(grep -cE '^[0-9]+: (bond[01]|p[0-3])[:@]' /tmp/links-nm-restart.txt)"
check networkmanager-restart-no-link-changes \
  no_link_changes /tmp/links-before-nm-restart.txt /tmp/links-nm-restart.txt bond0 p0 p1 bond1 p2 p3
check networkmanager-still-up-after-restart both_up 100
nmcli device status 2>&1
check networkmanager-unmanaged sh -c 'nmcli -t -f DEVICE,STATE device | grep -qx "bond0:unmanaged"'
finish
