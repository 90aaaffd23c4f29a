#!/bin/bash
# Install what bondd's lab and tests need on a Debian 12 machine, idempotently:
# Debian packages (the UML kernel, kmod, iproute2, ping, Python venv support)
# and a virtualenv in .venv with bondd installed editable plus its test tools
# (pyproject.toml's `test` extra: pytest, hypothesis, ruff, mypy, import-linter).
# Safe to run again: it installs only what is missing.
# With --with-packaging also what building and checking the .deb and .rpm and
# the system tier need (debhelper, lintian, rpm, rpmlint, debootstrap).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo bash "$0" "$@"; fi
  echo "setup: run as root (installs Debian packages; the lab kernel needs root)" >&2
  exit 77
fi

# gcc and libc6-dev build the lab's xstate shim (tests/lab/xstate.c), without
# which UML cannot run on hosts with AMX.
APT_PACKAGES=(user-mode-linux kmod iproute2 iputils-ping procps python3 python3-venv python3-pip
  python3-pyroute2 python3-yaml python3-watchdog gcc libc6-dev
  prometheus prometheus-node-exporter  # promtool and node_exporter for the metrics tests
  openssh-server openssh-client ansible-core ansible-lint util-linux  # the Ansible collection
  bash-completion)  # runs the generated bondctl completion in a unit test
if [ "${1:-}" = --with-packaging ]; then
  APT_PACKAGES+=(dpkg-dev debhelper dh-python pybuild-plugin-pyproject python3-all
    python3-setuptools python3-build python3-wheel lintian rpm rpmlint debootstrap git)
fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  # prometheus, prometheus-node-exporter and openssh-server start their services when
  # installed; the tests only need the binaries, so no service may start
  # on this machine: a policy-rc.d that refuses (exit 101) for the install.
  policy=/usr/sbin/policy-rc.d
  ours=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# bondd setup.sh: no service starts during this install\nexit 101\n' > "$policy"
    chmod 0755 "$policy"
    ours=$policy
    trap 'rm -f "$ours"' EXIT
  fi
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$ours" ]; then
    rm -f "$ours"
    trap - EXIT
  fi
fi
# Installed earlier without the policy (or by hand): make sure neither runs.
for unit in prometheus prometheus-node-exporter; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then
    systemctl stop "$unit" && systemctl disable --quiet "$unit" || true
  fi
done

# Debian's interpreter, so the lab runs what a Debian 12 server runs.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
stamp=.venv/.bondd-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  echo "$want" > "$stamp"
fi
# A second environment on Debian's own python3-pyroute2 (0.7.2), the one the
# .deb runs with: the kernel tier runs against it too.
if [ ! -x .venv-debian/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv-debian
fi
if [ "$(cat .venv-debian/.bondd-installed 2>/dev/null)" != "$want" ]; then
  .venv-debian/bin/python -m pip install -q pytest pytest-timeout hypothesis
  .venv-debian/bin/python -m pip install -q --no-deps -e .
  echo "$want" > .venv-debian/.bondd-installed
fi
version() { "$1" -c 'import importlib.metadata as m; print(m.version("pyroute2"))' 2>/dev/null || echo "?"; }
echo "setup: ready ($(.venv/bin/python --version), pyroute2 $(version .venv/bin/python);" \
  "Debian's python3-pyroute2 $(dpkg-query -W -f='${Version}' python3-pyroute2))"

# netplan 0.106 (Debian 12's netplan.io and libnetplan0), unpacked, never
# installed, for the differential test (tests/unit/test_netplan_differential.py):
# nothing outside .lab/netplan changes.
NETPLAN_LAB=.lab/netplan
if [ ! -x "$NETPLAN_LAB/root/usr/libexec/netplan/generate" ]; then
  echo "setup: fetching netplan.io and libnetplan0 into $NETPLAN_LAB (not installed)"
  rm -rf "$NETPLAN_LAB" && mkdir -p "$NETPLAN_LAB/debs"
  (cd "$NETPLAN_LAB/debs" && apt-get download -qq netplan.io libnetplan0 2>/dev/null ||
    { apt-get update -qq && apt-get download -qq netplan.io libnetplan0; })
  for deb in "$NETPLAN_LAB"/debs/*.deb; do dpkg-deb -x "$deb" "$NETPLAN_LAB/root"; done
fi
