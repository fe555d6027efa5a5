#!/bin/sh
# Integration suite for hostile and odd stream messages (issue 12), through a real private
# RabbitMQ node -> ampstream -> a real rsyslog receiver (strict CEF) and a JSON file sink:
#   1 ids: a string of digits, a number past UINT64_MAX -> exact externalId and id_str;
#     an event_type_id past int64 and an id of 65 digits -> dead-lettered whole
#   2 big bodies: a 1.5 MiB event is forwarded (cut to max_record on the network sink); a body
#     over max_message is dead-lettered whole (written as it arrives) and the stream goes on
#   3 a full dead-letter store: nothing is dropped; the stream is held, says so in status.json,
#     and resumes once the admin removes files; every message ends up acked and kept
#   4 a dead-letter store the disk refuses (its directory is a file): the malformed messages
#     stay in the broker, the good ones pass; once the directory can be made, they are kept
# usage: sh tests/integration/hostile.sh BUILD_DIR
# Prints `ok - NAME` / `not ok - NAME: reason`, and a closing `N passed, N failed`.
# Env: KEEP_TMP=1 keeps the temp dir; HOSTILE_ONLY="2" runs only those tests.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$ROOT/tests/lib
. "$LIB/common.sh"
suite_init hostile "$@"
note "hostile suite: temp dir $T, daemon $ASAN_BIN"
want() { [ -z "${HOSTILE_ONLY:-}" ] || case " $HOSTILE_ONLY " in *" $1 "*) ;; *) return 1 ;; esac; }
. "$LIB/daemon.sh"
SIEM_EXTRA="spool_max_bytes = 0;"

# check MODE ARGS...: Python checks over the receiver, file sink and dead-letter files; one line
# per problem, starting with "!"; figures as "# " lines.
check() {
	"$PY" - "$@" <<'PYEOF'
import base64, glob, hashlib, json, sys
mode, args = sys.argv[1], sys.argv[2:]
def lines(path):
    try:
        with open(path, "rb") as f:
            return [l for l in f.read().split(b"\n") if l.strip()]
    except FileNotFoundError:
        return []
def cef_ids(path):
    ids = []
    for l in lines(path):
        r = json.loads(l, parse_int=str); p = r["parsed"]
        if p.get("peer", {}).get("parsesuccess") != "OK" or "cef" not in p:
            print("!not strict CEF: %s" % r.get("msg", "")[:200]); continue
        ids.append(p["cef"]["Extensions"].get("externalId", "-"))
    return ids
def dead(dir):
    out = []
    for f in sorted(glob.glob(dir + "/*.jsonl")):
        for l in lines(f):
            d = json.loads(l)
            b = base64.b64decode(d["body_base64"]) if "body_base64" in d else d["body"].encode()
            if d.get("size") != len(b):
                print("!dead letter size %r != body length %d" % (d.get("size"), len(b)))
            out.append((d["reason"], b))
    return out
if mode == "ids":                      # RECV FILE_SINK WANT_IDS...
    got = sorted(cef_ids(args[0])); want = sorted(args[2:])
    if got != want:
        print("!externalIds %r != %r" % (got, want))
    js = []
    for l in lines(args[1]):
        e = json.loads(l, parse_int=str)
        js.append(e["ampstream"].get("id_str"))
        if e["ampstream"].get("id_str") != e.get("id"):
            print("!id_str %r is not the event's id %r" % (e["ampstream"].get("id_str"), e.get("id")))
    if sorted(js) != want:
        print("!file sink id_str %r != %r" % (sorted(js), want))
elif mode == "dead":                   # DIR then REASON=FILE_OF_BODY ...
    got = sorted((r, hashlib.sha256(b).hexdigest()) for r, b in dead(args[0]))
    want = []
    for a in args[1:]:
        r, f = a.split("=", 1)
        with open(f, "rb") as fh:
            want.append((r, hashlib.sha256(fh.read()).hexdigest()))
    if got != sorted(want):
        print("!dead letters (reason, sha256) %r != %r" % (got, sorted(want)))
    print("# %d dead letters, whole" % len(got))
elif mode == "count-dead":             # DIR: number of dead letters
    print(len(dead(args[0])))
elif mode == "big":                    # RECV FILE_SINK ID LEN: the big event made it, cut or whole
    ids = cef_ids(args[0])
    if ids.count(args[2]) != 1:
        print("!big event %s: %d records at the receiver" % (args[2], ids.count(args[2])))
    ok = False
    for l in lines(args[1]):
        e = json.loads(l, parse_int=str)
        if e.get("id") == args[2]:
            ok = True
            print("# big event in the file sink: %d bytes, truncated=%s" % (len(l), e["ampstream"].get("truncated", False)))
    if not ok:
        print("!big event %s not in the file sink" % args[2])
elif mode == "status":                 # STATUS_JSON KEY: a stream member
    s = json.load(open(args[0]))["streams"][0]
    print(s.get(args[1]))
PYEOF
}

