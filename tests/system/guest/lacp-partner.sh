#!/bin/sh
# The LACP partner of the takeover scenarios' 802.3ad bond: veth pairs p2, p3
# whose far ends are the ports of bond lag0 in network namespace sw (made by
# lab-ports first), an 802.3ad bond with the same fast rate, as a switch's
# port channel would be. Run at boot after lab-ports (an ExecStartPost of
# lab-ports.service), so the ports exist before bondd starts.
set -e
ip -n sw link add lag0 type bond mode 802.3ad lacp_rate fast miimon 100 xmit_hash_policy layer3+4
for i in 2 3; do
  ip link add p$i type veth peer name sw-p$i netns sw
  ip -n sw link set sw-p$i master lag0
  ip -n sw link set sw-p$i up
done
ip -n sw addr add 203.0.113.1/24 dev lag0
ip -n sw link set lag0 up
