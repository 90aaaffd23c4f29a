#!/bin/sh
# Takeover scenarios, boot 2: a reboot with networkd still enabled, then
# networkd is switched off and the bond handed back. The ifupdown scenario
# (its reboot half kept in ifupdown-takeover-reboot.sh, its first half in this
# file's history) is out of
# the suite until ifenslave's bond creation after a networkd hand-back is
# understood: in the merged tree ifup failed there (bonding_masters: I/O error).
. /lab/takeover-common.sh
after_reboot networkd networkd
networkctl list --no-pager 2>&1
check networkd-reboot-unmanaged sh -c 'networkctl list --no-pager | grep -E " bond0 .* unmanaged"'
systemctl disable --now systemd-networkd systemd-networkd.socket 2>&1
hand_back networkd
finish
