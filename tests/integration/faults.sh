#!/bin/sh
# Fault-injection suite: thousands of numbered events (amqp.py seq, CEF externalId = the number)
# go through a real private RabbitMQ -> ampstream -> a fault-injecting TCP syslog receiver
# (tests/lib/faulty-recv.py) while something fails; the sequence checker (tests/lib/seqcheck.py)
# then reports lost events (never received, not still in the queue or the spool: must be 0) and
# duplicates (reported, allowed: at-least-once).
#   1 kill -9 of the daemon mid-stream (twice), restart
#   2 broker restart mid-stream
#   3 receiver down longer than the broker's consumer_timeout (5 s) while events keep coming
#   4 a receiver that drops the connection every 100-400 records and refuses reconnects briefly
#     (an abortive close that still reads what its TCP acknowledged: see faulty-recv.py)
#   5 a network partition between daemon and receiver (netns + veth + nftables drop), healed
#     once with the same connection and once after the receiver restarted behind it
#   6 the spool's disk (a 2 MiB tmpfs as state_dir) fills up while the receiver is down
#   7 SIGTERM during a backlog with a slow receiver, then restart: everything arrives
# usage: sh tests/integration/faults.sh BUILD_DIR
# Uses BUILD_DIR/asan/ampstream (ASan+UBSan) except where throughput matters (the restart in 7
# uses BUILD_DIR/ampstream). Scenarios 5 and 6 need root (network namespaces, a tmpfs mount);
# without it 5 falls back to a socat proxy frozen with SIGSTOP and 6 fails with the reason.
# Prints `ok - NAME` / `not ok - NAME: reasons`, `# ` figure lines and a closing
# `N passed, N failed`; exits non-zero if anything failed. One broker for the suite, started with
# consumer_timeout = 5000 ms; RabbitMQ 3.10 evaluates consumer_timeout on each channel's tick
# (channel_tick_interval, 60 s by default: measured 60.0 s until a 5 s timeout fired), so
# scenario 3 sets the tick to 1 s (rabbitmqctl eval) for its daemon's channel.
# Env: KEEP_TMP=1 keeps the temp dir; FAULTS_ONLY="1 5" runs only those scenarios;
# FAULTS_NO_NETNS=1 makes scenario 5 use the socat fallback.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$ROOT/tests/lib
. "$LIB/common.sh"
suite_init faults "$@"
. "$LIB/daemon.sh"
. "$LIB/seqtest.sh"

RESULTS=""
note "faults suite: temp dir $T, daemon $ASAN_BIN"

want() { [ -z "${FAULTS_ONLY:-}" ] || case " $FAULTS_ONLY " in *" $1 "*) ;; *) return 1 ;; esac; }

# --- helpers ------------------------------------------------------------------------------------