NAMES="1-exact-ids 2-big-bodies 3-deadletter-full 4-deadletter-disk-error"
if [ ! -x "$ASAN_BIN" ]; then
	t_fail_all "daemon binary missing ($ASAN_BIN)" $NAMES
	summary; exit 1
fi
suite_broker_start

# --- 1. ids keep their exact digits; numbers that cannot be exact are dead-lettered ------------
if want 1; then
t_begin "1-exact-ids"
mkwork t1
$AMQP declare "$BR" h1
ev() { printf '{"id":%s,"event_type":"Threat Detected","event_type_id":%s,"timestamp":1795546800,"computer":{"hostname":"pc-%s"}}' "$1" "$2" "$3"; }
ev '"1503580638684881251"' 1090519054 a > "$W/b1"
ev 123456789012345678901234567890 1090519054 b > "$W/b2"
ev 18446744073709551616 553648147 c > "$W/b3"
ev 7 99999999999999999999 d > "$W/b4"
ev 1234567890123456789012345678901234567890123456789012345678901234567890 1 e > "$W/b5"
for i in 1 2 3 4 5; do $AMQP publish "$BR" h1 "$W/b$i" --raw 2>/dev/null; done
receiver_start "$W" || t_fail "receiver did not start"
mkconf "$W" h1 "$RPORT"
daemon_start "$W"
wait_d 30 recv_ge "$W/recv" 3
wait_d 20 queue_is h1 "0 0"
settle "$W/recv/parsed.jsonl"
daemon_alive_check
check ids "$W/recv/parsed.jsonl" "$W/events.jsonl" 1503580638684881251 \
    123456789012345678901234567890 18446744073709551616 > "$W/ids.out"
t_check "exact ids: $(grep '^!' "$W/ids.out" | head -3 | tr '\n' '|')" \
    sh -c '! grep -q "^!" "$1"' _ "$W/ids.out"
check dead "$W/state/deadletter" "event_type_id out of range=$W/b4" \
    "id longer than 64 digits=$W/b5" > "$W/dead.out"
grep '^#' "$W/dead.out"
t_check "dead letters: $(grep '^!' "$W/dead.out" | head -2 | tr '\n' '|')" \
    sh -c '! grep -q "^!" "$1"' _ "$W/dead.out"
t_eq "queue h1 (ready unacked)" "0 0" "$($AMQP count "$BR" h1)"
daemon_stop 15
check_daemon_exit
on_fail_show "$DLOG"
receiver_stop "$W"
t_end
fi

