#!/bin/sh
# bench/run.sh BUILD_DIR: compile the benches against BUILD_DIR/libampstream.a
# with the Makefile's flags and run them from the top of the tree: records per
# second per format, spool appends/replays per fsync batch, and the whole
# daemon with the spool on and off (bench/pipeline.sh).  Asserts nothing.
set -eu
B=${1:-build}
cd "$(dirname "$0")/.."
PKGS="libevent libevent_openssl librabbitmq json-c libconfig libsystemd libcurl openssl"
CFLAGS="-std=gnu11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE -Ilib -Iconf -Idaemon"
mkdir -p "$B/bench"
# shellcheck disable=SC2046
for b in format_bench spool_bench; do
	${CC:-cc} $CFLAGS $(pkg-config --cflags $PKGS) -o "$B/bench/$b" \
	    "bench/$b.c" "$B/libampd.a" "$B/libampbase.a" $(pkg-config --libs $PKGS)
done
echo "== formatters"
"$B/bench/format_bench" tests/fixtures/events/all.jsonl
echo "== spool (1 KiB records, in a temp dir)"
"$B/bench/spool_bench"
echo "== the daemon end to end"
sh bench/pipeline.sh "$B"
