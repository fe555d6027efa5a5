#!/bin/sh
# Integration suite for the whole pipeline: a real private RabbitMQ node -> ampstream -> a real
# rsyslog receiver (strict CEF via liblognorm) and a file sink; test 11 puts a hostile fake
# broker (tests/lib/fake-amqp.py) in front of the daemon instead.
# usage: sh tests/integration/pipeline.sh BUILD_DIR
# Uses BUILD_DIR/asan/ampstream (ASan+UBSan) except tests 8 (valgrind) and 9 (throughput), which
# use the plain BUILD_DIR/ampstream.
# Prints `ok - NAME` / `not ok - NAME: reason` per test, measured figures as `# ` lines, and a
# closing `N passed, N failed`; exits non-zero if anything failed. One broker for the suite
# (about 8 s to start); every test has its own queue, receiver, state dir and temp files.
# Env: KEEP_TMP=1 keeps the temp dir; PIPELINE_ONLY="2 5" runs only those tests.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$ROOT/tests/lib
. "$LIB/common.sh"
suite_init pipeline "$@"
FIX=$ROOT/tests/fixtures/events/all.jsonl

note "pipeline suite: temp dir $T, daemon $ASAN_BIN"

want() { [ -z "${PIPELINE_ONLY:-}" ] || case " $PIPELINE_ONLY " in *" $1 "*) ;; *) return 1 ;; esac; }

# --- helpers ------------------------------------------------------------------------------

# analyze MODE ARGS...: small Python checks over the JSON files (ids are read as exact digit
# strings: json with parse_int=str, never floats).
analyze() {
	"$PY" - "$@" <<'PYEOF'
import base64, json, sys
mode, args = sys.argv[1], sys.argv[2:]
def lines(path):
    try:
        with open(path, "rb") as f:
            return [l for l in f.read().split(b"\n") if l.strip()]
    except FileNotFoundError:
        return []
def load(l):
    return json.loads(l, parse_int=str)
if mode == "fixture-tuples":           # id TAB event_type_id TAB event_type per event
    for l in lines(args[0]):
        e = load(l)
        print("%s\t%s\t%s" % (e["id"], e["event_type_id"], e["event_type"]))
elif mode == "recv-tuples":            # externalId TAB SignatureID TAB Name per CEF record
    for l in lines(args[0]):
        try:
            r = load(l)
            p = r["parsed"]; peer = p.get("peer", {})
            if peer.get("parsed_as") != "cef" or peer.get("parsesuccess") != "OK":
                print("!not parsed as CEF: %s" % r.get("msg", "")[:300]); continue
            c = p["cef"]; x = c["Extensions"]
            print("%s\t%s\t%s" % (x.get("externalId", "-"), c["SignatureID"], c["Name"]))
        except Exception as ex:
            print("!bad receiver line (%r): %r" % (ex, l[:200]))
elif mode == "recv-ids":               # externalId per CEF record ("!..." for a bad record)
    for l in lines(args[0]):
        try:
            r = load(l); p = r["parsed"]
            if p.get("peer", {}).get("parsesuccess") != "OK" or "cef" not in p:
                print("!not parsed as CEF: %s" % r.get("msg", "")[:300]); continue
            print(p["cef"]["Extensions"].get("externalId", "!no externalId"))
        except Exception as ex:
            print("!bad receiver line (%r)" % (ex,))
elif mode == "sink-ids":               # id per JSON line of the file sink; "!..." on mismatch
    for l in lines(args[0]):
        try:
            e = load(l)
        except ValueError as ex:
            print("!not JSON: %r" % l[:200]); continue
        a = e.get("ampstream") if isinstance(e, dict) else None
        if not isinstance(a, dict) or a.get("id_str") != e.get("id"):
            print("!id_str %r != id %r" % (a.get("id_str") if isinstance(a, dict) else None, e.get("id")))
            continue
        print(e["id"])
elif mode == "deadletter":             # FILE then expected bodies, base64-encoded
    want = sorted(base64.b64decode(a) for a in args[1:])
    got, bad = [], []
    for l in lines(args[0]):
        try:
            d = json.loads(l)
        except ValueError:
            bad.append("dead letter line is not JSON: %r" % l[:100]); continue
        for k in ("stream", "received_at", "reason"):
            if k not in d:
                bad.append("dead letter without %s: %r" % (k, l[:100]))
        if d.get("stream") != "s1":
            bad.append("stream %r" % d.get("stream"))
        if not isinstance(d.get("reason"), str) or not d.get("reason"):
            bad.append("empty reason")
        if "body_base64" in d:
            b = base64.b64decode(d["body_base64"])
        elif isinstance(d.get("body"), str):
            b = d["body"].encode("utf-8")
        else:
            bad.append("neither body nor body_base64: %r" % l[:100]); continue
        try:
            b.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError:
            utf8 = False
        if not utf8 and "body_base64" not in d:
            bad.append("non-UTF-8 body not in body_base64")
        got.append(b)
        print("# dead letter: reason=%r body=%r" % (d.get("reason"), b[:60]))
    if sorted(got) != want:
        bad.append("dead-lettered bodies %r != expected %r" % (sorted(got), want))
    for b in bad:
        print("!" + b)
else:
    sys.exit("analyze: unknown mode " + mode)
PYEOF
}

