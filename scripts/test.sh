#!/bin/bash
# The whole test suite, as CI runs it: setup, lint and types, the unit tier on
# the host, the kernel tier inside the lab kernel. Exits non-zero if any stage
# fails; ends with one line adding up every pytest stage.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit $?

results=.lab/results
rm -rf "$results"; mkdir -p "$results"
export PY_COLORS=0
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

stage ruff .venv/bin/ruff check bondd tests scripts
stage mypy .venv/bin/mypy --strict bondd tests
unit() {
  .venv/bin/pytest -q -m "not kernel and not system" --junitxml="$results/unit.xml"
  local rc=$?
  [ "$rc" -eq 5 ] && { echo "(no unit tests collected)"; return 0; }
  return "$rc"
}
stage unit unit
stage kernel python3 tests/lab/run.py -- .venv/bin/pytest -q -m kernel tests/kernel \
  --junitxml="$results/kernel.xml"

.venv/bin/python scripts/sum_results.py "$results"/*.xml
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAILED stages: ${failed[*]}"
  exit 1
fi
echo "all stages passed"
