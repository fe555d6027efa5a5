#!/bin/sh
# Installs syslog-ng 3.38 (Debian bookworm's syslog-ng-core) for the sink tests WITHOUT
# apt-installing it: syslog-ng-core Conflicts: system-log-daemon, which rsyslog Provides, so
# `apt-get install syslog-ng-core` would remove rsyslog (the other test receiver). The .deb is
# fetched with `apt-get download` and unpacked with `dpkg-deb -x` into a cache dir; only its
# shared-library dependencies are apt-installed. Idempotent, non-interactive, uses sudo when not
# root. Modeled on shared/peers/setup.sh (project research, copied and adapted: cache dir,
# atomic unpack, no npm peer).
#
# usage: syslog-ng-setup.sh [DIR]   DIR default $SYSLOG_NG_ROOT or /var/cache/ampstream-tests/syslog-ng
# Afterwards: LD_LIBRARY_PATH=DIR/usr/lib/syslog-ng DIR/usr/sbin/syslog-ng \
#               --module-path=DIR/usr/lib/syslog-ng/3.38 ...
set -eu
R=${1:-${SYSLOG_NG_ROOT:-/var/cache/ampstream-tests/syslog-ng}}
RUNTIME_DEPS="libivykis0 libnet1 libwrap0 libglib2.0-0 libpcre3 libjson-c5 libcap2 libssl3
libsystemd0"

works() {
	[ -x "$R/usr/sbin/syslog-ng" ] &&
	    LD_LIBRARY_PATH="$R/usr/lib/syslog-ng" "$R/usr/sbin/syslog-ng" --version 2>/dev/null |
	    grep -q '^syslog-ng 3'
}
works && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
missing=""
for p in $RUNTIME_DEPS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ] || ! apt-cache show syslog-ng-core >/dev/null 2>&1; then
	$SUDO apt-get update -qq </dev/null
fi
[ -z "$missing" ] ||
    $SUDO apt-get install -y -qq --no-install-recommends $missing </dev/null >/dev/null

# Unpack next to the target and rename, so a parallel run never sees half a tree.
$SUDO mkdir -p "$(dirname "$R")"
tmp=$($SUDO mktemp -d "$(dirname "$R")/syslog-ng.tmp.XXXXXX")
trap '$SUDO rm -rf "$tmp"' EXIT
$SUDO chmod 0755 "$tmp"
(cd "$tmp" && $SUDO apt-get download syslog-ng-core </dev/null >/dev/null 2>&1) ||
    { echo "syslog-ng-setup: apt-get download syslog-ng-core failed" >&2; exit 1; }
$SUDO mkdir "$tmp/root"
for d in "$tmp"/*.deb; do $SUDO dpkg-deb -x "$d" "$tmp/root"; done
if ! works; then
	$SUDO rm -rf "$R"
	$SUDO mv -T "$tmp/root" "$R" 2>/dev/null || true
fi
works || { echo "syslog-ng-setup: $R/usr/sbin/syslog-ng does not run" >&2; exit 1; }
LD_LIBRARY_PATH="$R/usr/lib/syslog-ng" "$R/usr/sbin/syslog-ng" --version | head -n 1
