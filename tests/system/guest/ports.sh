#!/bin/sh
# The guest's "NICs" and their switch: veth pairs p0, p1 whose far ends sit
# in network namespace sw, joined by a bridge that holds the gateway
# 198.51.100.1. Run at boot by lab-ports.service (before bondd.service), so
# the ports exist when bondd starts, as real NICs would.
set -e
ip netns add sw
ip -n sw link add br0 type bridge
ip -n sw addr add 198.51.100.1/24 dev br0
ip -n sw link set br0 up
for i in 0 1; do
  ip link add p$i type veth peer name sw-p$i netns sw
  ip -n sw link set sw-p$i master br0 up
done