# --- 2. big bodies: forwarded up to max_message, dead-lettered whole above it ---------------
if want 2; then
t_begin "2-big-bodies"
mkwork t2
$AMQP declare "$BR" h2
# a 1.5 MiB event (a long command line), then 5 MiB of junk, then a small event
"$PY" -c 'import sys; sys.stdout.write("{\"id\":777,\"event_type\":\"Threat Detected\",\"event_type_id\":1090519054,\"detection\":\"" + "A" * (1536 * 1024) + "\"}")' > "$W/big"
head -c $((5 * 1024 * 1024)) /dev/urandom > "$W/huge"
printf '{"id":778,"event_type":"Threat Detected","event_type_id":1090519054}' > "$W/small"
for f in big huge small; do $AMQP publish "$BR" h2 "$W/$f" --raw 2>/dev/null; done
receiver_start "$W" || t_fail "receiver did not start"
STREAM_EXTRA="max_message = 4194304;" mkconf "$W" h2 "$RPORT"
daemon_start "$W"
wait_d 60 recv_ge "$W/recv" 2
wait_d 30 queue_is h2 "0 0"
settle "$W/recv/parsed.jsonl"
daemon_alive_check
check big "$W/recv/parsed.jsonl" "$W/events.jsonl" 777 > "$W/big.out"
grep '^#' "$W/big.out"
t_check "1.5 MiB event forwarded: $(grep '^!' "$W/big.out" | head -2 | tr '\n' '|')" \
    sh -c '! grep -q "^!" "$1"' _ "$W/big.out"
check dead "$W/state/deadletter" "body larger than max_message=$W/huge" > "$W/dead.out"
grep '^#' "$W/dead.out"
t_check "5 MiB body dead-lettered whole: $(grep '^!' "$W/dead.out" | head -2 | cut -c1-300 | tr '\n' '|')" \
    sh -c '! grep -q "^!" "$1"' _ "$W/dead.out"
t_check "the small event after it was forwarded" grep -q 'externalId=778' "$W/recv/parsed.jsonl"
t_eq "queue h2 (ready unacked)" "0 0" "$($AMQP count "$BR" h2)"
daemon_stop 15
check_daemon_exit
t_check "counter line with deadlettered=1 (got '$(grep -o 'stream s1:.*' "$DLOG" | tail -1)')" \
    grep -Eq 'stream s1: .*deadlettered=1' "$DLOG"
on_fail_show "$DLOG"
receiver_stop "$W"
t_end
fi

# --- 3. a full dead-letter store holds the stream; nothing is dropped --------------------------
if want 3; then
t_begin "3-deadletter-full"
mkwork t3
$AMQP declare "$BR" h3
# 8 malformed bodies of 200 KiB (JSON-escaped: 200 KiB each) into a 1 MiB store: 4 fit
"$PY" -c 'import sys; sys.stdout.write("not an event " + "x" * (200 * 1024))' > "$W/bad"
for i in 1 2 3 4 5 6 7 8; do $AMQP publish "$BR" h3 "$W/bad" --raw 2>/dev/null; done
$AMQP seq "$BR" h3 10 --start 1 2>/dev/null
receiver_start "$W" || t_fail "receiver did not start"
STREAM_EXTRA="max_message = 65536; deadletter_max_bytes = 1048576; hold_timeout = 2;" \
    mkconf "$W" h3 "$RPORT"
daemon_start "$W"
wait_d 30 grep -q 'dead-letter store is full' "$DLOG"
wait_d 20 grep -q 'dead-letter store has been full' "$DLOG"
wait_d 10 sh -c "grep -qs '\"deadletter_full\":true' '$W/state/status.json'"
t_eq "status.json: deadletter_full" True "$(check status "$W/state/status.json" deadletter_full)"
held=$(check count-dead "$W/state/deadletter")
t_check "some dead letters kept before the store filled (got $held)" [ "$held" -ge 3 ]
t_check "no message dropped: the queue still holds the rest ($($AMQP count "$BR" h3))" \
    [ "$(queue_total h3)" -ge $((8 - held)) ]