# s_begin NAME WORK: t_begin, forget the previous scenario's figures, start its clock (S_T0),
# make its work dir $T/WORK (mkwork: W)
s_begin() { t_begin "$1"; LOST=""; DUPS=""; SEQ_OUT=""; S_NOTE=""; S_T0=$(now_ms); mkwork "$2"; }
# publish_all Q N: declare Q and publish events 1..N
publish_all() {
	$AMQP declare "$BR" "$1" && $AMQP seq "$BR" "$1" "$2" 2>/dev/null || t_fail "publishing $2 events failed"
}
# result NAME EVENTS: the per-scenario figure line (events, lost, duplicates, time since
# s_begin), also collected for the closing table
result() {
	_r="$1: events=$2 lost=${LOST:-?} duplicates=${DUPS:-?} time=$(secs_since "$S_T0")s"
	note "$_r"
	RESULTS="$RESULTS$_r
"
}
# daemon_again [BIN]: keep the previous daemon log as daemon.N.log, start the daemon again on
# the same work dir (state_dir, spool)
daemon_again() {
	_i=1; while [ -f "$W/daemon.$_i.log" ]; do _i=$((_i + 1)); done
	mv "$W/daemon.log" "$W/daemon.$_i.log"
	daemon_start "$W" "${1:-$ASAN_BIN}"
}
# san_check LOG...: no sanitizer report in any of these logs (runs that ended with kill -9)
san_check() {
	for _l in "$@"; do
		if grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$_l"; then
			t_fail "sanitizer report in $(basename "$_l"): $(grep -Em1 'Sanitizer|runtime error' "$_l")"
			return
		fi
	done
	t_pass
}
# resets: channel/connection resets of stream s1 in all of this test's daemon logs
resets() { cat "$W"/daemon*.log 2>/dev/null | grep -c 'stream s1: connection to .* lost'; }
reconnects() { cat "$W"/daemon*.log 2>/dev/null | grep -c 'stream s1: reconnecting'; }
# stable_total Q SECS: wait until ready+unacked of Q has not changed for SECS seconds (max 60 s)
stable_total() {
	_last=-1; _same=0; _i=0
	while [ $_i -lt 60 ]; do
		_c=$(queue_total "$1" 2>/dev/null || echo -1)
		if [ "$_c" = "$_last" ]; then
			_same=$((_same + 1)); [ $_same -ge "$2" ] && return 0
		else _same=0; _last=$_c; fi
		_i=$((_i + 1)); sleep 1
	done
	return 1
}
# acked_le_accepted Q PUBLISHED WHAT [SPOOL_DIR]: at this moment, the events the daemon acked
# (published - ready - unacked) must not outnumber the distinct events the receiver has plus
# the records still in the sink's spool (a count check, cheap enough for a big queue: reading a
# big queue's ids with amqp.py ids requeues them all, which RabbitMQ 3.10 does at ~100 msg/s)
acked_le_accepted() {
	_tot=$(queue_total "$1"); _acked=$(($2 - _tot)); _got=$(frecv_distinct "$W/recv")
	_sp=0
	[ -n "${4:-}" ] && _sp=$("$PY" "$LIB/seqcheck.py" 1 "$2" --spool "$4" /dev/null |
	    sed -n 's/.* spooled=\([0-9]*\).*/\1/p')
	note "$3: published $2, acked $_acked, received $_got, in the spool ${_sp:-?}, held in the queue $_tot"
	if [ "$_acked" -le $((_got + ${_sp:-0})) ]; then t_pass; else
		t_fail "$3: the daemon acked $_acked events but only $_got reached the receiver and ${_sp:-0} are in the spool"
	fi
}
# scenario_end Q N NAME [LOG...]: the common end of a scenario: the queue empties, the
# daemon is alive and exits 0 on SIGTERM without a sanitizer report, the receiver stops, the
# sequence check over 1..N (records left in the spool count as kept), the figure lines; LOGs
# are shown too if the scenario failed. $S_NOTE, if set, is added to the checker's line.
scenario_end() {
	_q=$1; _n=$2; _name=$3; shift 3
	wait_d 20 queue_is "$_q" "0 0"
	daemon_alive_check
	t_eq "queue $_q (ready unacked)" "0 0" "$($AMQP count "$BR" "$_q")"
	daemon_stop 15
	check_daemon_exit
	frecv_stop "$W/recv"
	seq_verdict "$_q" 1 "$_n" --spool "$W/state/spool/siem" "$W/recv/ids"
	note "$SEQ_OUT${S_NOTE:+; $S_NOTE}"
	counters
	result "$_name" "$_n"
	on_fail_show "$DLOG" "$@"
	t_end
}
# scenario_up Q [RECEIVER_OPTIONS...]: declare Q, start the receiver ($RP: its port), write
# the config for it and start the daemon (ASan build)
scenario_up() {
	_q=$1; shift
	$AMQP declare "$BR" "$_q" || t_fail "declaring $_q failed"
	frecv_start "$W/recv" "$@" || t_fail "receiver did not start"
	RP=$FR_PORT
	mkconf "$W" "$_q" "$RP"
	daemon_start "$W"
}
# up_then_down Q N: publish events 1..N with the receiver up, wait for them, stop the receiver
up_then_down() {
	$AMQP seq "$BR" "$1" "$2" 2>/dev/null || t_fail "publishing $2 events failed"
	wait_d 30 frecv_has "$W/recv" "$2" || t_fail "first $2 events did not arrive with the receiver up"
	frecv_stop "$W/recv"
}
# counters: the daemon's last stream and sink counter lines, as figure lines
counters() { grep -E 'stream s1:|sink siem:' "$DLOG" | tail -n 2 | sed 's/^/# /'; }