. "$LIB/daemon.sh"
# This suite checks the delivery contract without the disk spool (issue 3): a record counts as
# accepted only once the receiver's TCP acknowledged it. tests/integration/faults.sh covers the
# spool.
SIEM_EXTRA="spool_max_bytes = 0;"

# --- start the suite's broker --------------------------------------------------------------
NAMES="1-check-config 2-fixtures-to-rsyslog 3-receiver-down-holds-acks 4-dead-letters \
5-broker-restart 6-amqps 7-sigterm-backlog 8-valgrind 9-throughput-plain 10-sighup-reload \
11-hostile-close-text 12-file-rotation 13-differential-reload 14-reload-fallback"

if [ ! -x "$ASAN_BIN" ] || [ ! -x "$PLAIN_BIN" ]; then
	t_fail_all "daemon binary missing ($ASAN_BIN, $PLAIN_BIN)" $NAMES
	summary; exit 1
fi
suite_broker_start --tls

# --- 1. config check -------------------------------------------------------------------------
if want 1; then
t_begin "1-check-config"
mkwork t1
mkconf "$W" q1 5514
out=$("$ASAN_BIN" -n -c "$W/ampstream.conf" 2>&1); rc=$?
t_eq "-n on a good config: exit" 0 "$rc"
t_check "-n on a good config prints 'configuration OK' (got: $(echo "$out" | head -3 | tr '\n' '|'))" \
    sh -c 'echo "$1" | grep -q "configuration OK"' _ "$out"
# bad 1: unknown key (a typo); bad 2: a missing required key; bad 3: a world-readable secret
sed 's/prefetch = 200;/prefetchh = 200;/' "$W/ampstream.conf" > "$W/bad1.conf"
sed 's/queue = "q1";//' "$W/ampstream.conf" > "$W/bad2.conf"
cp "$W/api_key" "$W/loose_key"; chmod 0644 "$W/loose_key"
sed "s|$W/api_key|$W/loose_key|" "$W/ampstream.conf" > "$W/bad3.conf"
chmod 0600 "$W"/bad*.conf
for b in bad1 bad2 bad3; do
	out=$("$ASAN_BIN" -n -c "$W/$b.conf" 2>&1); rc=$?
	t_eq "-n on $b.conf: exit" 1 "$rc"
	case $b in
	bad1) re="$b\\.conf:[0-9]+: [^ ]*prefetchh[^ ]*:" ;;
	bad2) re="$b\\.conf:[0-9]+: [^ ]*queue:" ;;
	bad3) re="loose_key" ;;
	esac
	t_check "-n on $b.conf: no '$re' in: $(echo "$out" | head -3 | tr '\n' '|')" \
	    sh -c 'echo "$1" | grep -Eq "$2"' _ "$out" "$re"
	echo "$out" | head -2 | sed "s/^/# $b: /"
done
t_end
fi

# --- 2. every fixture event reaches rsyslog as strict CEF, and the file sink as JSON ------------
if want 2; then
t_begin "2-fixtures-to-rsyslog"
mkwork t2
$AMQP declare "$BR" q2 && $AMQP publish "$BR" q2 "$FIX" 2>/dev/null
receiver_start "$W" || t_fail "receiver did not start"
mkconf "$W" q2 "$RPORT"
daemon_start "$W"
wait_d 30 recv_ge "$W/recv" 22 &&
    note "fixtures: 22 events at the receiver after $(secs_since "$DSTART") s (ASan build, incl. startup)"
wait_d 20 queue_is q2 "0 0"
settle "$W/recv/parsed.jsonl"
daemon_alive_check
analyze fixture-tuples "$FIX" | sort > "$W/want.tsv"
analyze recv-tuples "$W/recv/parsed.jsonl" | sort > "$W/got.tsv"
t_eq "records at the receiver" 22 "$(nlines "$W/recv/parsed.jsonl")"
nbad=$(grep -c '^!' "$W/got.tsv")
t_eq "records not parsed as strict CEF" 0 "$nbad"
[ "$nbad" -gt 0 ] && grep '^!' "$W/got.tsv" | head -3 | sed 's/^/# /'
cut -f1 "$W/want.tsv" | sort -u > "$W/want.ids"
grep -v '^!' "$W/got.tsv" | cut -f1 | sort -u > "$W/got.ids"
t_check "set of externalId != set of fixture ids: missing [$(comm -23 "$W/want.ids" "$W/got.ids" | tr '\n' ' ')] unexpected [$(comm -13 "$W/want.ids" "$W/got.ids" | tr '\n' ' ')]" \
    cmp -s "$W/want.ids" "$W/got.ids"
t_check "(externalId, SignatureID=event_type_id, Name=event_type) per record differ from the fixtures: $(diff "$W/want.tsv" "$W/got.tsv" | grep '^[<>]' | head -2 | tr '\n' '|')" \
    cmp -s "$W/want.tsv" "$W/got.tsv"
analyze sink-ids "$W/events.jsonl" | sort > "$W/sink.ids"
t_eq "JSON lines in the file sink" 22 "$(nlines "$W/events.jsonl")"
t_check "file sink ids (exact, with ampstream.id_str) differ from the fixture ids: $(grep '^!' "$W/sink.ids" | head -2 | tr '\n' '|')" \
    sh -c 'cut -f1 "$1" | sort | cmp -s - "$2"' _ "$W/want.tsv" "$W/sink.ids"
