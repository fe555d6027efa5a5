#!/bin/sh
# Integration suite for many streams: no stream ever waits for another (a real private RabbitMQ
# node -> ampstream -> a timing receiver, tests/lib/latprobe.py):
#   1 faults beside a healthy stream: one stream's broker drops SYNs (an nftables rule on a
#     loopback port), one accepts TCP and never speaks AMQP, one accepts TLS and stalls in the
#     handshake, one refuses connections; the healthy stream's events (50/s) reach the sink with
#     p99 <= 50 ms; status.json and ampstreamctl status say why the others are not consuming;
#     the refused one backs off (no retry storm); the metrics count failures by reason; SIGTERM
#     exits within 2 s
#   2 a reload (SIGHUP) while those handshakes hang is served at once; the unchanged streams are
#     kept: the healthy one stays connected (no second 'consuming') and its events flow on
#   4 WAN: 50 amqps streams to a second broker through a relay that adds 100 ms of round trip:
#     all consuming within 5 s of start; the broker restarted: all back within 15 s of it being
#     up; a healthy stream on the first broker keeps p99 <= 50 ms throughout; SIGTERM with the
#     50 consuming exits within 2 s
#   5 a slow disk beside a healthy stream: one stream's file sink sits on a disk whose fsync takes
#     300 ms (tests/lib/slowfs.py, FUSE); the healthy stream's tcp records keep p99 <= 50 ms, and
#     every event of the disk stream is in its file once, and acked; then that disk's fsync fails
#     for a while: those events are held (unacked), the file is cut back, and once the disk works
#     again every one is in the file once
#   3 1000 streams on one broker: all consuming within 10 s of start, then 10 events each, all
#     delivered; RSS per stream reported
# usage: sh tests/integration/streams.sh BUILD_DIR
# Prints `ok - NAME` / `not ok - NAME: reason`, figures as `# ` lines, and `N passed, N failed`.
# Env: KEEP_TMP=1 keeps the temp dir; STREAMS_ONLY="1" runs only those tests; STREAMS_N: how
# many streams test 3 runs (1000; bench/streams.sh also runs 1 and 100); STREAMS_TLS=1: test 3's
# streams are amqps.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$ROOT/tests/lib
. "$LIB/common.sh"
suite_init streams "$@"
CTL=$BUILD/ampstreamctl
PROBE="$PY $LIB/latprobe.py"
note "streams suite: temp dir $T, daemon $ASAN_BIN"
want() { [ -z "${STREAMS_ONLY:-}" ] || case " $STREAMS_ONLY " in *" $1 "*) ;; *) return 1 ;; esac; }
. "$LIB/daemon.sh"
NFT_TABLE=ampstream_streams_$$

# bg NAME CMD...: run CMD in the background, killed by pid at exit
bg() { _n=$1; shift; "$@" > "$T/$_n.out" 2>&1 & at_exit "kill_if_ours $! python3"; }
portfile() { wait_for 10 test -s "$1" && cat "$1"; }
# stream_conf NAME URL QUEUE [EXTRA]: one stream block
stream_conf() {
	printf '  { name = "%s"; url = "%s"; user = "%s"; password_file = "%s"; queue = "%s"; %s },\n' \
	    "$1" "$2" "$BROKER_USER" "$BROKER_PASSWORD_FILE" "$3" "${4:-}"
}
# write_conf W STREAMS_FILE SINK_PORT: the config, streams from a file of blocks
write_conf() {
	{
		printf 'state_dir = "%s/state";\nlog_level = "info";\n%s\nstreams = (\n' "$1" "${GLOBAL_EXTRA:-}"
		sed '$ s/},$/}/' "$2"
		printf ');\nsinks = (\n  { name = "siem"; type = "tcp"; host = "127.0.0.1"; port = %s;\n' "$3"
		printf '    format = "cef"; syslog = "rfc5424"; framing = "octet"; }%s\n);\n' \
		    "${SINKS_EXTRA:+,
  $SINKS_EXTRA}"
	} > "$1/ampstream.conf"
	chmod 0600 "$1/ampstream.conf"
}
# healthy_p99 N WHAT: N records of the healthy stream at the sink, then all arrived, p99 <= 50 ms
healthy_p99() {
	wait_d 10 sh -c '[ "$(wc -l < "$1")" -ge "$2" ]' _ "$W/received" "$1"
	lat=$($PROBE report "$W/published" "$W/received"); rc=$?
	note "healthy stream $2: $lat"
	t_eq "every event of the healthy stream arrived" 0 "$rc"
	p99=$(echo "$lat" | sed -n 's/.*p99 \([0-9]*\) ms.*/\1/p')
	t_check "healthy stream p99 <= 50 ms ($lat)" [ "${p99:-999999}" -le 50 ]
}
json_state() {
	"$PY" -c 'import json,sys
for s in json.load(open(sys.argv[1]))["streams"]:
    if s["name"] == sys.argv[2]:
        print(s.get(sys.argv[3], ""))' "$1/state/status.json" "$2" "$3" 2>/dev/null
}
is_consuming() { [ "$(json_state "$1" "$2" state)" = connected ]; }

