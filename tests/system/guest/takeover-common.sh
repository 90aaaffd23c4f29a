# Helpers for the takeover scenarios (tests/system/test_takeover.py): one
# manager at a time builds the seed's bond0 (active-backup over p0 and p1,
# miimon 100, primary p0, 198.51.100.2/24, gateway and DNS 198.51.100.1),
# bondd imports and takes it over, the manager is restarted, and the next
# boot proves bondd alone brings the bond up. Each check name starts with
# the manager's name (TAG). Where $lacp names a second bond (the seed's
# 802.3ad variant: bond1 over p2 and p3, lacp_rate fast, layer3+4, its LACP
# partner lag0 in netns sw), the same manager builds it too and every step
# covers both bonds.
. /lab/common.sh
lacp=

seed_bond_is_up() { # the bond as the seed describes it, whoever made it
  has_ports bond0 p0 p1 && sysfs_is bond0 mode active-backup && sysfs_is bond0 miimon 100 \
    && sysfs_is bond0 primary p0 && ip -o addr show dev bond0 | grep -q ' 198.51.100.2/24 ' \
    && ip route show default dev bond0 | grep -q 'via 198.51.100.1'
}

lacp_bond_is_up() { # MIIMON: bond1 as the seed's 802.3ad variant, LACP agreed with lag0
  has_ports bond1 p2 p3 && sysfs_is bond1 mode 802.3ad && sysfs_is bond1 lacp_rate fast \
    && sysfs_is bond1 xmit_hash_policy layer3+4 && sysfs_is bond1 miimon "$1" \
    && ip -o addr show dev bond1 | grep -q ' 203.0.113.2/24 ' \
    && ! sysfs_is bond1 ad_partner_mac 00:00:00:00:00:00 \
    && grep -q 'Number of ports: 2' /proc/net/bonding/bond1
}

lacp_settled() { # both ports of bond1 aggregatable, in sync, collecting and distributing, both sides
  for port in p2 p3; do
    for side in actor partner; do
      state=$(cat /sys/class/net/$port/bonding_slave/ad_${side}_oper_port_state 2>/dev/null) || return 1
      [ $((state & 60)) -eq 60 ] || return 1
    done
  done
}

lacp_steady() { # every port state change sends a link message: wait for 3 s with none
  for _ in 1 2 3; do lacp_settled || return 1; sleep 1; done
}

both_up() { # MIIMON: the seed's bond, and its 802.3ad variant where there is one
  seed_bond_is_up && { [ -z "$lacp" ] || lacp_bond_is_up "$1"; }
}

take_over() { # TAG SOURCE RESTART-COMMAND...: import, plan, take over, restart the manager
  tag=$1; source=$2; shift 2
  check "$tag-made-by-manager" wait_for 60 seed_bond_is_up
  if [ -n "$lacp" ]; then
    # LACP agreement with the partner takes a few fast LACPDUs; wait for it
    # before the import, so the takeover starts from a settled aggregator.
    check "$tag-lacp-made-by-manager" wait_for 60 lacp_bond_is_up 100
    # A port's LACP state moving (to collecting, distributing) is a link
    # message too: the monitor starts once the agreement has held.
    check "$tag-lacp-settled" wait_for 60 lacp_steady
    cat /proc/net/bonding/bond1
  fi
  cat /proc/net/bonding/bond0; ip -d link show bond0; ip route
  rm -rf /tmp/import && mkdir -p /tmp/import
  bondctl import --from "$source" > /tmp/import/60-import.yaml 2> /tmp/import.err; rc=$?
  cat /tmp/import/60-import.yaml /tmp/import.err
  check "$tag-import" [ "$rc" = 0 ]
  check "$tag-import-lists-dns" grep -q '^#.*198.51.100.1.*DNS' /tmp/import/60-import.yaml
  check "$tag-validate" bondctl --config-dir /tmp/import validate
  bondctl --config-dir /tmp/import plan --detailed-exitcode > /tmp/plan.txt 2>&1; rc=$?
  cat /tmp/plan.txt
  check "$tag-plan-empty" [ "$rc" = 0 ]
  start_link_monitor /tmp/links-$tag.txt
  t0=$(uptime_s)
  bondctl takeover --from "$source" > /tmp/takeover.txt 2>&1; rc=$?
  measure "${tag}_takeover_s" "$(since "$t0")"
  cat /tmp/takeover.txt
  check "$tag-takeover" [ "$rc" = 0 ]
  "$@" > /tmp/restart.txt 2>&1; cat /tmp/restart.txt
  sleep 5
  stop_link_monitor
  check "$tag-no-link-events" no_link_events /tmp/links-$tag.txt bond0 p0 p1 ${lacp:+bond1 p2 p3}
  check "$tag-still-up-after-manager-restart" both_up 100
  if [ -n "$lacp" ]; then
    check "$tag-lacp-imported" grep -q '^    bond1:' /tmp/import/60-import.yaml
    check "$tag-lacp-ping-partner" ping -c 1 -W 5 -I bond1 203.0.113.1
  fi
  check "$tag-converged" bondctl plan --detailed-exitcode
  check "$tag-adopted" grep -q bond0 /var/lib/bondd/ownership.json
}