t_eq "queue q2 (ready unacked)" "0 0" "$($AMQP count "$BR" q2)"
daemon_stop 15
check_daemon_exit
t_check "counter line 'stream s1: delivered=22 acked=22' (got '$(counter 'stream s1:.*')')" \
    grep -Eq 'stream s1: delivered=22 acked=22 redelivered=[0-9]+ deadlettered=0' "$DLOG"
t_check "counter line 'sink siem: sent=22 failed=0' (got '$(counter 'sink siem:.*')')" \
    grep -Eq 'sink siem: sent=22 failed=0' "$DLOG"
note "daemon stop: ${DSTOP} s"
on_fail_show "$DLOG" "$W/recv/rsyslogd.log"
receiver_stop "$W"
t_end
fi

# --- 3. receiver down: nothing is acknowledged; back up: everything arrives ----------------------
if want 3; then
t_begin "3-receiver-down-holds-acks"
mkwork t3
M=300
$AMQP declare "$BR" q3
receiver_start "$W" || t_fail "receiver did not start"
mkconf "$W" q3 "$RPORT"
daemon_start "$W"
$AMQP seq "$BR" q3 5 --start 1 2>/dev/null
wait_d 30 recv_ge "$W/recv" 5 || t_fail "first 5 events did not arrive with the receiver up"
wait_d 10 queue_is q3 "0 0"
settle "$W/recv/parsed.jsonl"
receiver_stop "$W"
before=$(nlines "$W/recv/parsed.jsonl")
t0=$(now_ms)
$AMQP seq "$BR" q3 "$M" --start 6 2>/dev/null
sleep 5
held=$(queue_total q3)
t_eq "messages held in the queue (ready+unacked) $(secs_since "$t0") s after publishing with the receiver down" "$M" "$held"
t_eq "records written while the receiver was down" "$before" "$(nlines "$W/recv/parsed.jsonl")"
daemon_alive_check
t1=$(now_ms)
receiver_start "$W" "$RPORT" || t_fail "receiver did not restart on port $RPORT"
wait_d 60 recv_ge "$W/recv" $((M + 5)) &&
    note "receiver back: $M held events arrived in $(secs_since "$t1") s"
wait_d 20 queue_is q3 "0 0"
settle "$W/recv/parsed.jsonl"
analyze recv-ids "$W/recv/parsed.jsonl" > "$W/got.ids"
t_eq "bad records" 0 "$(grep -c '^!' "$W/got.ids")"
t_eq "ids 1..$((M + 5)) missing at the receiver" 0 "$(missing_seq "$W/got.ids" 1 $((M + 5)))"
note "receiver down/up: $(nlines "$W/got.ids") records for $((M + 5)) events, $(extra_dups "$W/got.ids") duplicate(s)"
t_eq "queue q3 (ready unacked)" "0 0" "$($AMQP count "$BR" q3)"
daemon_stop 15
check_daemon_exit
on_fail_show "$DLOG" "$W/recv/rsyslogd.log"
receiver_stop "$W"
t_end
fi

# --- 4. malformed messages go to the dead-letter file; the stream goes on -------------------------
if want 4; then
t_begin "4-dead-letters"
mkwork t4
$AMQP declare "$BR" q4
# not JSON; a JSON array; an object without event_type; bytes that are not UTF-8 at all; a JSON
# object with an invalid UTF-8 byte inside a string (RFC 8259: JSON text MUST be UTF-8)
b1='this is not JSON'
b2='[{"id":1,"event_type":"Threat Detected"}]'
b3='{"id":4242,"date":"2021-01-14T10:06:39+00:00","detection":"x"}'
b4=$(printf '\377\376\375 binary \001\002')
b5=$(printf '{"id":4343,"event_type":"Threat Detected","event_type_id":1090519054,"detection":"bad \377 byte"}')
$AMQP publish-body "$BR" q4 "$b1" "$b2" "$b3" "$b4" "$b5" 2>/dev/null
$AMQP seq "$BR" q4 20 --start 1 2>/dev/null
receiver_start "$W" || t_fail "receiver did not start"
mkconf "$W" q4 "$RPORT"
daemon_start "$W"
wait_d 30 recv_ge "$W/recv" 20
wait_d 20 queue_is q4 "0 0"
settle "$W/recv/parsed.jsonl"
daemon_alive_check
analyze recv-ids "$W/recv/parsed.jsonl" > "$W/got.ids"
t_eq "good events after the bad ones missing at the receiver" 0 "$(missing_seq "$W/got.ids" 1 20)"
t_eq "records at the receiver that are not the 20 good events" 0 \
    "$(sort -u "$W/got.ids" | grep -cvxE '[0-9]|1[0-9]|20')"
DL=$W/state/deadletter/s1.jsonl
t_eq "dead letters in $DL" 5 "$(nlines "$DL")"
enc() { printf '%s' "$1" | base64 -w0; }
analyze deadletter "$DL" "$(enc "$b1")" "$(enc "$b2")" "$(enc "$b3")" "$(enc "$b4")" "$(enc "$b5")" > "$W/dl.out"
grep '^#' "$W/dl.out"
t_check "dead-letter file: $(grep '^!' "$W/dl.out" | head -3 | tr '\n' '|')" \
    sh -c '! grep -q "^!" "$1"' _ "$W/dl.out"
t_eq "queue q4 (ready unacked)" "0 0" "$($AMQP count "$BR" q4)"
daemon_stop 15
check_daemon_exit
t_check "counter line with deadlettered=5 (got '$(counter 'stream s1:.*')')" \
    grep -Eq 'stream s1: .*deadlettered=5' "$DLOG"
