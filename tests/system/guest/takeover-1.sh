#!/bin/sh
# Takeover scenarios, boot 1: install bondd, then systemd-networkd builds
# bond0 from the seed's .netdev/.network files; bondd takes it over.
. /lab/takeover-common.sh
check install dpkg -i "$(ls /lab/bondd_*_all.deb | head -n1)"
cp /lab/ports.sh /usr/local/sbin/lab-ports
cp /lab/lab-ports.service /etc/systemd/system/
systemctl daemon-reload
systemctl enable --now lab-ports.service 2>&1
mkdir -p /etc/systemd/network
cat > /etc/systemd/network/10-bond0.netdev <<'X'
[NetDev]
Name=bond0
Kind=bond

[Bond]
Mode=active-backup
MIIMonitorSec=100ms
X
cat > /etc/systemd/network/10-bond0.network <<'X'
[Match]
Name=bond0

[Network]
Address=198.51.100.2/24
Gateway=198.51.100.1
DNS=198.51.100.1
X
cat > /etc/systemd/network/20-p0.network <<'X'
[Match]
Name=p0

[Network]
Bond=bond0
PrimarySlave=yes
X
cat > /etc/systemd/network/20-p1.network <<'X'
[Match]
Name=p1

[Network]
Bond=bond0
X
systemctl enable --now systemd-networkd 2>&1
# Once bondd owns the only links, wait-online would wait its full 2 minutes at every boot.
systemctl disable systemd-networkd-wait-online 2>&1
take_over networkd networkd systemctl restart systemd-networkd
check networkd-files-moved-aside test -f /etc/systemd/network/10-bond0.netdev.bondd-takeover \
  -a ! -f /etc/systemd/network/10-bond0.netdev
finish