NAMES="1-faults-beside-healthy 2-reload-while-hanging 5-slow-disk-beside-healthy 3-thousand-streams
4-wan-50-amqps"
if [ ! -x "$ASAN_BIN" ]; then
	t_fail_all "daemon binary missing ($ASAN_BIN)" $NAMES
	summary; exit 1
fi
suite_broker_start --tls

# The faulty peers: a port whose SYNs are dropped, a silent TCP listener (plain and TLS streams
# point at it), a closed port.
DROP_PORT=$(freeport)
bg silent $PROBE silent "$T/silent.port"
SILENT_PORT=$(portfile "$T/silent.port")
REFUSED_PORT=$(freeport)
NFT_OK=0
if nft add table inet "$NFT_TABLE" 2>/dev/null; then
	at_exit "nft delete table inet '$NFT_TABLE'"
	nft add chain inet "$NFT_TABLE" in '{ type filter hook input priority 0; }' &&
	nft add rule inet "$NFT_TABLE" in ip daddr 127.0.0.1 tcp dport "$DROP_PORT" drop &&
	    NFT_OK=1
fi

# --- 1. faults beside a healthy stream --------------------------------------------------------
if want 1; then
t_begin "1-faults-beside-healthy"
t_eq "nftables rule dropping SYNs to 127.0.0.1:$DROP_PORT" 1 "$NFT_OK"
mkwork t1
$AMQP declare "$BR" healthy1
bg sink1 $PROBE sink "$W/sink.port" "$W/received"
SPORT=$(portfile "$W/sink.port")
{
	stream_conf healthy "amqp://127.0.0.1:$BROKER_PORT/" healthy1
	stream_conf syn-drop "amqp://127.0.0.1:$DROP_PORT/" q
	stream_conf silent "amqp://127.0.0.1:$SILENT_PORT/" q
	stream_conf tls-stall "amqps://localhost:$SILENT_PORT/" q
	stream_conf refused "amqp://127.0.0.1:$REFUSED_PORT/" q
} > "$W/streams"
MPORT=$(freeport)
GLOBAL_EXTRA="metrics = { listen = \"127.0.0.1:$MPORT\"; };" write_conf "$W" "$W/streams" "$SPORT"
daemon_start "$W"
wait_d 20 is_consuming "$W" healthy || t_fail "healthy stream not consuming within 20 s"
# 25 s of events at 50/s: every hung handshake times out (10 s) and starts again meanwhile.
$PROBE publish "$BR" healthy1 1250 50 1 "$W/published" 2>"$W/publish.err" ||
    t_fail "publish failed: $(tail -n 1 "$W/publish.err")"
healthy_p99 1250 "beside syn-drop, silent, tls-stall, refused"
for s in syn-drop silent tls-stall refused; do
	st=$(json_state "$W" "$s" state)
	t_check "status.json: $s is connecting or backing off (got '$st')" \
	    sh -c 'case "$1" in connecting|"backing off") exit 0;; esac; exit 1' _ "$st"
done
err=$(json_state "$W" refused last_error)
t_check "status.json: refused's last error names the refusal ($err)" \
    sh -c 'echo "$1" | grep -qi "refused"' _ "$err"