on_fail_show "$DLOG"
receiver_stop "$W"
t_end
fi

# --- 5. broker restarted mid-stream: the daemon reconnects, nothing is lost -----------------------
if want 5; then
t_begin "5-broker-restart"
mkwork t5
N=2000
$AMQP declare "$BR" q5
receiver_start "$W" || t_fail "receiver did not start"
mkconf "$W" q5 "$RPORT"
daemon_start "$W"
$AMQP seq "$BR" q5 "$N" --start 1 2>/dev/null
at_restart=$(nlines "$W/recv/parsed.jsonl")
t0=$(now_ms)
if sh "$LIB/broker.sh" restart "$BR" > "$W/restart.out" 2>&1; then
	note "broker restart (stop+start): $(secs_since "$t0") s; $at_restart of $N events had arrived when it began"
else
	t_fail "broker restart failed: $(tail -n 3 "$W/restart.out" | tr '\n' '|')"
fi
$AMQP seq "$BR" q5 "$N" --start $((N + 1)) 2>/dev/null || t_fail "publish after the restart failed"
t1=$(now_ms)
if wait_d 90 recv_ge "$W/recv" $((2 * N)); then
	note "after the restart: $((2 * N)) records at the receiver $(secs_since "$t1") s after the second publish"
fi
wait_d 30 queue_is q5 "0 0"
settle "$W/recv/parsed.jsonl"
daemon_alive_check
analyze recv-ids "$W/recv/parsed.jsonl" > "$W/got.ids"
t_eq "bad records" 0 "$(grep -c '^!' "$W/got.ids")"
t_eq "ids 1..$((2 * N)) missing at the receiver" 0 "$(missing_seq "$W/got.ids" 1 $((2 * N)))"
note "broker restart: $(nlines "$W/got.ids") records for $((2 * N)) events, $(extra_dups "$W/got.ids") duplicate(s)"
t_eq "queue q5 (ready unacked)" "0 0" "$($AMQP count "$BR" q5)"
daemon_stop 15
check_daemon_exit
grep -E 'stream s1:' "$DLOG" | tail -n 1 | sed 's/^/# /'
on_fail_show "$DLOG"
receiver_stop "$W"
t_end
fi

# --- 6. AMQPS: the test CA works; an unrelated CA is refused ----------------------------------------
if want 6; then
t_begin "6-amqps"
mkwork t6
$AMQP declare "$BR" q6 && $AMQP publish "$BR" q6 "$FIX" 2>/dev/null
receiver_start "$W" || t_fail "receiver did not start"
mkconf "$W" q6 "$RPORT" "amqps://localhost:$BROKER_TLS_PORT/" "$BROKER_CA"
daemon_start "$W"
wait_d 30 recv_ge "$W/recv" 22
wait_d 20 queue_is q6 "0 0"
settle "$W/recv/parsed.jsonl"
daemon_alive_check
analyze recv-ids "$W/recv/parsed.jsonl" > "$W/got.ids"
t_eq "records over AMQPS with the test CA" 22 "$(grep -cv '^!' "$W/got.ids")"
t_eq "queue q6 (ready unacked)" "0 0" "$($AMQP count "$BR" q6)"
daemon_stop 15
check_daemon_exit
on_fail_show "$DLOG"
# the same broker, but the daemon trusts only an unrelated CA
mkwork t6w
$AMQP declare "$BR" q6w && $AMQP seq "$BR" q6w 10 2>/dev/null
receiver_stop "$T/t6"
receiver_start "$W" || t_fail "receiver did not start"
mkconf "$W" q6w "$RPORT" "amqps://localhost:$BROKER_TLS_PORT/" "$BROKER_WRONG_CA"
daemon_start "$W"
sleep 5
daemon_alive_check
t_eq "queue q6w with the wrong CA (ready unacked)" "10 0" "$($AMQP count "$BR" q6w)"
t_eq "records at the receiver with the wrong CA" 0 "$(nlines "$W/recv/parsed.jsonl")"
daemon_stop 15
check_daemon_exit
t_check "daemon log says why the broker was refused (certificate/verify): $(tail -n 3 "$DLOG" | tr '\n' '|')" \
    grep -Eqi 'certificate|verif' "$DLOG"
grep -Eim1 'certificate|verif' "$DLOG" | sed 's/^/# wrong CA: /'
t_eq "queue q6w after the daemon stopped" "10 0" "$($AMQP count "$BR" q6w)"
on_fail_show "$DLOG"
receiver_stop "$W"
t_end
fi

