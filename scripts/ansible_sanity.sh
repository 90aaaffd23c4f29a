#!/bin/bash
# `ansible-test sanity` for the bondd.bondd collection, on Python 3.11 (no
# containers: --venv), with the ansible-test of Debian 12's ansible-core 2.14
# (/usr/bin/ansible-test) and, given --pypi, also that of current ansible-core
# from PyPI (in .venv-ansible). ansible-test's home (its cache and the test
# virtualenvs, reused between runs) is kept under .lab/, never in ~root.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
home=$repo/.lab/ansible-test-home
mkdir -p "$home/.ansible/test/cache"
run() {
  local ansible_test=$1
  # ansible-test downloads a pip bootstrap script (named for the pip it pins)
  # from a host CI may not reach: give it ours under that name.
  local lib version
  lib=$("$(head -1 "$ansible_test" | sed 's/^#! *//')" -c \
    'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
  version=$(sed -n "s/^ *pip='\([0-9.]*\)',.*/\1/p" "$lib/_internal/python_requirements.py" | head -1)
  cp scripts/ansible_get_pip.py "$home/.ansible/test/cache/get_pip_${version//./_}.py"
  echo "ansible-test sanity with $("$ansible_test" --version 2>/dev/null || echo "$ansible_test")"
  (cd ansible_collections/bondd/bondd \
    && HOME=$home "$ansible_test" sanity --venv --python 3.11 --color no "${@:2}")
}
run /usr/bin/ansible-test
if [ "${1:-}" = --pypi ]; then
  if [ ! -x .venv-ansible/bin/ansible-test ]; then
    /usr/bin/python3 -m venv .venv-ansible
    .venv-ansible/bin/pip install -q ansible-core
  fi
  run "$repo/.venv-ansible/bin/ansible-test"
fi
