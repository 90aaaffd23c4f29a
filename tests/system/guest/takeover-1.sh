#!/bin/sh
# Takeover scenarios, boot 1: install bondd, then systemd-networkd builds
# the seed's two bonds from .netdev/.network files (bond0 active-backup on
# p0, p1; bond1 its 802.3ad variant on p2, p3, whose LACP partner is lag0 in
# netns sw); bondd takes both over.
. /lab/takeover-common.sh
check install dpkg -i "$(ls /lab/bondd_*_all.deb | head -n1)"
cp /lab/ports.sh /usr/local/sbin/lab-ports
cp /lab/lab-ports.service /etc/systemd/system/
cp /lab/lacp-partner.sh /usr/local/sbin/lab-lacp-partner
mkdir -p /etc/systemd/system/lab-ports.service.d
printf '[Service]\nExecStartPost=/bin/sh /usr/local/sbin/lab-lacp-partner\n' \
  > /etc/systemd/system/lab-ports.service.d/lacp-partner.conf
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
cat > /etc/systemd/network/10-bond1.netdev <<'X'
[NetDev]
Name=bond1
Kind=bond

[Bond]
Mode=802.3ad
LACPTransmitRate=fast
TransmitHashPolicy=layer3+4
MIIMonitorSec=100ms
X
cat > /etc/systemd/network/10-bond1.network <<'X'
[Match]
Name=bond1

[Network]
Address=203.0.113.2/24
X
for p in p2 p3; do
  printf '[Match]\nName=%s\n\n[Network]\nBond=bond1\n' "$p" > "/etc/systemd/network/20-$p.network"
done
systemctl enable --now systemd-networkd 2>&1
# Once bondd owns the only links, wait-online would wait its full 2 minutes at every boot.
systemctl disable systemd-networkd-wait-online 2>&1
lacp=bond1
take_over networkd networkd systemctl restart systemd-networkd
check networkd-files-moved-aside test -f /etc/systemd/network/10-bond0.netdev.bondd-takeover \
  -a ! -f /etc/systemd/network/10-bond0.netdev
check networkd-lacp-files-moved-aside test -f /etc/systemd/network/10-bond1.netdev.bondd-takeover \
  -a ! -f /etc/systemd/network/20-p3.network
finish