# --- 7. SIGTERM during a backlog: exit 0 in time, nothing lost --------------------------------------
if want 7; then
t_begin "7-sigterm-backlog"
mkwork t7
N=5000
$AMQP declare "$BR" q7 && $AMQP seq "$BR" q7 "$N" 2>/dev/null
receiver_start "$W" || t_fail "receiver did not start"
mkconf "$W" q7 "$RPORT"
daemon_start "$W"
wait_d 20 recv_ge "$W/recv" 1 || t_fail "nothing arrived within 20 s"
tf=$(now_ms)
wait_d 30 recv_ge "$W/recv" 2000 || t_fail "2000 records did not arrive within 30 s"
n1=$(nlines "$W/recv/parsed.jsonl"); dt=$(( $(now_ms) - tf ))
[ "$dt" -gt 0 ] && note "throughput (ASan build, broker+rsyslog on the same 2 cores): $((n1 - 1)) records in $dt ms = $(( (n1 - 1) * 1000 / dt )) ev/s"
daemon_stop 15
note "SIGTERM with a backlog: exit code $DRC after $DSTOP s"
check_daemon_exit
settle "$W/recv/parsed.jsonl"
wait_for 15 unacked_zero q7
left=$(queue_total q7)
analyze recv-ids "$W/recv/parsed.jsonl" > "$W/got.ids"
$AMQP ids "$BR" q7 > "$W/left.ids"
t_eq "bad records" 0 "$(grep -c '^!' "$W/got.ids")"
t_eq "messages left in the queue vs ids read back" "$left" "$(nlines "$W/left.ids")"
cat "$W/got.ids" "$W/left.ids" > "$W/all.ids"
t_eq "ids 1..$N neither at the receiver nor in the queue (lost)" 0 "$(missing_seq "$W/all.ids" 1 "$N")"
note "SIGTERM backlog: $(nlines "$W/got.ids") records received ($(sort -u "$W/got.ids" | wc -l) distinct), $left left in the queue, $(extra_dups "$W/got.ids") duplicate(s) at the receiver, $(comm -12 "$(sorted "$W/got.ids")" "$(sorted "$W/left.ids")" | wc -l) both received and still queued"
grep -E 'stream s1:|sink siem:' "$DLOG" | tail -n 2 | sed 's/^/# /'
on_fail_show "$DLOG"
receiver_stop "$W"
t_end
fi

# --- 8. valgrind: the plain binary, no leaks, no errors ---------------------------------------------
if want 8; then
t_begin "8-valgrind"
mkwork t8
$AMQP declare "$BR" q8 && $AMQP publish "$BR" q8 "$FIX" 2>/dev/null
receiver_start "$W" || t_fail "receiver did not start"
mkconf "$W" q8 "$RPORT"
daemon_start "$W" "$PLAIN_BIN" env -u ASAN_OPTIONS -u UBSAN_OPTIONS valgrind \
    --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    --log-file="$W/valgrind.log"
wait_d 90 recv_ge "$W/recv" 22 && note "valgrind: 22 events through in $(secs_since "$DSTART") s"
wait_d 30 queue_is q8 "0 0"
daemon_alive_check
t_eq "records at the receiver under valgrind" 22 "$(nlines "$W/recv/parsed.jsonl")"
t_eq "queue q8 (ready unacked)" "0 0" "$($AMQP count "$BR" q8)"
daemon_stop 60
t_eq "exit code under valgrind (99 = valgrind found errors)" 0 "$DRC"
VG=$W/valgrind.log
grep -E 'definitely lost|indirectly lost|All heap blocks|ERROR SUMMARY' "$VG" | sed 's/^==[0-9]*== */# valgrind: /'
t_check "valgrind: no 'ERROR SUMMARY: 0 errors' line" grep -q 'ERROR SUMMARY: 0 errors' "$VG"
t_check "valgrind: leaks: $(grep -E 'definitely lost|indirectly lost' "$VG" | tr '\n' '|')" \
    sh -c '! grep -Eq "(definitely|indirectly) lost: [1-9]" "$1" &&
        grep -Eq "definitely lost: 0 bytes|All heap blocks were freed" "$1"' _ "$VG"
t_check "valgrind: invalid accesses or uninitialised values reported" \
    sh -c '! grep -Eq "Invalid (read|write|free)|uninitialised|Mismatched free" "$1"' _ "$VG"
note "valgrind: stop took $DSTOP s"
on_fail_show "$DLOG" "$W/valgrind.log"
receiver_stop "$W"
t_end
fi

# --- 9. throughput with the plain (optimized, unsanitized) build: a quotable figure ----------------
if want 9; then
t_begin "9-throughput-plain"
mkwork t9
N=20000
t0=$(now_ms)
$AMQP declare "$BR" q9 && $AMQP seq "$BR" q9 "$N" 2>/dev/null
note "publish: $N persistent messages with confirms in $(secs_since "$t0") s (pika)"
receiver_start "$W" || t_fail "receiver did not start"
mkconf "$W" q9 "$RPORT"
daemon_start "$W" "$PLAIN_BIN"
if wait_d 120 recv_ge "$W/recv" "$N"; then
	dt=$(( $(now_ms) - DSTART ))
	note "pipeline (plain build, prefetch 200, tcp CEF + fsync'd file sink, broker+rsyslog on the same cores): $N events in $((dt / 1000)).$(( (dt % 1000) / 100)) s = $(( N * 1000 / dt )) ev/s (incl. daemon startup)"
fi
wait_d 30 queue_is q9 "0 0"
settle "$W/recv/parsed.jsonl"
daemon_alive_check
analyze recv-ids "$W/recv/parsed.jsonl" > "$W/got.ids"
t_eq "ids 1..$N missing at the receiver" 0 "$(missing_seq "$W/got.ids" 1 "$N")"
t_eq "queue q9 (ready unacked)" "0 0" "$($AMQP count "$BR" q9)"
daemon_stop 15
t_eq "daemon exit code after SIGTERM" 0 "$DRC"
on_fail_show "$DLOG"
receiver_stop "$W"
t_end
fi

