#!/bin/sh
# Job for the system-tier guest (see bench/netplan.py): install the bondd .deb,
# then run the netplan-vs-bondd comparison (bench/netplan_guest.py).
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH DEBIAN_FRONTEND=noninteractive
dpkg -i "$(ls /lab/bondd_*_all.deb | head -n1)" > /tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; exit 1; }
exec python3 /lab/netplan_guest.py
