#!/bin/sh
# bench/run.sh BUILD_DIR: compile the benches against BUILD_DIR's archives with the Makefile's
# flags and run them from the top of the tree: the offline stages (parse, format, frame), the
# spool, and the daemon end to end against the ceiling of this machine (bench/e2e.py, on a
# private broker), then many streams (bench/streams.sh).  Prints figures; asserts nothing.
# Env: N (events per end-to-end row).
set -eu
B=${1:-build}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LIB=$ROOT/tests/lib
PKGS="libevent libevent_openssl librabbitmq json-c libconfig libsystemd libcurl openssl"
CFLAGS="-std=gnu11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE -Ilib -Iconf -Idaemon"
mkdir -p "$B/bench"
# shellcheck disable=SC2046
for b in format_bench spool_bench; do
	${CC:-cc} $CFLAGS $(pkg-config --cflags $PKGS) -o "$B/bench/$b" \
	    "bench/$b.c" "$B/libampd.a" "$B/libampbase.a" $(pkg-config --libs $PKGS)
done
# shellcheck disable=SC2046
${CC:-cc} $CFLAGS $(pkg-config --cflags librabbitmq) -o "$B/bench/null_consumer" \
    bench/null_consumer.c $(pkg-config --libs librabbitmq)
echo "== offline stages (parse, format, frame)"
"$B/bench/format_bench" tests/fixtures/events/all.jsonl
echo "== spool (1 KiB records, in a temp dir)"
"$B/bench/spool_bench"
echo "== the daemon end to end"
. "$LIB/common.sh"
install_traps
mk_tmpdir bench || exit 1
sh "$LIB/broker.sh" start "$TMPD/broker" >/dev/null || { echo "bench: broker did not start" >&2; exit 1; }
at_exit "sh '$LIB/broker.sh' stop '$TMPD/broker'"
/usr/bin/python3 bench/e2e.py "$(cd "$B" && pwd)" "$TMPD/broker" "$TMPD"
echo "== many streams"
sh bench/streams.sh "$B"