fails=$(json_state "$W" refused connect_failures)
note "refused: $fails failed connects in ~30 s"
t_check "refused backs off (2..40 failed connects in ~30 s, got $fails)" \
    sh -c '[ "$1" -ge 2 ] && [ "$1" -le 40 ]' _ "${fails:-0}"
curl -s "http://127.0.0.1:$MPORT/metrics" > "$W/metrics.txt"
failures() {
	sed -n "s/^ampstream_stream_connect_failures_total{stream=\"$1\",reason=\"$2\"} //p" \
	    "$W/metrics.txt"
}
note "failed connects by reason: refused/connect $(failures refused connect), silent/login" \
    "$(failures silent login), syn-drop/connect $(failures syn-drop connect)"
t_check "metrics: refused counted as reason connect" [ "$(failures refused connect)" -ge 2 ]
t_check "metrics: silent (no AMQP) counted as reason login" [ "$(failures silent login)" -ge 1 ]
t_check "metrics: syn-drop counted as reason connect" [ "$(failures syn-drop connect)" -ge 1 ]
"$CTL" -c "$W/ampstream.conf" status > "$W/ctl.out" 2>&1
t_check "ampstreamctl status shows the last error and the next attempt" \
    sh -c 'grep -q "last error: .*refused" "$1" && grep -q "next attempt in" "$1"' _ "$W/ctl.out"
daemon_stop 15
note "SIGTERM with 3 handshakes hanging: exit after $DSTOP s"
t_check "SIGTERM exits within 2 s (took $DSTOP s)" \
    sh -c '[ "${1%%.*}" -lt 2 ]' _ "$DSTOP"
check_daemon_exit
on_fail_show "$DLOG" "$W/ctl.out"
t_end
fi

# --- 2. SIGHUP while handshakes hang ---------------------------------------------------------
if want 2; then
t_begin "2-reload-while-hanging"
mkwork t2
$AMQP declare "$BR" healthy2
bg sink2 $PROBE sink "$W/sink.port" "$W/received"
SPORT=$(portfile "$W/sink.port")
{
	stream_conf healthy "amqp://127.0.0.1:$BROKER_PORT/" healthy2
	stream_conf syn-drop "amqp://127.0.0.1:$DROP_PORT/" q
	stream_conf silent "amqp://127.0.0.1:$SILENT_PORT/" q
} > "$W/streams"
write_conf "$W" "$W/streams" "$SPORT"
daemon_start "$W"
wait_d 20 is_consuming "$W" healthy || t_fail "healthy stream not consuming within 20 s"
sleep 1
t0=$(now_ms)
kill -HUP "$DPID"
wait_d 10 grep -q "configuration reloaded" "$DLOG" || t_fail "no reload within 10 s"
t1=$(now_ms)
note "reload served in $((t1 - t0)) ms: $(grep -m1 'reload: keeping' "$DLOG")"
t_check "reload served within 2 s ($((t1 - t0)) ms)" [ $((t1 - t0)) -le 2000 ]
t_check "the plan keeps all 3 streams" grep -q 'reload: keeping 3 of 3 streams' "$DLOG"
t_check "healthy stream consuming after the reload" is_consuming "$W" healthy
t_eq "healthy stream's connections (one: kept over the reload)" 1 \
    "$(grep -c 'stream healthy: consuming' "$DLOG")"
$PROBE publish "$BR" healthy2 50 50 1 "$W/published" 2>/dev/null
wait_d 10 sh -c '[ "$(wc -l < "$1")" -ge 50 ]' _ "$W/received"
lat=$($PROBE report "$W/published" "$W/received"); rc=$?
note "after the reload: $lat"
t_eq "every event after the reload arrived" 0 "$rc"
daemon_stop 15
t_check "SIGTERM exits within 2 s (took $DSTOP s)" sh -c '[ "${1%%.*}" -lt 2 ]' _ "$DSTOP"
check_daemon_exit
on_fail_show "$DLOG"
t_end
fi

