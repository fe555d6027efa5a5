#!/bin/sh
# bench/streams.sh BUILD_DIR: many streams in one daemon (tests/integration/streams.sh run as a
# bench): attach time and RSS per idle stream for 1, 100 and 1000 plain streams and 1000 amqps
# streams on one local broker, and 50 amqps streams over 100 ms of round trip (attach, reconnect after a broker
# restart, a healthy stream's latency meanwhile).  Prints the figures; the pass/fail lines of
# the suite are its bounds, not the bench's.
set -u
B=${1:-build}
cd "$(dirname "$0")/.."
for n in 1 100 1000; do
	echo "== $n plain stream(s), one local broker"
	STREAMS_ONLY=3 STREAMS_N=$n sh tests/integration/streams.sh "$B" 2>&1 |
	    grep -E '^# ([0-9]+ of|RSS|SIGTERM)'
done
echo "== 1000 amqps streams, one local broker"
STREAMS_ONLY=3 STREAMS_TLS=1 sh tests/integration/streams.sh "$B" 2>&1 |
    grep -E '^# ([0-9]+ of|RSS|SIGTERM)'
echo "== 50 amqps streams, 100 ms round trip, broker restarted"
STREAMS_ONLY=4 sh tests/integration/streams.sh "$B" 2>&1 | grep -E '^# (WAN|healthy|SIGTERM)'
