#!/bin/sh
# bench/pipeline.sh BUILD_DIR: the daemon end to end (plain build) on this machine, with the
# broker, the publisher and the receiver sharing its cores. N events (default 20000, env N) are
# queued first, then the daemon is started and timed until the queue is empty:
#   direct   receiver up, spool on (records go straight to the receiver, acked on its TCP ACK)
#   no-spool receiver up, spool_max_bytes = 0 (the issue-3 path)
#   spooling receiver down, spool on (every record appended and fsync'd in batches, then acked)
#   replay   the receiver comes back: time until the spool is empty (records replayed in order)
# Prints events/s for each; asserts nothing.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIB=$ROOT/tests/lib
. "$LIB/common.sh"
install_traps
BUILD=$(cd "${1:-build}" && pwd)
ASAN_BIN=$BUILD/ampstream
N=${N:-20000}
AMQP="$PY $LIB/amqp.py"
mk_tmpdir bench || exit 1
T=$TMPD
BR=$T/broker
. "$LIB/daemon.sh"
sh "$LIB/broker.sh" start "$BR" >/dev/null || { echo "bench: broker did not start" >&2; exit 1; }
at_exit "sh '$LIB/broker.sh' stop '$BR'"
. "$BR/broker.env"

# run NAME QUEUE: queue N events, start the daemon, print the time until the queue is empty.
run() {
	$AMQP declare "$BR" "$2" >/dev/null
	$AMQP seq "$BR" "$2" "$N" >/dev/null 2>&1
	_t0=$(now_ms)
	daemon_start "$W"
	wait_for 300 queue_is "$2" "0 0"
	_ms=$(( $(now_ms) - _t0 ))
	printf '  %-9s %6d events in %5d ms = %6d events/s\n' "$1" "$N" "$_ms" \
	    $(( N * 1000 / (_ms > 0 ? _ms : 1) ))
}
spool_empty() { [ -z "$(ls "$W/state/spool/siem" 2>/dev/null | grep '\.seg$')" ]; }

echo "  (plain build, prefetch 200, tcp CEF sink + fsync'd JSON file sink, $(nproc) cores shared)"
mkwork direct; receiver_start "$W"; mkconf "$W" qd "$RPORT"
run direct qd; daemon_stop
mkwork nospool; receiver_start "$W"; SIEM_EXTRA="spool_max_bytes = 0;" mkconf "$W" qn "$RPORT"
run no-spool qn; daemon_stop
mkwork spool; receiver_start "$W"; mkconf "$W" qs "$RPORT"; receiver_stop "$W"
run spooling qs
_t0=$(now_ms)
sh "$LIB/receiver.sh" start "$W/recv" "$RPORT" >/dev/null
wait_for 300 spool_empty
_ms=$(( $(now_ms) - _t0 ))
printf '  %-9s %6d events in %5d ms = %6d events/s (receiver restart included)\n' replay "$N" \
    "$_ms" $(( N * 1000 / (_ms > 0 ? _ms : 1) ))
daemon_stop
