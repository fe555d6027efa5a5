#!/bin/sh
# Static checks of the Debian package (`make check-package`): lintian (any error fails;
# warnings and notes are shown), the packaged units (systemd-analyze verify with every
# warning an error, and systemd-analyze security at most 1.5), and the man pages
# (mandoc -T lint, warnings fail).  The booted-system checks are tests/integration/package.sh.
# usage: sh packaging/check-package.sh DEB
set -u
[ $# -eq 1 ] || { echo "usage: $0 DEB" >&2; exit 2; }
DEB=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
X=$(mktemp -d "${TMPDIR:-/tmp}/ampstream-check-package.XXXXXX") || exit 2
trap 'rm -rf "$X"' EXIT
fail=0
bad() { echo "check-package: $*"; fail=1; }

echo "# lintian $DEB"
lintian --fail-on error --display-info "$DEB" 2>&1 | grep -v 'running with root privileges' ||
    true
lintian --fail-on error -q "$DEB" >/dev/null 2>&1 || bad "lintian reports errors"

dpkg-deb -x "$DEB" "$X/root" || { bad "cannot extract $DEB"; exit 1; }
# systemd-analyze verify wants ExecStart= to exist on this machine: point the copies at the
# extracted binary (everything else in the unit is checked as shipped).
mkdir -p "$X/units"
for u in ampstream.service ampstream@.service; do
	f=$X/root/lib/systemd/system/$u
	[ -f "$f" ] || { bad "$u not in the package"; continue; }
	name=$u; [ "$u" = ampstream@.service ] && name=ampstream@check.service
	sed "s|/usr/sbin/ampstream|$X/root/usr/sbin/ampstream|" "$f" > "$X/units/$name"
	echo "# systemd-analyze verify $u"
	out=$(cd "$X/units" && systemd-analyze verify --man=no --recursive-errors=yes "$name" 2>&1) ||
	    bad "systemd-analyze verify $u: $out"
	[ -z "$out" ] || echo "$out" | sed 's/^/#   /'
	echo "# systemd-analyze security $u"
	score=$(systemd-analyze security --offline=true "$f" 2>/dev/null |
	    sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	echo "#   exposure $score"
	systemd-analyze security --offline=true --threshold=15 "$f" >/dev/null 2>&1 ||
	    bad "systemd-analyze security $u: exposure ${score:-?} above 1.5"
done

echo "# mandoc -T lint -W warning"
out=$(mandoc -T lint -W warning "$ROOT"/man/*.[158] 2>&1) || bad "mandoc: $out"

if [ $fail -eq 0 ]; then echo "check-package: OK"; else echo "check-package: FAILED"; fi
exit $fail