# --- 5. a slow disk beside a healthy stream ----------------------------------------------------
if want 5; then
t_begin "5-slow-disk-beside-healthy"
mkwork t5
$AMQP declare "$BR" healthy5
$AMQP declare "$BR" disk5
mkdir -p "$W/disk-back" "$W/disk"
bg slowfs "$PY" "$LIB/slowfs.py" "$W/disk-back" "$W/disk" 300
at_exit "umount -l '$W/disk'"		# before its server is killed
FUSE_OK=0
wait_for 10 grep -q mounted "$T/slowfs.out" && FUSE_OK=1
t_eq "a slow disk (FUSE, fsync 300 ms) mounted: $(tail -n 1 "$T/slowfs.out")" 1 "$FUSE_OK"
bg sink5 $PROBE sink "$W/sink.port" "$W/received"
SPORT=$(portfile "$W/sink.port")
{
	stream_conf healthy "amqp://127.0.0.1:$BROKER_PORT/" healthy5 'sinks = [ "siem" ];'
	stream_conf disk "amqp://127.0.0.1:$BROKER_PORT/" disk5 'sinks = [ "disk" ];'
} > "$W/streams"
SINKS_EXTRA="{ name = \"disk\"; type = \"file\"; path = \"$W/disk/events.json\";
    format = \"json\"; syslog = \"none\"; }" write_conf "$W" "$W/streams" "$SPORT"
daemon_start "$W"
{ wait_d 20 is_consuming "$W" healthy && wait_d 20 is_consuming "$W" disk; } ||
    t_fail "streams not consuming within 20 s"
# 10 s: the disk stream at 100 events/s (each batch waits 300 ms for its fsync), the healthy one
# at 50/s beside it.
$PROBE publish "$BR" disk5 1000 100 100001 "$W/published-disk" 2>"$W/publish-disk.err" &
DISKPUB=$!
$PROBE publish "$BR" healthy5 500 50 1 "$W/published" 2>"$W/publish.err" ||
    t_fail "publish failed: $(tail -n 1 "$W/publish.err")"
wait "$DISKPUB" || t_fail "publish to the disk stream failed: $(tail -n 1 "$W/publish-disk.err")"
healthy_p99 500 "beside a disk whose fsync takes 300 ms"
wait_d 20 sh -c '[ "$($1 count "$2" disk5)" = "0 0" ]' _ "$AMQP" "$BR" ||
    t_fail "disk stream not drained and acked within 20 s: $($AMQP count "$BR" disk5)"