# --- the broker --------------------------------------------------------------------------------
NAMES="1-kill9-restart 2-broker-restart 3-consumer-timeout 4-receiver-drops 5-partition 6-spool-disk-full 6b-full-spool-gives-back 7-sigterm-backlog"
BROKER_EXTRA_CONF="consumer_timeout = 5000" suite_broker_start
note "broker: consumer_timeout = 5000 (ms)"

# --- 1. kill -9 mid-stream (twice), restart: everything arrives --------------------------------
if want 1; then
s_begin "1-kill9-restart" t1
N=6000
publish_all q1 "$N"
scenario_up q1
for at in 1500 3500; do
	if wait_d 60 frecv_has "$W/recv" "$at"; then
		kill -KILL "$DPID"; wait "$DPID" 2>/dev/null
		note "kill -9 with $(frecv_distinct "$W/recv") of $N events at the receiver, queue (ready unacked) $($AMQP count "$BR" q1)"
	else
		t_fail "$at events did not arrive before the kill: $(frecv_distinct "$W/recv")"
		stop_pid "$DPID" 5 KILL
	fi
	daemon_again
done
wait_d 90 frecv_has "$W/recv" "$N" || t_fail "not all $N events arrived after the restarts: $(frecv_distinct "$W/recv")"
san_check "$W"/daemon.*.log
scenario_end q1 "$N" 1-kill9-restart
fi

# --- 2. broker restart mid-stream ---------------------------------------------------------------
if want 2; then
s_begin "2-broker-restart" t2
N1=6000; N2=2000; N=$((N1 + N2))
publish_all q2 "$N1"
# a receiver slower than the daemon, so the restart hits a stream in progress
scenario_up q2 --rate 2000
wait_d 30 frecv_has "$W/recv" 1000 || t_fail "1000 events did not arrive before the restart"
at=$(frecv_distinct "$W/recv")
t0=$(now_ms)
if sh "$LIB/broker.sh" restart "$BR" > "$W/restart.out" 2>&1; then
	note "broker restart: $(secs_since "$t0") s; $at of $N1 events had arrived when it began"
else
	t_fail "broker restart failed: $(tail -n 3 "$W/restart.out" | tr '\n' '|')"
fi
$AMQP seq "$BR" q2 "$N2" --start $((N1 + 1)) 2>/dev/null || t_fail "publishing after the restart failed"
wait_d 90 frecv_has "$W/recv" "$N" || t_fail "not all $N events arrived: $(frecv_distinct "$W/recv")"
S_NOTE="stream resets $(resets)"
scenario_end q2 "$N" 2-broker-restart
fi

# --- 3. receiver down longer than consumer_timeout, events keep coming --------------------------
if want 3; then
s_begin "3-consumer-timeout" t3
N1=1000; N2=3000; N=$((N1 + N2)); DOWN=20
sh "$LIB/broker.sh" ctl "$BR" eval 'application:set_env(rabbit, channel_tick_interval, 1000).' >/dev/null 2>&1 ||
    t_fail "could not shorten channel_tick_interval"
