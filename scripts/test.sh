#!/bin/bash
# The whole test suite, as CI runs it: setup, lint and types, the unit tier on
# the host, the kernel tier inside the lab kernel, the .deb and .rpm (lintian,
# rpmlint) and the system tier (the .deb in a booted Debian 12 guest). Exits
# non-zero if any stage fails; ends with one line adding up every pytest stage.
set -uo pipefail
cd "$(dirname "$0")/.."
# Root is needed (packages, the lab kernel); a sudo user is taken there.
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then exec sudo bash "$0" "$@"; fi
bash scripts/setup.sh --with-packaging || exit $?

results=.lab/results
rm -rf "$results"; mkdir -p "$results"
export PY_COLORS=0
# A lab that hangs is stopped (and says where it was) well inside CI's limit.
export BONDD_LAB_TIMEOUT=${BONDD_LAB_TIMEOUT:-2700}
failed=()

stage() {
  local name=$1; shift
  echo "=== $name"
  local started=$SECONDS
  "$@"
  local rc=$?
  echo "=== $name: exit $rc in $((SECONDS - started))s"
  [ "$rc" -eq 0 ] || failed+=("$name")
}

stage ruff .venv/bin/ruff check bondd tests scripts packaging bench
stage ruff-format .venv/bin/ruff format --check bondd tests scripts packaging bench
stage mypy .venv/bin/mypy --strict bondd tests bench packaging/generate.py
# The layer contract (.importlinter, docs/ARCHITECTURE.md): indirect imports too.
stage import-linter .venv/bin/lint-imports --no-cache
unit() {
  .venv/bin/pytest -q -m "not kernel and not system" --junitxml="$results/unit.xml"
  local rc=$?
  [ "$rc" -eq 5 ] && { echo "(no unit tests collected)"; return 0; }
  return "$rc"
}
stage unit unit
# The hostile-file corpus again on Debian 12's python3-yaml 6.0 (the .deb's):
# the unit stage ran them on PyPI's PyYAML. About ten seconds.
stage hostile-debian-yaml .venv-debian/bin/pytest -q -m unit tests/unit/test_hostile_files.py \
  tests/unit/test_control_requests.py \
  --junitxml="$results/hostile-debian-yaml.xml"
# The Ansible collection: ansible-test sanity (Debian 12's ansible-core) and ansible-lint.
ansible_checks() {
  bash scripts/ansible_sanity.sh || return $?
  (cd ansible_collections/bondd/bondd && ANSIBLE_COLLECTIONS_PATH=$OLDPWD ansible-lint --nocolor -q)
}
stage ansible ansible_checks
# The kernel tier twice, in two lab kernels side by side (the machine has two
# cores and the tests mostly wait on the network): once on PyPI's pyroute2,
# once on Debian 12's python3-pyroute2 0.7.2, which the .deb runs with.
# The Ansible fleet (marked fleet) is a stage of its own below.
python3 tests/lab/run.py -- .venv-debian/bin/pytest -q -m "kernel and not fleet" tests/kernel \
  --junitxml="$results/kernel-debian-pyroute2.xml" > .lab/kernel-debian.log 2>&1 &
debian_pid=$!
stage kernel python3 tests/lab/run.py -- .venv/bin/pytest -q -m "kernel and not fleet" tests/kernel \
  --junitxml="$results/kernel.xml"
kernel_debian() { wait "$debian_pid"; local rc=$?; cat .lab/kernel-debian.log; return "$rc"; }
stage kernel-debian-pyroute2 kernel_debian
# The Ansible fleet in a third lab kernel (four hosts with bondd and sshd, Debian
# 12's ansible-playbook; about 6 min), beside the packages and the system tier,
# which mostly wait on a guest: it adds little to the wall time.
python3 tests/lab/run.py -- .venv-debian/bin/pytest -q -m fleet tests/kernel/test_fleet.py \
  --junitxml="$results/fleet.xml" > .lab/fleet.log 2>&1 &
fleet_pid=$!

stage package-deb bash packaging/build-deb.sh
stage package-rpm bash packaging/build-rpm.sh
system() {
  local deb rc
  deb=$(ls dist/bondd_*_all.deb 2>/dev/null | tail -n1)
  BONDD_DEB=${deb:+$PWD/$deb} .venv/bin/pytest -q -m system tests/system \
    --junitxml="$results/system.xml"
  rc=$?
  if [ "$rc" -ne 0 ]; then
    # What the guests printed is kept on disk; a failed run shows its end here.
    for console in .lab/system/results/*console*; do
      [ -f "$console" ] || continue
      echo "--- last 40 lines of $console"
      tail -n 40 "$console"
    done
  fi
  return "$rc"
}
stage system system
fleet() { wait "$fleet_pid"; local rc=$?; cat .lab/fleet.log; return "$rc"; }
stage fleet fleet

.venv/bin/python scripts/sum_results.py "$results"/*.xml
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAILED stages: ${failed[*]}"
  exit 1
fi
echo "all stages passed"
