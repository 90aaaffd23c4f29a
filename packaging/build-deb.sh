#!/bin/bash
# Build the bondd .deb from a clean copy of the checkout and check it with lintian.
#
#     bash packaging/build-deb.sh            # -> dist/bondd_VERSION_all.deb
#
# The copy holds the files git knows (tracked, plus new files not ignored),
# so build products and virtualenvs never leak into the package. The version
# comes from bondd/__init__.py; debian/changelog is written from it here.
# Needs: dpkg-dev debhelper dh-python pybuild-plugin-pyproject python3-all
# python3-setuptools lintian (scripts/setup.sh installs them).
set -euo pipefail
# Debian's own tools and interpreter, whatever else (pyenv, a virtualenv) is on PATH.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset VIRTUAL_ENV PYTHONPATH PYTHONHOME
cd "$(dirname "$0")/.."
repo=$PWD

version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' bondd/__init__.py)
[ -n "$version" ] || { echo "build-deb: no __version__ in bondd/__init__.py" >&2; exit 1; }
stage_root=$repo/build/deb
stage=$stage_root/bondd-$version
rm -rf "$stage_root"
mkdir -p "$stage" dist

git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -C "$stage" -xf -
cp -r packaging/debian "$stage/debian"
cp systemd/bondd.service "$stage/debian/bondd.service"

date=$(git log -1 --format=%cD 2>/dev/null || date -R)
cat > "$stage/debian/changelog" <<CHANGELOG
bondd ($version) unstable; urgency=medium

  * Release $version (built from the bondd source tree; see its history).

 -- bondd developers <bondd-devel@example.org>  $date
CHANGELOG

started=$SECONDS
(cd "$stage" && dpkg-buildpackage -us -uc -b) > "$stage_root/build.log" 2>&1 || {
  tail -n 40 "$stage_root/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed; full log in $stage_root/build.log" >&2
  exit 1
}
deb=bondd_${version}_all.deb
rm -f dist/bondd_*_all.deb
mv "$stage_root/$deb" dist/
echo "build-deb: dist/$deb ($(stat -c %s "dist/$deb") bytes) in $((SECONDS - started))s"

if [ "${BONDD_SKIP_LINTIAN:-0}" != 1 ]; then
  # lintian refuses nothing as root but says so; the .deb is what ships.
  lintian --info --display-info --pedantic --show-overrides --fail-on error,warning "dist/$deb" 2>&1 \
    | sed '/^running with root privileges/d' | tee "$stage_root/lintian.log"
  echo "build-deb: lintian: $(grep -c '^E:' "$stage_root/lintian.log" || true) errors," \
    "$(grep -c '^W:' "$stage_root/lintian.log" || true) warnings," \
    "$(grep -c '^[IP]:' "$stage_root/lintian.log" || true) info/pedantic tags" \
    "($(grep -c '^O:' "$stage_root/lintian.log" || true) overridden)"
fi