got=$("$PY" -c 'import json, sys
ids = [json.loads(l, parse_int=str)["id"] for l in open(sys.argv[1])]
want = set(str(i) for i in range(100001, 101001))
print(len(ids), len(want - set(ids)), len(ids) - len(set(ids)))' "$W/disk-back/events.json" 2>&1)
t_eq "disk stream's events in its file (lines, missing, duplicates)" "1000 0 0" "$got"
# The disk fails (fsync: EIO) for 3 s: 100 more events are held, not acked, nothing half-written
touch "$W/disk-back/.fail-fsync"
$AMQP seq "$BR" disk5 100 --start 101001 >/dev/null 2>&1
wait_d 10 grep -q "sink disk: .*events.json: Input/output error" "$DLOG" ||
    t_fail "no fsync failure logged within 10 s"
sleep 3
held=$($AMQP count "$BR" disk5)
note "while the disk fails: disk5 ready/unacked $held"
t_check "the events are held while the disk fails (none acked: $held)" \
    sh -c '[ $(( ${1% *} + ${1#* } )) -eq 100 ]' _ "$held"
rm -f "$W/disk-back/.fail-fsync"
wait_d 20 sh -c '[ "$($1 count "$2" disk5)" = "0 0" ]' _ "$AMQP" "$BR" ||
    t_fail "disk stream not drained within 20 s of the disk working again"
got=$("$PY" -c 'import json, sys
ids = [json.loads(l, parse_int=str)["id"] for l in open(sys.argv[1])]
want = set(str(i) for i in range(100001, 101101))
print(len(ids), len(want - set(ids)), len(ids) - len(set(ids)))' "$W/disk-back/events.json" 2>&1)
t_eq "after the failing disk: events in the file (lines, missing, duplicates)" "1100 0 0" "$got"
daemon_stop 15
note "SIGTERM with the disk stream idle: exit after $DSTOP s"
t_check "SIGTERM exits within 2 s (took $DSTOP s)" sh -c '[ "${1%%.*}" -lt 2 ]' _ "$DSTOP"
check_daemon_exit
umount "$W/disk" 2>/dev/null
on_fail_show "$DLOG"
t_end
fi

# --- 3. a thousand streams on one broker ------------------------------------------------------
if want 3; then
t_begin "3-thousand-streams"
mkwork t3
N=${STREAMS_N:-1000}
# fill Q: declare the N queues (Q=0), or publish 10 events to each (Q=1)
fill() {
	"$PY" -c '
import sys; sys.path.insert(0, sys.argv[1])
import amqp, pika
d, n, fill = sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
conn = pika.BlockingConnection(amqp.params(d)); ch = conn.channel(); ch.confirm_delivery()
for q in range(n):
    if not fill:
        ch.queue_declare("many%d" % q, durable=True)
        continue
    for k in range(10):
        ch.basic_publish("", "many%d" % q, amqp.seq_event(q * 10 + k + 1), amqp.PROPS)
conn.close()' "$LIB" "$BR" "$N" "$1"
}
fill 0 || t_fail "could not declare $N queues"
bg sink3 $PROBE sink "$W/sink.port" "$W/received"
SPORT=$(portfile "$W/sink.port")
URL3="amqp://127.0.0.1:$BROKER_PORT/"; X3=""; KIND=plain
if [ -n "${STREAMS_TLS:-}" ]; then
	URL3="amqps://localhost:$BROKER_TLS_PORT/"; X3="ca_file = \"$BROKER_CA\";"; KIND=amqps
fi
i=0
while [ $i -lt $N ]; do
	stream_conf "m$i" "$URL3" "many$i" "prefetch = 20; $X3"
	i=$((i + 1))
done > "$W/streams"
write_conf "$W" "$W/streams" "$SPORT"
# The plain build: ASan's shadow memory would hide the per-stream figure.
daemon_start "$W" "$PLAIN_BIN"
all_consuming() {
	[ "$("$PY" -c 'import json,sys
print(sum(1 for s in json.load(open(sys.argv[1]))["streams"] if s["state"] == "connected"))' \
	    "$1/state/status.json" 2>/dev/null)" = "$2" ]
}
# status.json is rewritten every few seconds: count the log's lines instead, then confirm.
t0=$DSTART
wait_d 30 sh -c '[ "$(grep -c ": consuming many" "$1")" -ge "$2" ]' _ "$DLOG" "$N"
t1=$(now_ms)
nc=$(grep -c ": consuming many" "$DLOG")
note "$nc of $N $KIND streams consuming $((t1 - t0)) ms after start"
t_eq "streams consuming" "$N" "$nc"
t_check "all $N consuming within 10 s ($((t1 - t0)) ms)" [ $((t1 - t0)) -le 10000 ]
fill 1 || t_fail "could not publish to $N queues"
wait_d 30 sh -c '[ "$(wc -l < "$1")" -ge "$2" ]' _ "$W/received" $((N * 10))
got=$(sort -u "$W/received" | wc -l)
t_eq "distinct events delivered" $((N * 10)) "$got"
sleep 2
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$DPID/status")
note "RSS with $N $KIND streams consuming (idle): $rss KiB, $((rss / N)) KiB per stream"
wait_d 20 all_consuming "$W" "$N" || t_fail "status.json does not show $N streams connected"
daemon_stop 15
t_eq "daemon exit code after SIGTERM" 0 "$DRC"
note "SIGTERM with $N streams: exit after $DSTOP s"
on_fail_show "$DLOG"
t_end
fi

# --- 4. WAN: 50 amqps streams over 100 ms of round trip ----------------------------------------
if want 4; then
t_begin "4-wan-50-amqps"
mkwork t4
BR2=$T/broker2
if ! sh "$LIB/broker.sh" start "$BR2" --tls > "$T/broker2-start.out" 2>&1; then
	t_fail "second broker did not start: $(tail -n 3 "$T/broker2-start.out" | tr '\n' '|')"
else
	at_exit "sh '$LIB/broker.sh' stop '$BR2'"
	B2_TLS=$(sed -n "s/^BROKER_TLS_PORT='*\([0-9]*\)'*/\1/p" "$BR2/broker.env")
	B2_CA=$(sed -n "s/^BROKER_CA='*\([^']*\)'*/\1/p" "$BR2/broker.env")
	bg relay4 "$PY" "$LIB/delayrelay.py" "$W/relay.port" 127.0.0.1 "$B2_TLS" 50
	RELAY=$(portfile "$W/relay.port")
	"$PY" -c '
import sys; sys.path.insert(0, sys.argv[1])
import amqp, pika
conn = pika.BlockingConnection(amqp.params(sys.argv[2])); ch = conn.channel()
for q in range(50):
    ch.queue_declare("wan%d" % q, durable=True)
conn.close()' "$LIB" "$BR2" || t_fail "could not declare the 50 queues"
	$AMQP declare "$BR" healthy4
	bg sink4 $PROBE sink "$W/sink.port" "$W/received"
	SPORT=$(portfile "$W/sink.port")
	{
		stream_conf healthy "amqp://127.0.0.1:$BROKER_PORT/" healthy4
		i=0
		while [ $i -lt 50 ]; do
			printf '  { name = "w%d"; url = "amqps://localhost:%s/"; user = "%s"; password_file = "%s"; queue = "wan%d"; ca_file = "%s"; },\n' \
			    $i "$RELAY" "$(sed -n "s/^BROKER_USER='*\([^']*\)'*/\1/p" "$BR2/broker.env")" \
			    "$(sed -n "s/^BROKER_PASSWORD_FILE='*\([^']*\)'*/\1/p" "$BR2/broker.env")" $i "$B2_CA"
			i=$((i + 1))
		done
	} > "$W/streams"
	write_conf "$W" "$W/streams" "$SPORT"
	daemon_start "$W"
	wait_d 20 sh -c '[ "$(grep -c ": consuming wan" "$1")" -ge 50 ]' _ "$DLOG"
	t1=$(now_ms)
	nc=$(grep -c ": consuming wan" "$DLOG")
	note "WAN: $nc of 50 amqps streams consuming $((t1 - DSTART)) ms after start (100 ms RTT)"
	t_eq "amqps streams consuming over the WAN" 50 "$nc"
	t_check "all 50 consuming within 5 s of start ($((t1 - DSTART)) ms)" [ $((t1 - DSTART)) -le 5000 ]
	wait_d 10 is_consuming "$W" healthy || t_fail "healthy stream not consuming"
	# Events on the healthy stream through the whole restart: 50/s for 40 s.
	$PROBE publish "$BR" healthy4 2000 50 1 "$W/published" 2>"$W/publish.err" &
	PUBPID=$!
	sleep 2
	sh "$LIB/broker.sh" restart "$BR2" > "$T/broker2-restart.out" 2>&1 ||
	    t_fail "second broker did not restart: $(tail -n 2 "$T/broker2-restart.out" | tr '\n' '|')"
	tup=$(now_ms)
	wait_d 30 sh -c '[ "$(grep -c ": consuming wan" "$1")" -ge 100 ]' _ "$DLOG"
	t2=$(now_ms)
	nc=$(( $(grep -c ": consuming wan" "$DLOG") - 50 ))
	note "WAN: $nc of 50 back $((t2 - tup)) ms after the broker was up again"
	t_eq "amqps streams back after the broker restart" 50 "$nc"
	t_check "all 50 back within 15 s of the broker being up ($((t2 - tup)) ms)" \
	    [ $((t2 - tup)) -le 15000 ]
	wait "$PUBPID" || t_fail "publish to the healthy stream failed: $(tail -n 1 "$W/publish.err")"
	healthy_p99 2000 "through the WAN streams' start and reconnect storm"
	daemon_stop 15
	note "SIGTERM with 50 amqps streams consuming over the WAN: exit after $DSTOP s"
	t_check "SIGTERM exits within 2 s (took $DSTOP s)" sh -c '[ "${1%%.*}" -lt 2 ]' _ "$DSTOP"
	check_daemon_exit
	sh "$LIB/broker.sh" stop "$BR2" >/dev/null 2>&1
fi
on_fail_show "$DLOG"
t_end
fi

note "streams suite: $(secs_since "$SUITE_T0") s"
summary
