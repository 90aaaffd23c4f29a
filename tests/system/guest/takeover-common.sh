# Helpers for the takeover scenarios (tests/system/test_takeover.py): one
# manager at a time builds the seed's bond0 (active-backup over p0 and p1,
# miimon 100, primary p0, 198.51.100.2/24, gateway and DNS 198.51.100.1),
# bondd imports and takes it over, the manager is restarted, and the next
# boot proves bondd alone brings the bond up. Each check name starts with
# the manager's name (TAG).
. /lab/common.sh

seed_bond_is_up() { # the bond as the seed describes it, whoever made it
  has_ports bond0 p0 p1 && sysfs_is bond0 mode active-backup && sysfs_is bond0 miimon 100 \
    && sysfs_is bond0 primary p0 && ip -o addr show dev bond0 | grep -q ' 198.51.100.2/24 ' \
    && ip route show default dev bond0 | grep -q 'via 198.51.100.1'
}

take_over() { # TAG SOURCE RESTART-COMMAND...: import, plan, take over, restart the manager
  tag=$1; source=$2; shift 2
  check "$tag-made-by-manager" wait_for 60 seed_bond_is_up
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
  check "$tag-no-link-events" no_link_events /tmp/links-$tag.txt bond0 p0 p1
  check "$tag-still-up-after-manager-restart" seed_bond_is_up
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
}

hand_back() { # SOURCE: remove bondd's file and the bond, so the next manager starts clean
  rm -f "/etc/bondd.d/60-takeover-$1.yaml"
  systemctl reload bondd 2>/dev/null
  sleep 2
  ip link del bond0 2>/dev/null
  wait_for 20 sh -c '! ip link show bond0 >/dev/null 2>&1'
}
