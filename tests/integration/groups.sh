#!/bin/sh
# Integration suite for group names: a real private RabbitMQ node -> ampstream -> a real rsyslog
# receiver (strict CEF via liblognorm) and a JSON file sink, with the cloud's REST API played by
# tests/emulator/amp_api_emulator.py over HTTPS (a per-run test CA):
#   1 names after the first refresh: 1200 groups (3 pages), 700 computers (2 pages), the
#     observed X-RateLimit-* headers; events naming a known and an unknown GUID: CEF
#     ad.groupNames / ad.groupGuids parsed strictly, JSON ampstream.group_names holds the known
#     one only; the events' computer: CEF ad.policy / ad.isolation, JSON ampstream.computer;
#     a reload with the cloud unchanged keeps the caches (no request, names at once)
#   2 the rate limit slows the refresh, never the records: the first window spent (a 429, with
#     the documented X-Rate-Limit-* headers), 50 events arrive at once with their GUIDs alone;
#     after the reset the names come; no request while the emulator said 0 were left
#   3 the API down: events flow, the daemon says why the names wait
# usage: sh tests/integration/groups.sh BUILD_DIR
# Prints `ok - NAME` / `not ok - NAME: reason`, figures as `# ` lines, and `N passed, N failed`.
# Env: KEEP_TMP=1 keeps the temp dir.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$ROOT/tests/lib
. "$LIB/common.sh"
suite_init groups "$@"
. "$LIB/daemon.sh"
EMU=$ROOT/tests/emulator/amp_api_emulator.py
FIX=$ROOT/tests/fixtures/events/cloud_ioc_1.json
NAMES="1-names-after-refresh 2-rate-limit-never-delays 3-api-down"
note "groups suite: temp dir $T, daemon $ASAN_BIN"
[ -x "$ASAN_BIN" ] || { t_fail_all "daemon binary missing ($ASAN_BIN)" $NAMES; summary; exit 1; }
sh "$LIB/tlsca.sh" "$T/pki" >/dev/null || { t_fail_all "tlsca.sh failed" $NAMES; summary; exit 1; }
suite_broker_start
CLIENT_ID=0123456789abcdef0123
KEY=$T/api.key
(umask 077; printf '5f0c1d2e-aa11-4b7e-9c3d-SECRETKEY0042\n' > "$KEY")
# The emulator's GUIDs are uuid5(URL, "group:" + name)
guid_of() { "$PY" -c 'import sys, uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "group:" + sys.argv[1]))' "$1"; }
AUDIT=$(guid_of Audit)
# ... and a computer's uuid5(URL, "computer:" + i); computer 10 is isolated, policy "Audit Policy"
HOST10=$("$PY" -c 'import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "computer:10"))')