# how long the broker takes to enforce the timeout (one message, never acked), meanwhile
"$PY" "$LIB/ctprobe.py" "$BR" q3probe 30 > "$W/ctprobe.out" 2>&1 &
PROBE=$!
scenario_up q3
up_then_down q3 "$N1"
tdown=$(now_ms)
# N2 events over about 15 s while the receiver is down
publish_paced q3 $((N1 + 1)) "$N2" 300 1.5 &
PUB=$!
while [ $(( $(now_ms) - tdown )) -lt $((DOWN * 1000)) ]; do sleep 0.5; done
note "receiver down for $(secs_since "$tdown") s: queue (ready unacked) $($AMQP count "$BR" q3), spool $(spool_bytes "$W/state/spool") bytes, stream resets so far $(resets)"
daemon_alive_check
frecv_start "$W/recv" --port "$RP" || t_fail "receiver did not restart on port $RP"
wait "$PUB"
[ -s "$W/publish.err" ] && t_fail "publishing failed: $(head -n 2 "$W/publish.err" | tr '\n' '|')"
t1=$(now_ms)
wait_d 90 frecv_has "$W/recv" "$N" && note "receiver back: all $N events there after $(secs_since "$t1") s"
wait_d 30 queue_is q3 "0 0"
wait "$PROBE"
note "consumer_timeout 5000 with a 1 s channel tick: a never-acked delivery's channel $(cat "$W/ctprobe.out")"
sh "$LIB/broker.sh" ctl "$BR" eval 'application:set_env(rabbit, channel_tick_interval, 60000).' >/dev/null 2>&1
nres=$(resets); nrec=$(reconnects)
bto=$(cat "$BR"/log/*.log 2>/dev/null | grep -c 'delivery acknowledgement on channel .* timed out')
note "stream s1: $nres 'connection ... lost' line(s), $nrec 'reconnecting' line(s); broker log: $bto consumer timeout(s) in total"
cat "$W"/daemon*.log | grep 'stream s1: connection to .* lost' | head -n 3 | sed 's/^/#   /'
if [ "$nres" -le 2 ]; then t_pass; else
	t_fail "channel reset loop: $nres stream resets while the receiver was down $DOWN s (consumer_timeout 5 s)"
fi
scenario_end q3 "$N" 3-consumer-timeout
fi

# --- 4. the receiver drops the connection every 100-400 records ----------------------------------
if want 4; then
s_begin "4-receiver-drops" t4
N=8000
publish_all q4 "$N"
scenario_up q4 --drop 100:400 --reopen 0.2
t0=$(now_ms)
if wait_d 60 frecv_has "$W/recv" "$N"; then
	note "all $N events there after $(secs_since "$t0") s"
else
	t_fail "not all $N events arrived within 60 s: $(frecv_distinct "$W/recv"), after $(grep -c 'dropping after' "$W/recv/log") drops; reconnects at: $(grep 'connected (drop' "$W/recv/log" | cut -d' ' -f1 | tail -n 8 | tr '\n' ' ')"
fi
ndrop=$(grep -c 'dropping after' "$W/recv/log")
t_ge "connection drops by the receiver" 5 "$ndrop"
S_NOTE="$ndrop drops, $(grep -c 'connection to .* lost' "$DLOG") 'lost' lines in the daemon log"
scenario_end q4 "$N" 4-receiver-drops "$W/recv/log"
fi

# --- 5. network partition between daemon and receiver ------------------------------------------
# The receiver runs in a private network namespace behind a veth pair (198.51.100.0/24, TEST-NET-2,
# a random /30); nftables in that namespace drops the receiver's TCP port both ways, so the
# daemon's TCP gets no ACK at all. The tcp sink's spool is off here, so "acked by the daemon"
# must mean "received": at the end of each partition, events acked <= events received.
NS=""
ns_setup() {
	[ -z "${FAULTS_NO_NETNS:-}" ] || return 1
	[ "$(id -u)" = 0 ] && command -v nft >/dev/null 2>&1 || return 1
	NS=ampflt$$; VH=ampf$$h; VN=ampf$$n
	_o=$(( ($$ % 63) * 4 ))
	while ip -4 addr | grep -q "198\.51\.100\.$((_o + 1))/"; do _o=$(( (_o + 4) % 252 )); done
	NS_HOST=198.51.100.$((_o + 1)); NS_ADDR=198.51.100.$((_o + 2))
	ip netns add "$NS" || return 1
	at_exit "ip netns del $NS"
	ip link add "$VH" type veth peer name "$VN" || return 1
	at_exit "ip link del $VH"
	ip link set "$VN" netns "$NS" &&
	ip addr add "$NS_HOST/30" dev "$VH" && ip link set "$VH" up &&
	ip netns exec "$NS" ip addr add "$NS_ADDR/30" dev "$VN" &&
	ip netns exec "$NS" ip link set "$VN" up &&
	ip netns exec "$NS" ip link set lo up &&
	ip netns exec "$NS" nft list ruleset >/dev/null
}
part_on() {
	ip netns exec "$NS" nft -f - <<EOF
table inet ampfault {
	chain in { type filter hook input priority 0; policy accept; tcp dport $1 drop; }
	chain out { type filter hook output priority 0; policy accept; tcp sport $1 drop; }
}
EOF
}
part_off() { ip netns exec "$NS" nft delete table inet ampfault; }
if want 5; then
s_begin "5-partition" t5
N1=2000; N2=2000; N3=2000; N=$((N1 + N2 + N3)); PART=10
$AMQP declare "$BR" q5
if ns_setup; then
	FR_PREFIX="ip netns exec $NS"
	frecv_start "$W/recv" --addr "$NS_ADDR" || t_fail "receiver did not start in $NS"
	FR_PREFIX=""
	RP=$FR_PORT
	SIEM_EXTRA="spool_max_bytes = 0;" mkconf "$W" q5 "$RP"
	sed -i "s|host = \"127.0.0.1\"; port = $RP;|host = \"$NS_ADDR\"; port = $RP;|" "$W/ampstream.conf"
	note "partition: receiver at $NS_ADDR:$RP in netns $NS (veth), daemon at $NS_HOST, nftables drop"
	daemon_start "$W"
	$AMQP seq "$BR" q5 "$N1" 2>/dev/null
	wait_d 30 frecv_has "$W/recv" "$N1" || t_fail "first $N1 events did not arrive before the partition"
	# (a) partition, events keep coming, heal: the same connection recovers
	part_on "$RP" || t_fail "nft partition rule failed"
	tp=$(now_ms)
	$AMQP seq "$BR" q5 "$N2" --start $((N1 + 1)) 2>/dev/null
	while [ $(( $(now_ms) - tp )) -lt $((PART * 1000)) ]; do sleep 0.5; done
	acked_le_accepted q5 $((N1 + N2)) "after $(secs_since "$tp") s of partition (a)"
	part_off
	th=$(now_ms)
	wait_d 60 frecv_has "$W/recv" $((N1 + N2)) && note "healed (a): all $((N1 + N2)) there $(secs_since "$th") s later"
	wait_d 20 queue_is q5 "0 0"
	# (b) partition, the receiver dies and comes back behind it, heal: the old connection is
	# reset (RST), what was sent into it must be sent again
	part_on "$RP" || t_fail "nft partition rule failed"
	tp=$(now_ms)
	$AMQP seq "$BR" q5 "$N3" --start $((N1 + N2 + 1)) 2>/dev/null
	sleep 2
	frecv_kill "$W/recv"
	FR_PREFIX="ip netns exec $NS"
	frecv_start "$W/recv" --addr "$NS_ADDR" --port "$RP" || t_fail "receiver did not restart in $NS"
	FR_PREFIX=""
	while [ $(( $(now_ms) - tp )) -lt $((PART * 1000)) ]; do sleep 0.5; done
	acked_le_accepted q5 "$N" "after $(secs_since "$tp") s of partition (b), receiver restarted"
	part_off
	th=$(now_ms)
	wait_d 90 frecv_has "$W/recv" "$N" && note "healed (b): all $N there $(secs_since "$th") s later"
else
	note "network namespaces/nftables unavailable (not root, or no nft): SIGSTOP-frozen socat proxy instead (its kernel still ACKs until its buffers fill: a stalled peer, not a dead link)"
	frecv_start "$W/recv" || t_fail "receiver did not start"
	PP=$(freeport)
	socat "TCP-LISTEN:$PP,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$FR_PORT" </dev/null >/dev/null 2>&1 &
	SOC=$!
	at_exit "kill -CONT $SOC; kill_if_ours $SOC socat"
	wait_for 5 port_listening "$PP"
	SIEM_EXTRA="spool_max_bytes = 0;" mkconf "$W" q5 "$PP"
	daemon_start "$W"
	$AMQP seq "$BR" q5 "$N1" 2>/dev/null
	wait_d 30 frecv_has "$W/recv" "$N1" || t_fail "first $N1 events did not arrive before the freeze"
	kill -STOP "$SOC"
	# the forked per-connection children too
	for c in $(pgrep -P "$SOC"); do kill -STOP "$c"; done
	tp=$(now_ms)
	$AMQP seq "$BR" q5 $((N2 + N3)) --start $((N1 + 1)) 2>/dev/null
	while [ $(( $(now_ms) - tp )) -lt $((PART * 1000)) ]; do sleep 0.5; done
	note "after $(secs_since "$tp") s frozen: queue (ready unacked) $($AMQP count "$BR" q5), received $(frecv_distinct "$W/recv")"
	for c in $(pgrep -P "$SOC"); do kill -CONT "$c"; done
	kill -CONT "$SOC"
	wait_d 90 frecv_has "$W/recv" "$N"
fi
t_check "the spool should be off here (spool_max_bytes = 0) but $W/state/spool/siem exists" \
    test ! -d "$W/state/spool/siem"
S_NOTE="$(grep -c 'sink siem: connection to .* lost' "$DLOG") sink connection loss(es): $(grep 'sink siem: connection to .* lost' "$DLOG" | head -n 2 | sed 's/.*lost: //' | tr '\n' '|')"
scenario_end q5 "$N" 5-partition "$W/recv/log"
fi

# --- 6. the spool's disk fills up ------------------------------------------------------------------
if want 6; then
s_begin "6-spool-disk-full" t6
N0=200; N=5000; NT=$((N0 + N))
mounted=0
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=2m,mode=0700 ampstream-faults "$W/state"; then
	mounted=1
	at_exit "umount '$W/state'"
else
	t_fail "cannot mount a 2 MiB tmpfs as state_dir (needs root)"
fi
if [ "$mounted" = 1 ]; then
	scenario_up q6
	up_then_down q6 "$N0"
	$AMQP seq "$BR" q6 "$N" --start $((N0 + 1)) 2>/dev/null
	stable_total q6 3 || t_fail "the queue did not settle within 60 s"
	held=$(queue_total q6)
	sp=$(spool_bytes "$W/state/spool/siem")
	used=$(df -k --output=used "$W/state" | tail -n 1 | tr -d ' ')
	note "receiver down, disk full: queue (ready unacked) $($AMQP count "$BR" q6), spool $sp bytes, tmpfs ${used} KiB of 2048 used"
	daemon_alive_check
	t_ge "events held in the queue once the spool's disk is full (consumption stopped)" 1 "$held"
	t_ge "spool bytes on the 2 MiB disk when consumption stopped (the spool took records until the disk was full)" 1048576 "$sp"
	if grep -Eqi 'spool.*(full|no space|cannot write)|no space left|consumption stops' "$DLOG"; then t_pass
		grep -Ei 'spool.*(full|no space|cannot write)|no space left|consumption stops' "$DLOG" | head -n 2 | sed 's/^/#   /'
	else t_fail "the daemon log does not say the spool is full: $(tail -n 2 "$DLOG" | tr '\n' '|')"; fi
	t_eq "records written while the receiver was down" "$N0" "$(frecv_distinct "$W/recv")"
	# space returns: the receiver is back, the spool drains, consumption resumes
	frecv_start "$W/recv" --port "$RP" || t_fail "receiver did not restart on port $RP"
	t1=$(now_ms)
	wait_d 120 frecv_has "$W/recv" "$NT" && note "receiver back: all $NT there after $(secs_since "$t1") s"
	wait_d 30 queue_is q6 "0 0"
	sleep 1
	sp=$(spool_bytes "$W/state/spool/siem")
	note "after the drain: spool $sp bytes ($(ls "$W/state/spool/siem" 2>/dev/null | tr '\n' ' '))"
	t_check "spool files not removed after the drain: $sp bytes left in $W/state/spool/siem" test "$sp" -lt 65536
	scenario_end q6 "$NT" 6-spool-disk-full
else
	result 6-spool-disk-full "$NT"
	t_end
fi
fi

# --- 6b. a spool full for longer than hold_timeout: the messages go back to the queue ------------
# (so the broker's consumer_timeout can never fire on deliveries a full spool holds)
if want 6; then
s_begin "6b-full-spool-gives-back" t6b
N0=200; N=5000; NT=$((N0 + N))
mounted=0
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=2m,mode=0700 ampstream-faults "$W/state"; then
	mounted=1
	at_exit "umount '$W/state'"
else
	t_fail "cannot mount a 2 MiB tmpfs as state_dir (needs root)"
fi
if [ "$mounted" = 1 ]; then
	STREAM_EXTRA="hold_timeout = 2;" scenario_up q6b
	up_then_down q6b "$N0"
	$AMQP seq "$BR" q6b "$N" --start $((N0 + 1)) 2>/dev/null
	wait_d 60 grep -q 'closing the connection so the broker requeues' "$DLOG" ||
	    t_fail "the daemon did not give the held messages back: $(tail -n 2 "$DLOG" | tr '\n' '|')"
	# The stream retries every hold_timeout while the sink stays full, so sample until the
	# moment it holds nothing (without hold_timeout it would hold its prefetch for good).
	wait_for 15 unacked_zero q6b || t_fail "unacked messages never went back to 0 while the spool was full"
	c=$($AMQP count "$BR" q6b)
	note "spool full past hold_timeout: queue (ready unacked) $c"
	t_ge "messages back in the queue" 1 "$(echo "$c" | cut -d' ' -f1)"
	daemon_alive_check
	frecv_start "$W/recv" --port "$RP" || t_fail "receiver did not restart on port $RP"
	t1=$(now_ms)
	wait_d 120 frecv_has "$W/recv" "$NT" && note "receiver back: all $NT there after $(secs_since "$t1") s"
	wait_d 30 queue_is q6b "0 0"
	t_check "the stream resumed" grep -q 'stream s1: resuming' "$DLOG"
	scenario_end q6b "$NT" 6b-full-spool-gives-back
else
	result 6b-full-spool-gives-back "$NT"
	t_end
fi
fi

# --- 7. SIGTERM during a backlog, then restart: everything arrives ------------------------------
if want 7; then
s_begin "7-sigterm-backlog" t7
N=20000
t0=$(now_ms)
publish_all q7 "$N"
note "backlog: $N events published in $(secs_since "$t0") s"
scenario_up q7 --rate 1000 --rcvbuf 16384
wait_d 30 frecv_has "$W/recv" 1000 || t_fail "1000 events did not arrive within 30 s"
daemon_stop 15
note "SIGTERM with a backlog and a slow receiver: exit code $DRC after $DSTOP s, $(frecv_distinct "$W/recv") events received, queue (ready unacked) $($AMQP count "$BR" q7)"
check_daemon_exit
case $DSTOP in [0-9].*|1[0-2].*) t_pass ;; *) t_fail "daemon took $DSTOP s to exit after SIGTERM (at most 10 s for in-flight records)" ;; esac
wait_for 15 unacked_zero q7 || t_fail "messages still unacked after the daemon exited"
# the slow receiver drains what its kernel accepted, then a fast one replaces it
frecv_stop "$W/recv"
acked_le_accepted q7 "$N" "after the exit" "$W/state/spool/siem"
frecv_start "$W/recv" --port "$RP" || t_fail "receiver did not restart on port $RP"
daemon_again "$PLAIN_BIN"
t1=$(now_ms)
wait_d 120 frecv_has "$W/recv" "$N" && note "restart (plain build): all $N there after $(secs_since "$t1") s"
scenario_end q7 "$N" 7-sigterm-backlog
fi

printf '%s' "$RESULTS" | sed 's/^/# summary: /'
note "faults suite: $(secs_since "$SUITE_T0") s"
summary