# --- 10. SIGHUP: a bad config is refused and the old one runs on; a good one is applied ---------
if want 10; then
t_begin "10-sighup-reload"
mkwork t10
receiver_start "$W" || t_fail "receiver did not start"
$AMQP declare "$BR" q10 >/dev/null
mkconf "$W" q10 "$RPORT"
cp "$W/ampstream.conf" "$W/good.conf"
daemon_start "$W"
$AMQP seq "$BR" q10 50 --start 1 >/dev/null 2>&1
wait_d 20 recv_ge "$W/recv" 50
# a typo: the reload must be refused, with the error logged, and the daemon go on
sed 's/prefetch = 200;/prefetchh = 200;/' "$W/good.conf" > "$W/ampstream.conf"
kill -HUP "$DPID"; sleep 1.5
t_check "bad reload: the error is logged with file:line: key" \
    grep -Eq 'reload: .*ampstream\.conf:[0-9]+: streams\.\[0\]\.prefetchh' "$DLOG"
t_check "bad reload: the running configuration is kept" grep -q 'keeping the running one' "$DLOG"
$AMQP seq "$BR" q10 50 --start 51 >/dev/null 2>&1
wait_d 20 recv_ge "$W/recv" 100
t_ge "records after a refused reload" 100 "$(nlines "$W/recv/parsed.jsonl")"
# a good change: the file sink moves to another path
sed "s|$W/events.jsonl|$W/events2.jsonl|" "$W/good.conf" > "$W/ampstream.conf"
kill -HUP "$DPID"
wait_d 20 grep -q 'configuration reloaded' "$DLOG"
$AMQP seq "$BR" q10 50 --start 101 >/dev/null 2>&1
wait_d 20 recv_ge "$W/recv" 150
wait_d 20 queue_is q10 "0 0"
t_eq "records in the new file sink after the reload" 50 "$(nlines "$W/events2.jsonl")"
t_eq "records in the old file sink" 100 "$(nlines "$W/events.jsonl")"
daemon_alive_check
daemon_stop; check_daemon_exit
on_fail_show "$DLOG"
t_end
fi

# --- 11. a hostile broker's close text is logged escaped: no forged journal line ---------------
# tests/lib/fake-amqp.py answers the handshake and closes with "x\n<3>forged ..." (a newline
# and an sd-daemon priority, C1, invalid UTF-8, a terminal escape): at login, and once consuming.
if want 11; then
t_begin "11-hostile-close-text"
mkwork t11
for mode in login consume; do
	rm -f "$W/fake.port"
	"$PY" "$LIB/fake-amqp.py" "$W/fake.port" "$mode" 'x\n<3>forged \xc2\x85 \xff \x1b[31m' \
	    </dev/null >"$W/fake-$mode.log" 2>&1 &
	FPID=$!
	at_exit "kill_if_ours $FPID fake-amqp"
	wait_for 10 test -s "$W/fake.port" || t_fail "$mode: fake-amqp.py did not start"
	mkconf "$W" q11 "$(freeport)" "amqp://127.0.0.1:$(cat "$W/fake.port")/"
	daemon_start "$W"
	wait_d 15 grep -q 'broker closed the connection' "$DLOG"
	sleep 1
	daemon_stop; check_daemon_exit
	stop_pid "$FPID" 5
	cp "$DLOG" "$W/daemon-$mode.log"
	case $mode in
	login) where='login to 127\.0\.0\.1:[0-9]* as [^ ]* failed' ;;
	consume) where='connection to 127\.0\.0\.1:[0-9]* lost' ;;
	esac
	t_check "$mode: the close text escaped in '$where: broker closed the connection: 320 ...' (log: $(grep -m1 'closed the connection' "$DLOG"))" \
	    grep -Eq "$where: broker closed the connection: 320 x\\\\x0a<3>forged \\\\xc2\\\\x85 \\\\xff \\\\x1b\\[31m\$" "$DLOG"
	t_eq "$mode: log lines starting with the forged '<3>forged'" 0 "$(grep -c '^<3>forged' "$DLOG")"
	t_eq "$mode: raw ESC bytes in the log" 0 "$(grep -c "$(printf '\033')" "$DLOG")"
	grep -m1 'closed the connection' "$DLOG" | sed "s/^/# $mode: /"
done
on_fail_show "$W/daemon-login.log" "$W/daemon-consume.log"
t_end
fi