# emu_start W [options]: an emulator for W; sets EPID EPORT
emu_start() {
	_w=$1; shift
	rm -f "$_w/emu.port"
	"$PY" "$EMU" --port-file "$_w/emu.port" --cert "$T/pki/server.pem" --key "$T/pki/server.key" \
	    --client-id "$CLIENT_ID" --api-key-file "$KEY" --log "$_w/emu.log" "$@" \
	    </dev/null >"$_w/emu.err" 2>&1 &
	EPID=$!
	at_exit "kill_if_ours $EPID amp_api_emulator"
	wait_for 15 test -s "$_w/emu.port" || { t_fail "emulator did not start"; return 1; }
	EPORT=$(cat "$_w/emu.port")
}
# conf W Q API_PORT: cloud emu -> the emulator, stream s1 on Q, CEF to the receiver, JSON file
conf() {
	cat > "$1/ampstream.conf" <<EOF
state_dir = "$1/state";
clouds = ( { name = "emu"; api_url = "https://127.0.0.1:$3"; client_id = "$CLIENT_ID";
             api_key_file = "$KEY"; ca_file = "$T/pki/ca.pem"; } );
streams = ( { name = "s1"; cloud = "emu"; url = "amqp://127.0.0.1:$BROKER_PORT/";
              user = "$BROKER_USER"; password_file = "$BROKER_PASSWORD_FILE"; queue = "$2"; } );
sinks = (
  { name = "siem"; type = "tcp"; host = "127.0.0.1"; port = $RPORT; format = "cef"; },
  { name = "archive"; type = "file"; path = "$1/events.jsonl"; format = "json"; }
);
EOF
	chmod 0600 "$1/ampstream.conf"
}
# events FILE FIRST N [CONNECTOR]: N copies of a real Cloud IOC event with ids FIRST.., naming
# Audit's GUID and one the cloud does not know (from computer CONNECTOR when given)
events() {
	"$PY" - "$FIX" "$1" "$2" "$3" "$AUDIT" "${4:-}" <<'PYEOF'
import json, sys
src, out, first, n, audit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ev = json.load(open(src))
if sys.argv[6]:
    ev["connector_guid"] = ev["computer"]["connector_guid"] = sys.argv[6]
with open(out, "w") as f:
    for i in range(first, first + n):
        ev["id"] = i
        ev["group_guids"] = [audit, "guid-not-in-this-cloud"]
        f.write(json.dumps(ev) + "\n")
PYEOF
}
# grp FILE: per JSON record "ID NAMES" (NAMES: the ampstream.group_names values, or -);
# recv_grp FILE: per CEF record "externalId ad.groupNames ad.groupGuids" ("!" when not CEF)
grp() {
	"$PY" - "$1" <<'PYEOF'
import json, sys
for l in open(sys.argv[1], "rb"):
    if l.strip():
        r = json.loads(l, parse_int=str)
        g = r["ampstream"].get("group_names", {})
        c = r["ampstream"].get("computer", {})
        print(r["id"], ",".join(g.values()) or "-", c.get("policy", "-"), c.get("isolation", "-"))
PYEOF
}
recv_grp() {
	"$PY" - "$1" <<'PYEOF'
import json, sys
for l in open(sys.argv[1], "rb"):
    if not l.strip():
        continue
    p = json.loads(l)["parsed"]
    if p.get("peer", {}).get("parsesuccess") != "OK" or "cef" not in p:
        print("!"); continue
    x = p["cef"]["Extensions"]
    print(x.get("externalId"), x.get("ad.groupNames", "-"), x.get("ad.groupGuids", "-"),
          x.get("ad.policy", "-"), x.get("ad.isolation", "-"))
PYEOF
}
json_n() { [ "$(nlines "$1/events.jsonl")" -ge "$2" ]; }

# --- 1. names after the first refresh -------------------------------------------------------
t_begin 1-names-after-refresh
mkwork t1
receiver_start "$W" || t_fail "receiver did not start"
$AMQP declare "$BR" g1 >/dev/null
emu_start "$W" --groups 1200 --computers 700
conf "$W" g1 "$EPORT"
daemon_start "$W"
wait_d 30 grep -q 'groups: cloud emu: 1200 group names' "$DLOG" ||
    t_fail "no complete listing within 30 s: $(grep -m1 'groups:' "$DLOG")"
wait_d 30 grep -q 'groups: cloud emu: 700 computers' "$DLOG" ||
    t_fail "no complete computer listing within 30 s: $(grep 'groups:' "$DLOG" | tail -n 1)"
t_eq "GET /v1/groups requests for 1200 groups (3 pages)" 3 "$(grep -c 'GET /v1/groups' "$W/emu.log")"
t_eq "GET /v1/computers requests for 700 computers (2 pages)" 2 "$(grep -c 'GET /v1/computers' "$W/emu.log")"
events "$W/ev1" 1 20 "$HOST10"
$AMQP publish "$BR" g1 "$W/ev1" >/dev/null 2>&1
wait_d 20 json_n "$W" 20
wait_d 20 recv_ge "$W/recv" 20
settle "$W/recv/parsed.jsonl"
grp "$W/events.jsonl" > "$W/json.grp"
recv_grp "$W/recv/parsed.jsonl" > "$W/cef.grp"
t_eq "JSON records with group_names {Audit} (the unknown GUID left out) and computer {Audit Policy, isolated}" \
    20 "$(grep -c ' Audit Audit Policy isolated$' "$W/json.grp")"
t_eq "CEF records not parsed strictly" 0 "$(grep -c '^!' "$W/cef.grp")"
t_eq "CEF records with ad.groupNames=Audit, both GUIDs, ad.policy, ad.isolation" 20 \
    "$(grep -c " Audit $AUDIT,guid-not-in-this-cloud Audit Policy isolated\$" "$W/cef.grp")"
