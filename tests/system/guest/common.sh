# Helpers for the system tier's guest scripts (POSIX sh, run by the guest's
# job runner as root once multi-user.target is reached). Each check prints
#     CHECK ok|FAIL NAME [detail]
# and each measurement
#     MEASURE NAME VALUE
# which tests/system/test_system.py reads back on the host.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH DEBIAN_FRONTEND=noninteractive
failures=0

check() { # NAME COMMAND...: record whether COMMAND succeeds
  name=$1; shift
  if "$@"; then echo "CHECK ok $name"; else echo "CHECK FAIL $name"; failures=$((failures + 1)); fi
}

measure() { echo "MEASURE $1 $2"; }

uptime_s() { cut -d' ' -f1 /proc/uptime; }

since() { # START: seconds since START (an uptime_s value), two decimals
  awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.2f", b - a }'
}

wait_for() { # SECONDS COMMAND...: poll COMMAND every 0.2 s until it succeeds
  limit=$1; shift
  end=$(awk -v a="$(uptime_s)" -v b="$limit" 'BEGIN { print a + b }')
  while ! "$@"; do
    if awk -v a="$(uptime_s)" -v b="$end" 'BEGIN { exit !(a > b) }'; then return 1; fi
    sleep 0.2
  done
}

prop() { # UNIT PROPERTY: one property's value
  systemctl show -p "$2" --value "$1"
}

bond_has() { # BOND PATTERN: /proc/net/bonding/BOND matches an extended regex
  grep -Eq "$2" "/proc/net/bonding/$1" 2>/dev/null
}

sysfs_is() { # BOND OPTION VALUE: the bond's sysfs option starts with VALUE
  case "$(cat "/sys/class/net/$1/bonding/$2" 2>/dev/null)" in "$3"*) return 0 ;; esac
  return 1
}

ports_of() { cat "/sys/class/net/$1/bonding/slaves" 2>/dev/null; }

has_ports() { # BOND PORT...: the bond has exactly these ports
  bond=$1; shift
  [ "$(ports_of "$bond" | tr ' ' '\n' | sort | tr '\n' ' ')" = "$(printf '%s\n' "$@" | sort | tr '\n' ' ')" ]
}

start_link_monitor() { # FILE: log every link event of the root namespace to FILE
  ip -o monitor link > "$1" 2>&1 &
  monitor_pid=$!
  sleep 0.5
}

stop_link_monitor() {
  sleep 1
  kill "$monitor_pid" 2>/dev/null
  wait "$monitor_pid" 2>/dev/null
}

no_link_events() { # FILE IFNAME...: FILE logged no event for any IFNAME
  for ifname in "$@"; do
    if grep -Eq "^[0-9]+: $ifname[:@]" "$1"; then
      echo "link events for $ifname:"; grep -E "^[0-9]+: $ifname[:@]" "$1" | head -5
      return 1
    fi
  done
}

journal_has_event() { # EVENT [FIELD=VALUE...]: bondd logged EVENT with these fields
  ev=$1; shift
  journalctl -u bondd -o verbose --no-pager "BONDD_EVENT=$ev" > /tmp/event.txt 2>&1
  grep -q "BONDD_EVENT=$ev" /tmp/event.txt || return 1
  for field in "$@"; do grep -q "^ *$field\$" /tmp/event.txt || return 1; done
}

finish() {
  echo "guest: $failures failed checks"
  [ "$failures" -eq 0 ]
}

link_sigs() { # reads `ip -o link` or `ip -o monitor link` lines: NAME FLAGS MASTER STATE EVENT each
  awk '$1 == "Deleted" { n = $3; sub(/[:@].*/, "", n); print n, "DELETED"; next }
    { n = $2; sub(/[:@].*/, "", n); m = "-"; st = "-"; ev = "-"
      for (i = 1; i <= NF; i++) {
        if ($i == "master") m = $(i + 1)
        if ($i == "state") st = $(i + 1)
        if ($i == "event") ev = $(i + 1) " " $(i + 2)
      }
      print n, $3, m, st, ev }'
}

no_link_changes() { # BEFORE FILE IFNAME...: FILE logged no event that changed an IFNAME's
  # flags, master or state from BEFORE (their `ip -o link` lines) or named
  # an event (failover, option change...); a notification that repeats the
  # same state is not a change
  before=$1; file=$2; shift 2
  for ifname in "$@"; do
    want=$(link_sigs < "$before" | awk -v n="$ifname" '$1 == n')
    grep -E "^(Deleted )?[0-9]+: $ifname[:@]" "$file" | link_sigs | while read -r got; do
      [ "$got" = "$want" ] || { echo "$ifname changed: $got (was: $want)"; exit 1; }
    done || return 1
  done
}