# --- 12. a file sink rotates by size under load, reopens on SIGUSR1, rotates by age: none lost -
if want 12; then
t_begin "12-file-rotation"
mkwork t12
receiver_start "$W" || t_fail "receiver did not start"
$AMQP declare "$BR" q12 >/dev/null
FILE_EXTRA="rotate_bytes = 65536; rotate_age = 4; rotate_keep = 1000;" mkconf "$W" q12 "$RPORT"
daemon_start "$W"
$AMQP seq "$BR" q12 3000 --start 1 >/dev/null 2>&1
wait_d 60 queue_is q12 "0 0"
nrot=$(ls "$W"/events.jsonl.* 2>/dev/null | wc -l)
note "3000 events: $nrot rotations of the file sink at 64 KiB"
t_check "the file sink rotated under load ($nrot files)" [ "$nrot" -ge 5 ]
# logrotate with "create": the file is moved away, SIGUSR1 makes the daemon open a new one
mv "$W/events.jsonl" "$W/moved.jsonl"
kill -USR1 "$DPID"
wait_d 10 grep -q 'reopening files' "$DLOG" || t_fail "no reopen logged after SIGUSR1"
$AMQP seq "$BR" q12 500 --start 3001 >/dev/null 2>&1
wait_d 30 queue_is q12 "0 0"
late=$("$PY" -c '
import json, sys
print(sum(1 for l in open(sys.argv[1], "rb") if l.strip() and json.loads(l)["id"] > 3000))' \
    "$W/moved.jsonl")
t_eq "events after SIGUSR1 written to the moved-away file" 0 "$late"
got=$("$PY" -c '
import glob, json, sys
ids = []
for f in glob.glob(sys.argv[1] + "/events.jsonl*") + [sys.argv[1] + "/moved.jsonl"]:
    for l in open(f, "rb"):
        if l.strip():
            ids.append(json.loads(l)["id"])
want = set(range(1, 3501))
print("%d missing %d duplicates %d" % (len(ids), len(want - set(ids)), len(ids) - len(set(ids))))' "$W")
note "file sink across rotations and a reopen: $got"
t_eq "every event in the rotated files, once" "3500 missing 0 duplicates 0" "$got"
# rotate_age = 4: 10 more records, then no traffic: the file rotates by age (and ends up
# empty), then, empty, stays
nfiles() { ls "$W"/events.jsonl.* 2>/dev/null | wc -l; }
nrot=$(nfiles)
$AMQP seq "$BR" q12 10 --start 3501 >/dev/null 2>&1
wait_d 15 sh -c '[ "$(ls "$1"/events.jsonl.* | wc -l)" -gt "$2" ] && [ ! -s "$1/events.jsonl" ]' \
    _ "$W" "$nrot" || t_fail "no rotation by age to an empty file within 15 s of the last records"
t_eq "records 3501..3510 in the rotated files" 10 "$(cat "$W"/events.jsonl.* | grep -Ec '"id":(350[1-9]|3510),')"
nrot=$(nfiles)
sleep 5
t_eq "rotated files after 5 more s with the file empty" "$nrot" "$(nfiles)"
daemon_alive_check
daemon_stop; check_daemon_exit
on_fail_show "$DLOG"
t_end
fi

# --- 13. a reload under load changes only what changed: nothing lost, kept parts keep going ----
# Two streams (a -> siem + archive, b -> siem) take events while two reloads happen: the first
# changes nothing, the second moves the file sink, removes stream b and adds stream c.  Stream a
# must stay on its one connection with its counters, and no event may be lost or doubled.
if want 13; then
t_begin "13-differential-reload"
mkwork t13
receiver_start "$W" || t_fail "receiver did not start"
for q in q13a q13b q13c; do $AMQP declare "$BR" $q >/dev/null; done
conf13() {    # conf13 ARCHIVE_PATH STREAMS...: a config with the named streams (a, b, c)
	_arch=$1; shift
	{
		printf 'state_dir = "%s/state";\nlog_level = "info";\nstreams = (\n' "$W"
		_sep=""
		for _s in "$@"; do
			case $_s in a) _sk='"siem", "archive"' ;; *) _sk='"siem"' ;; esac
			printf '%s  { name = "%s"; url = "amqp://127.0.0.1:%s/"; user = "%s";\n' \
			    "$_sep" "$_s" "$BROKER_PORT" "$BROKER_USER"
			printf '    password_file = "%s"; queue = "q13%s"; sinks = [ %s ]; }\n' \
			    "$BROKER_PASSWORD_FILE" "$_s" "$_sk"
			_sep=","
		done
		printf ');\nsinks = (\n'
		printf '  { name = "siem"; type = "tcp"; host = "127.0.0.1"; port = %s; format = "cef"; },\n' "$RPORT"
		printf '  { name = "archive"; type = "file"; path = "%s"; format = "json"; }\n);\n' "$_arch"
	} > "$W/ampstream.conf"
	chmod 0600 "$W/ampstream.conf"
}
conf13 "$W/events.jsonl" a b
daemon_start "$W"
wait_d 20 sh -c 'grep -q "stream a: consuming" "$1" && grep -q "stream b: consuming" "$1"' _ "$DLOG" ||
    t_fail "streams a and b not consuming within 20 s"
# a: ids 1..4000, b: 100001..102000, c: 200001..200300, published in chunks while reloading
(
	for k in 0 1 2 3 4 5 6 7; do
		$AMQP seq "$BR" q13a 500 --start $((k * 500 + 1)) >/dev/null 2>&1
		[ $k -lt 4 ] && $AMQP seq "$BR" q13b 500 --start $((100001 + k * 500)) >/dev/null 2>&1
		sleep 0.3
	done
) &
PUB=$!
at_exit "kill_if_ours $PUB sh"
wait_d 20 sh -c '[ "$(wc -l < "$1" 2>/dev/null)" -ge 500 ]' _ "$W/events.jsonl"
touch "$W/ampstream.conf"
kill -HUP "$DPID"
wait_d 10 sh -c '[ "$(grep -c "configuration reloaded" "$1")" -ge 1 ]' _ "$DLOG" ||
    t_fail "first reload not done within 10 s"
t_check "an unchanged configuration keeps every part" \
    grep -q 'reload: keeping 2 of 2 streams and 2 of 2 sinks$' "$DLOG"