head -n 1 "$W/cef.grp" | sed 's/^/# CEF: externalId ad.groupNames ad.groupGuids ad.policy ad.isolation: /'
# a reload with the cloud unchanged keeps the caches: nothing is asked again, names at once
nreq=$(grep -c 'GET /v1/' "$W/emu.log")
touch "$W/ampstream.conf"
kill -HUP "$DPID"
wait_d 10 grep -q 'configuration reloaded' "$DLOG" || t_fail "reload not done within 10 s"
events "$W/ev1b" 21 20 "$HOST10"
$AMQP publish "$BR" g1 "$W/ev1b" >/dev/null 2>&1
wait_d 20 json_n "$W" 40
sleep 2
grp "$W/events.jsonl" > "$W/json.grp"
t_eq "JSON records after the reload with the names and the computer (cache kept)" \
    40 "$(grep -c ' Audit Audit Policy isolated$' "$W/json.grp")"
t_eq "REST requests after the reload (none: the cloud did not change)" "$nreq" \
    "$(grep -c 'GET /v1/' "$W/emu.log")"
t_check "the API key is not in the log" sh -c '! grep -q SECRETKEY "$1"' _ "$DLOG"
daemon_alive_check
daemon_stop; check_daemon_exit
on_fail_show "$DLOG" "$W/emu.err"
t_end

# --- 2. the rate limit slows the refresh, never the records -----------------------------------
t_begin 2-rate-limit-never-delays
mkwork t2
receiver_start "$W" || t_fail "receiver did not start"
$AMQP declare "$BR" g2 >/dev/null
# a 15 s window of 100 requests, none left in the first: the first GET gets a 429
emu_start "$W" --groups 1200 --rate-headers documented --rate-budget 100 --rate-window 15 \
    --rate-start-remaining 0
conf "$W" g2 "$EPORT"
events "$W/ev2" 1001 50
daemon_start "$W"
wait_d 15 grep -q 'groups: cloud emu: GET /v1/groups: 429' "$DLOG" || t_fail "no 429 logged within 15 s"
t0=$(now_ms)
$AMQP publish "$BR" g2 "$W/ev2" >/dev/null 2>&1
wait_d 20 json_n "$W" 50
wait_d 20 recv_ge "$W/recv" 50
t1=$(now_ms)
note "50 events while the API said 429: all at both sinks in $((t1 - t0)) ms"
t_check "records did not wait for the API (50 at both sinks within 10 s, took $((t1 - t0)) ms)" \
    [ $((t1 - t0)) -le 10000 ]
grp "$W/events.jsonl" > "$W/a.grp"
t_eq "records before the reset with names" 0 "$(grep -vc ' - - -$' "$W/a.grp")"
wait_d 40 grep -q 'groups: cloud emu: 1200 group names' "$DLOG" ||
    t_fail "no listing within 40 s of the 429"
t_eq "429 answers (the daemon waited for the reset)" 1 "$(grep -c 'GET /v1/groups.* 429' "$W/emu.log")"
events "$W/ev3" 2001 10
$AMQP publish "$BR" g2 "$W/ev3" >/dev/null 2>&1
wait_d 20 json_n "$W" 60
grp "$W/events.jsonl" > "$W/b.grp"
t_eq "records after the listing with the name Audit" 10 "$(grep -Ec '^20(0[1-9]|10) Audit ' "$W/b.grp")"
daemon_alive_check
daemon_stop; check_daemon_exit
on_fail_show "$DLOG" "$W/emu.log"
t_end

# --- 3. the API down --------------------------------------------------------------------------
t_begin 3-api-down
mkwork t3
receiver_start "$W" || t_fail "receiver did not start"
$AMQP declare "$BR" g3 >/dev/null
conf "$W" g3 "$(freeport)"		# nothing listens there
events "$W/ev4" 3001 30
daemon_start "$W"
$AMQP publish "$BR" g3 "$W/ev4" >/dev/null 2>&1
wait_d 20 json_n "$W" 30
wait_d 20 recv_ge "$W/recv" 30
t_ge "records at the receiver with the API down" 30 "$(nlines "$W/recv/parsed.jsonl")"
t_ge "records in the file sink with the API down" 30 "$(nlines "$W/events.jsonl")"
t_check "the log says why names wait" grep -q 'groups: cloud emu: GET /v1/groups: .*group names wait, next try in 60 s' "$DLOG"
wait_d 10 queue_is g3 "0 0"
t_eq "queue g3 (ready unacked)" "0 0" "$($AMQP count "$BR" g3)"
daemon_alive_check
daemon_stop; check_daemon_exit
on_fail_show "$DLOG"
t_end

note "groups suite: $(secs_since "$SUITE_T0") s"
summary
