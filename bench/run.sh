#!/bin/sh
# bench/run.sh BUILD_DIR: compile bench/format_bench.c against
# BUILD_DIR/libampstream.a with the Makefile's flags and run it from the
# top of the tree.  Prints records per second per format; asserts nothing.
set -eu
B=${1:-build}
cd "$(dirname "$0")/.."
PKGS="libevent libevent_openssl librabbitmq json-c libconfig libsystemd libcurl openssl"
CFLAGS="-std=gnu11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE -Idaemon"
mkdir -p "$B/bench"
# shellcheck disable=SC2046
${CC:-cc} $CFLAGS $(pkg-config --cflags $PKGS) -o "$B/bench/format_bench" \
    bench/format_bench.c "$B/libampstream.a" $(pkg-config --libs $PKGS)
"$B/bench/format_bench" tests/fixtures/events/all.jsonl
