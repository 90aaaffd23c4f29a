#!/bin/bash
# Build the bondd .rpm (noarch) from a clean copy of the checkout and check it
# with rpmlint.
#
#     bash packaging/build-rpm.sh            # -> dist/bondd-VERSION-1.noarch.rpm
#
# On a Fedora / EL host the spec uses pyproject-rpm-macros and
# systemd-rpm-macros; elsewhere (Debian's `rpm` package) its fallbacks, and
# BuildRequires are not checked (there is no RPM database to check them in).
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset VIRTUAL_ENV PYTHONPATH PYTHONHOME
cd "$(dirname "$0")/.."

version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' bondd/__init__.py)
[ -n "$version" ] || { echo "build-rpm: no __version__ in bondd/__init__.py" >&2; exit 1; }
top=$PWD/build/rpm
rm -rf "$top"
mkdir -p "$top/SOURCES" "$top/stage/bondd-$version" dist
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -C "$top/stage/bondd-$version" -xf -
tar -C "$top/stage" -czf "$top/SOURCES/bondd-$version.tar.gz" "bondd-$version"

nodeps=()
rpm -q rpm >/dev/null 2>&1 || nodeps=(--nodeps)
date=$(LC_ALL=C git log -1 --format=%cd --date=format:'%a %b %d %Y' 2>/dev/null \
  || LC_ALL=C date +'%a %b %d %Y')
started=$SECONDS
rpmbuild -bb "${nodeps[@]}" \
  --define "_topdir $top" \
  --define "bondd_version $version" \
  --define "bondd_date $date" \
  --define "packager bondd developers <bondd-devel@example.org>" \
  packaging/rpm/bondd.spec > "$top/build.log" 2>&1 || {
  tail -n 40 "$top/build.log" >&2
  echo "build-rpm: rpmbuild failed; full log in $top/build.log" >&2
  exit 1
}
rpm_file=$(ls "$top"/RPMS/noarch/bondd-"$version"-*.noarch.rpm)
rm -f dist/bondd-*.noarch.rpm
cp "$rpm_file" dist/
rpm_file=dist/$(basename "$rpm_file")
echo "build-rpm: $rpm_file ($(stat -c %s "$rpm_file") bytes) in $((SECONDS - started))s"

if [ "${BONDD_SKIP_RPMLINT:-0}" != 1 ]; then
  # rpmlint exits 64 on errors, 66 on too many warnings; its last line sums up.
  rpmlint -c packaging/rpm/rpmlint.toml -r packaging/rpm/rpmlintrc "$rpm_file" | tee "$top/rpmlint.log"
fi

# What an admin gets: the files, the dependencies on the distribution's
# Python packages, the conffile and the systemd scriptlets.
problems=0
need() { echo "build-rpm: $rpm_file: $*" >&2; problems=$((problems + 1)); }
files=$(rpm -qpl "$rpm_file")
for f in /usr/bin/bondctl /usr/sbin/bondd /usr/lib/systemd/system/bondd.service \
  /etc/modprobe.d/bondd.conf /etc/bondd.d /usr/share/bash-completion/completions/bondctl \
  /usr/share/man/man5/bondd.d.5.gz /usr/share/man/man8/bondctl.8.gz /usr/share/man/man8/bondd.8.gz \
  /usr/share/doc/bondd/examples/10-bond0.yaml /usr/share/doc/bondd/examples/bondd-alerts.yml; do
  grep -qx "$f" <<<"$files" || need "missing $f"
done
requires=$(rpm -qp --requires "$rpm_file")
# bondd speaks sd_notify itself (bondd/datagram.py): no python3-sdnotify.
grep -q "^python3-sdnotify" <<<"$requires" && need "still requires python3-sdnotify"
for r in python3-pyroute2 python3-pyyaml python3-watchdog; do
  grep -q "^$r\b" <<<"$requires" || need "does not require $r"
done
[ "$(rpm -qpc "$rpm_file")" = /etc/modprobe.d/bondd.conf ] || need "conffiles: $(rpm -qpc "$rpm_file")"
scripts=$(rpm -qp --scripts "$rpm_file")
for s in postinstall preuninstall postuninstall; do
  grep -q "^$s scriptlet" <<<"$scripts" || need "no $s scriptlet"
done
[ "$problems" -eq 0 ] || exit 1
echo "build-rpm: files, requires, conffiles and scriptlets as expected"
