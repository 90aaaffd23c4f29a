#!/bin/bash
# The first command to run: set up what bondd needs (scripts/setup.sh), boot
# the lab kernel and show bondd at work on the real bonding driver, step by
# step (scripts/demo_lab.py). Everything happens inside the lab's own kernel
# and network namespaces; no interface of this machine is touched.
# Exits non-zero if any step does not do what it printed.
set -uo pipefail
cd "$(dirname "$0")/.."
# Root is needed (packages, the lab kernel); a sudo user is taken there.
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then exec sudo bash "$0" "$@"; fi
bash scripts/setup.sh || exit $?

# Colour only when a person watches; the lab's console is always a terminal.
[ -t 1 ] || export NO_COLOR=1
# The lab kernel's boot chatter is not part of the demo.
python3 tests/lab/run.py -- .venv/bin/python scripts/demo_lab.py 2>&1 \
  | grep --line-buffered -v -E '^(SELinux: |mmapper_init|Failed to initialize ubd|sysrq: |reboot: |bondd-lab: (ready|job exited))'
exit "${PIPESTATUS[0]}"
