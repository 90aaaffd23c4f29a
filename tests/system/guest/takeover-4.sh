#!/bin/sh
# Takeover scenarios, boot 4: a reboot with NetworkManager enabled.
. /lab/takeover-common.sh
after_reboot networkmanager networkmanager
nmcli device status 2>&1
check networkmanager-reboot-unmanaged sh -c 'nmcli -t -f DEVICE,STATE device | grep -qx "bond0:unmanaged"'
finish
