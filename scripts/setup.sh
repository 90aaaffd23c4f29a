#!/bin/bash
# Install what bondd's lab and tests need on a Debian 12 machine, idempotently:
# Debian packages (the UML kernel, kmod, iproute2, ping, Python venv support)
# and a virtualenv in .venv with bondd installed editable plus its test tools.
# Safe to run again: it installs only what is missing.
# With --with-packaging also what building and checking the .deb and .rpm and
# the system tier need (debhelper, lintian, rpm, rpmlint, debootstrap).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (installs Debian packages; the lab kernel needs root)" >&2
  exit 77
fi

APT_PACKAGES=(user-mode-linux kmod iproute2 iputils-ping procps python3 python3-venv python3-pip
  python3-pyroute2 python3-yaml python3-watchdog python3-sdnotify
  openssh-server openssh-client ansible-core ansible-lint util-linux)
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
  apt-get update -qq
  # openssh-server would start sshd on this machine: the fleet test runs its
  # own sshds inside the lab only. A policy-rc.d that says no, for the install.
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
fi

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