wait_d 20 sh -c '[ "$(wc -l < "$1" 2>/dev/null)" -ge 1500 ]' _ "$W/events.jsonl"
conf13 "$W/events2.jsonl" a c
kill -HUP "$DPID"
wait_d 10 sh -c '[ "$(grep -c "configuration reloaded" "$1")" -ge 2 ]' _ "$DLOG" ||
    t_fail "second reload not done within 10 s"
note "$(grep 'reload: keeping' "$DLOG" | tail -n 1)"
t_check "the second reload keeps stream a and sink siem, replaces archive, stops b, starts c" \
    grep -q 'reload: keeping 1 of 2 streams and 1 of 2 sinks; replacing sink archive; stopping stream b; starting stream c$' "$DLOG"
wait "$PUB"
$AMQP seq "$BR" q13c 300 --start 200001 >/dev/null 2>&1
wait_d 60 queue_is q13a "0 0"
wait_d 30 queue_is q13c "0 0"
wait_d 30 recv_ge "$W/recv" 4300
settle "$W/recv/parsed.jsonl"
daemon_alive_check
daemon_stop; check_daemon_exit
analyze recv-ids "$W/recv/parsed.jsonl" > "$W/got.ids"
grep -E '^[0-9]{1,4}$' "$W/got.ids" > "$W/a.ids"
grep -E '^1[0-9]{5}$' "$W/got.ids" > "$W/b.ids"
grep -E '^2[0-9]{5}$' "$W/got.ids" > "$W/c.ids"
$AMQP ids "$BR" q13b >> "$W/b.ids" 2>/dev/null
t_eq "stream a: ids 1..4000 missing at the receiver" 0 "$(missing_seq "$W/a.ids" 1 4000)"
t_eq "stream a: duplicates at the receiver" 0 "$(dups "$W/a.ids")"
t_eq "stream c: ids missing at the receiver" 0 "$(missing_seq "$W/c.ids" 200001 200300)"
t_eq "stream b (removed): ids neither received nor still in its queue" 0 \
    "$(missing_seq "$W/b.ids" 100001 102000)"
cat "$W/events.jsonl" "$W/events2.jsonl" 2>/dev/null | "$PY" -c '
import json, sys
for l in sys.stdin.buffer:
    if l.strip(): print(json.loads(l)["id"])' > "$W/arch.ids"
t_eq "archive (moved by the reload): ids 1..4000 missing across both files" 0 \
    "$(missing_seq "$W/arch.ids" 1 4000)"
t_eq "archive: duplicates across both files" 0 "$(dups "$W/arch.ids")"
t_ge "archive: records in the new file" 1 "$(nlines "$W/events2.jsonl")"
t_eq "stream a's connections over two reloads" 1 "$(grep -c 'stream a: consuming' "$DLOG")"
t_eq "stream a's delivered counter at the end (kept over the reloads)" "delivered=4000" \
    "$(grep -o 'stream a: delivered=[0-9]*' "$DLOG" | tail -n 1 | cut -d' ' -f3)"
t_eq "stream a: redeliveries" "redelivered=0" \
    "$(grep -o 'stream a: .*redelivered=[0-9]*' "$DLOG" | tail -n 1 | grep -o 'redelivered=[0-9]*')"
on_fail_show "$DLOG"
t_end
fi

# --- 14. a reload with records stuck in a sink (down, no spool) restarts everything: none lost --
if want 14; then
t_begin "14-reload-fallback"
mkwork t14
$AMQP declare "$BR" q14 >/dev/null
receiver_start "$W" || t_fail "receiver did not start"
SIEM_EXTRA="spool_max_bytes = 0;" mkconf "$W" q14 "$RPORT"
daemon_start "$W"
$AMQP seq "$BR" q14 5 --start 1 >/dev/null 2>&1
wait_d 30 recv_ge "$W/recv" 5 || t_fail "first 5 events did not arrive"
settle "$W/recv/parsed.jsonl"
receiver_stop "$W"
$AMQP seq "$BR" q14 100 --start 6 >/dev/null 2>&1
sleep 2
SIEM_EXTRA="spool_max_bytes = 0;" mkconf "$W" q14 "$RPORT"
sed -i "s|$W/events.jsonl|$W/events2.jsonl|" "$W/ampstream.conf"
t0=$(now_ms)
kill -HUP "$DPID"
wait_d 30 grep -q 'configuration reloaded: every part restarted' "$DLOG" ||
    t_fail "no full restart after the drain deadline"
note "reload with a sink down: every part restarted after $(secs_since "$t0") s"
t_check "the log says why" grep -q 'reload: restarting every stream and sink instead' "$DLOG"
receiver_start "$W" "$RPORT" || t_fail "receiver did not restart on port $RPORT"
wait_d 60 recv_ge "$W/recv" 105
wait_d 20 queue_is q14 "0 0"
settle "$W/recv/parsed.jsonl"
analyze recv-ids "$W/recv/parsed.jsonl" > "$W/got.ids"
t_eq "ids 1..105 missing at the receiver" 0 "$(missing_seq "$W/got.ids" 1 105)"
t_eq "queue q14 (ready unacked)" "0 0" "$($AMQP count "$BR" q14)"
t_ge "records in the new file sink" 100 "$(nlines "$W/events2.jsonl")"
daemon_alive_check
daemon_stop; check_daemon_exit
on_fail_show "$DLOG"
receiver_stop "$W"
t_end
fi

note "pipeline suite: $(secs_since "$SUITE_T0") s"
summary
