#!/bin/sh
# Builds the Debian package: copies the source tree (without build output) to
# BUILD_DIR/deb/ampstream-VERSION, with packaging/debian/ as debian/, runs
# dpkg-buildpackage -b there and copies ampstream_VERSION_ARCH.deb to BUILD_DIR.
# usage: sh packaging/build-deb.sh BUILD_DIR VERSION      (`make deb`)
# VERSION is AMPSTREAM_VERSION (lib/compat.h); debian/changelog must carry the same one.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR VERSION" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$(mkdir -p "$1" && cd "$1" && pwd)
VERSION=$2
cd "$ROOT"
clv=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
if [ "$clv" != "$VERSION" ]; then
	echo "build-deb: packaging/debian/changelog is at $clv but AMPSTREAM_VERSION is $VERSION:" \
	    "add a changelog entry (dch -c packaging/debian/changelog -v $VERSION)" >&2
	exit 1
fi
for c in dpkg-buildpackage dh; do
	command -v $c >/dev/null || { echo "build-deb: $c missing (sh tests/lib/install-deps.sh)" >&2; exit 1; }
done
arch=$(dpkg --print-architecture)
W=$B/deb
S=$W/ampstream-$VERSION
rm -rf "$W"
mkdir -p "$S"
# Only what the build needs: sources, units, man pages, docs, the example config.
tar -cf - Makefile README.md lib conf daemon ctl systemd man docs | tar -xf - -C "$S"
cp -R packaging/debian "$S/debian"
log=$W/build.log
# Not the calling make's variables: `make deb B=/abs/dir` would reach the package's own
# make calls through MAKEFLAGS (and its `make clean` would remove /abs/dir).
if ! (cd "$S" && unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES &&
    dpkg-buildpackage -b -us -uc --no-sign) >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	echo "build-deb: dpkg-buildpackage failed (log: $log)" >&2
	exit 1
fi
cp "$W/ampstream_${VERSION}_$arch.deb" "$B/"
echo "$B/ampstream_${VERSION}_$arch.deb"