after_reboot() { # TAG SOURCE: bondd alone brought the bond up; an apply of a change works
  tag=$1; source=$2
  check "$tag-reboot-bond-up" wait_for 60 seed_bond_is_up
  check "$tag-reboot-by-bondd" sh -c \
    'journalctl -b -u bondd --no-pager | grep -Eq "(repaired drift on|applied [0-9]+ operations to) bond0"'
  sed 's/mii-monitor-interval: 100/mii-monitor-interval: 50/' \
    "/etc/bondd.d/60-takeover-$source.yaml" > "/tmp/60-takeover-$source.yaml"
  check "$tag-reboot-yaml-has-miimon" grep -q 'mii-monitor-interval: 50' "/tmp/60-takeover-$source.yaml"
  bondctl apply --yes "/tmp/60-takeover-$source.yaml" > /tmp/apply.txt 2>&1; rc=$?
  cat /tmp/apply.txt
  check "$tag-reboot-apply-change" [ "$rc" = 0 ]
  check "$tag-reboot-miimon-50" sysfs_is bond0 miimon 50
  if [ -n "$lacp" ]; then
    check "$tag-reboot-lacp-up" wait_for 60 lacp_bond_is_up 50
    cat /proc/net/bonding/bond1
  fi
}

hand_back() { # SOURCE: remove bondd's file and the bond, so the next manager starts clean
  # bondd lets go in a transaction of its own after the reload (probes
  # included: about 3 s in this guest), and a bond it made again at boot is
  # its own, so it deletes it. The bond may only be deleted by hand, and the
  # next manager start, once bondd has finished and no longer claims it. The
  # earlier version slept 2 s and deleted bond0 under bondd's transaction;
  # ifenslave then failed on bond0 (`echo: I/O error`, "Cannot find device
  # bond0") while bondd was still working on it.
  rm -f "/etc/bondd.d/60-takeover-$1.yaml"
  systemctl reload bondd 2>/dev/null
  check "$1-hand-back-released" wait_for 60 bondd_let_go bond0 ${lacp:+bond1}
  for b in bond0 ${lacp:+bond1}; do
    ip link del "$b" 2>/dev/null
    wait_for 20 sh -c "! ip link show $b >/dev/null 2>&1"
  done
  cat /var/lib/bondd/ownership.json; journalctl -b -u bondd --no-pager -n 15 2>&1
}

bondd_let_go() { # BOND...: bondd's state no longer claims any BOND and its plan is empty
  for b in "$@"; do
    ! grep -q "\"$b\"" /var/lib/bondd/ownership.json 2>/dev/null || return 1
  done
  [ ! -e /var/lib/bondd/pending.json ] && bondctl plan --detailed-exitcode > /dev/null 2>&1
}
