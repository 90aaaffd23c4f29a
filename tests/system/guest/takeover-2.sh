#!/bin/sh
# Takeover scenarios, boot 2: a reboot with networkd still enabled; then
# networkd is switched off, bondd hands the bond back, and ifupdown
# (ifenslave) builds both bonds from /etc/network/interfaces.
. /lab/takeover-common.sh
lacp=bond1
after_reboot networkd networkd
networkctl list --no-pager 2>&1
check networkd-reboot-unmanaged sh -c 'networkctl list --no-pager | grep -E " bond0 .* unmanaged"'
systemctl disable --now systemd-networkd systemd-networkd.socket 2>&1
hand_back networkd
cat > /etc/network/interfaces <<'X'
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

auto bond0
iface bond0 inet static
    address 198.51.100.2/24
    gateway 198.51.100.1
    dns-nameservers 198.51.100.1
    bond-slaves p0 p1
    bond-mode active-backup
    bond-miimon 100
    bond-primary p0

auto bond1
iface bond1 inet static
    address 203.0.113.2/24
    bond-slaves p2 p3
    bond-mode 802.3ad
    bond-miimon 100
    bond-lacp-rate fast
    bond-xmit-hash-policy layer3+4
X
systemctl enable networking 2>&1
mkdir -p /run/network
ifup bond0 bond1 2>&1
take_over ifupdown ifupdown systemctl restart networking
check ifupdown-stanza-commented grep -q '^#bondd-takeover# iface bond0 inet static' /etc/network/interfaces
finish