# the admin moves the files away (3 entries fill the store: as often as it fills again); the
# stream resumes each time and, in the end, keeps every one
mkdir -p "$W/archive"; i=0
while [ $i -lt 6 ] && ! queue_is h3 "0 0"; do
	i=$((i + 1))
	nfull=$(grep -c 'dead-letter store is full' "$DLOG")
	mkdir "$W/archive/$i"; mv "$W/state/deadletter/"*.jsonl "$W/archive/$i/" 2>/dev/null
	wait_d 60 sh -c "$AMQP count '$BR' h3 | grep -qx '0 0' ||
	    [ \$(grep -c 'dead-letter store is full' '$DLOG') -gt $nfull ]"
done
note "the admin made room $i times"
wait_d 30 queue_is h3 "0 0"
daemon_alive_check
wait_d 20 recv_ge "$W/recv" 10
total=$(check count-dead "$W/state/deadletter")
for d in "$W/archive"/*; do total=$((total + $(check count-dead "$d"))); done
t_ge "dead letters kept in all (every malformed message, maybe twice if redelivered)" 8 "$total"
settle "$W/recv/parsed.jsonl"
t_eq "good events at the receiver" 0 "$(grep -o 'externalId=[0-9]*' "$W/recv/parsed.jsonl" | sort -u | grep -cvxE 'externalId=([1-9]|10)')"
t_ge "distinct good events" 10 "$(grep -o 'externalId=[0-9]*' "$W/recv/parsed.jsonl" | sort -u | wc -l)"
t_check "the hold was logged" grep -q 'dead-letter store has been full' "$DLOG"
t_check "room again was logged" grep -q 'dead-letter store has room again' "$DLOG"
daemon_stop 15
check_daemon_exit
on_fail_show "$DLOG"
receiver_stop "$W"
t_end
fi

# --- 4. the disk refuses dead letters: they wait in the broker, then are kept ------------------
if want 4; then
t_begin "4-deadletter-disk-error"
mkwork t4
$AMQP declare "$BR" h4
printf 'not an event (1)' > "$W/bad1"
printf '{"id": 1, "event_type": ' > "$W/bad2"
for f in bad1 bad2; do $AMQP publish "$BR" h4 "$W/$f" --raw 2>/dev/null; done
$AMQP seq "$BR" h4 5 --start 1 2>/dev/null
receiver_start "$W" || t_fail "receiver did not start"
STREAM_EXTRA="hold_timeout = 2;" mkconf "$W" h4 "$RPORT"
: > "$W/state/deadletter"	# a file where the directory goes: every entry fails (even as root)
daemon_start "$W"
wait_d 30 recv_ge "$W/recv" 5
wait_d 20 grep -q 'dead-letter store cannot be written' "$DLOG"
t_check "the refusal was logged" grep -q 'dead-letter store cannot be written' "$DLOG"
t_ge "the good events passed the refused ones" 5 "$(nlines "$W/recv/parsed.jsonl")"
t_eq "the malformed messages wait in the broker" 2 "$(queue_total h4)"
sleep 6	# past the retry: the store is tried again and still fails; still nothing dropped
t_eq "still in the broker after a failed retry" 2 "$(queue_total h4)"
rm "$W/state/deadletter"
wait_d 30 queue_is h4 "0 0"
t_eq "queue h4 once the directory can be made (ready unacked)" "0 0" "$($AMQP count "$BR" h4)"
check dead "$W/state/deadletter" "not JSON=$W/bad1" "not JSON=$W/bad2" > "$W/dead.out"
t_check "both kept, whole, once each: $(grep '^!' "$W/dead.out" | head -2 | cut -c1-300 | tr '\n' '|')" \
    sh -c '! grep -q "^!" "$1"' _ "$W/dead.out"
t_check "the retry was logged" grep -q 'trying the dead-letter store again' "$DLOG"
daemon_alive_check
daemon_stop 15
check_daemon_exit
t_check "counter line with deadlettered=2 (got '$(grep -o 'stream s1:.*' "$DLOG" | tail -1)')" \
    grep -Eq 'stream s1: .*deadlettered=2' "$DLOG"
on_fail_show "$DLOG"
receiver_stop "$W"
t_end
fi

note "hostile suite: $(secs_since "$SUITE_T0") s"
summary
