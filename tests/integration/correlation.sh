#!/bin/sh
# Integration suite for correlation and console links (issue 4): a real private RabbitMQ node ->
# ampstream -> a real rsyslog receiver (strict CEF via liblognorm) and a JSON file sink.
# Uses the real fixture pairs (tests/fixtures/README.md, "Real detected/quarantined pairs").
# usage: sh tests/integration/correlation.sh BUILD_DIR      (uses BUILD_DIR/asan/ampstream)
# Ends with `N passed, N failed`; exits non-zero if anything failed.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$ROOT/tests/lib
. "$LIB/common.sh"
suite_init correlation "$@"
CTL=$BUILD/asan/ampstreamctl
EV=$ROOT/tests/fixtures/events
. "$LIB/daemon.sh"
NAMES="1-pair-combined 2-pair-across-restart 3-outcome-first-uncorrelated 4-unresolved-alert"

# cef FILE EXTERNAL_ID|NAME=... KEY: the value of KEY in the CEF record (as rsyslog's
# liblognorm parsed it) whose externalId (or, with NAME=x, whose Name) matches; "!" if none.
cef() {
	"$PY" - "$@" <<'PYEOF'
import json, sys
path, sel, key = sys.argv[1:4]
for l in open(path, encoding="utf-8"):
    r = json.loads(l, parse_int=str)
    p = r.get("parsed", {})
    if p.get("peer", {}).get("parsesuccess") != "OK" or "cef" not in p:
        continue
    c = p["cef"]; x = c["Extensions"]
    if (sel.startswith("NAME=") and c["Name"] == sel[5:]) or x.get("externalId") == sel:
        print(c.get(key, x.get(key, "")) if key in ("Name", "Severity") else x.get(key, ""))
        sys.exit(0)
print("!")
PYEOF
}
# jcorr FILE ID_STR KEY: ampstream.correlation.KEY of the JSON record with that id_str
jcorr() {
	"$PY" - "$@" <<'PYEOF'
import json, sys
path, sel, key = sys.argv[1:4]
for l in open(path, encoding="utf-8"):
    e = json.loads(l, parse_int=str)
    a = e.get("ampstream", {})
    if a.get("id_str") == sel or (sel.startswith("TYPE=") and e.get("event_type") == sel[5:]):
        c = a.get("correlation") or {}
        print(c.get(key, "") if key != "console_url" else a.get("console_url", ""))
        sys.exit(0)
print("!")
PYEOF
}
fixture_id() { grep -o '"id":[0-9]*' "$EV/$1" | head -1 | cut -d: -f2; }
publish() { $AMQP publish "$BR" "$1" "$EV/$2" --raw >/dev/null 2>&1; }
records_ge() { [ "$(nlines "$W/recv/parsed.jsonl")" -ge "$1" ] && [ "$(nlines "$W/events.jsonl")" -ge "$1" ]; }

if [ ! -x "$ASAN_BIN" ]; then t_fail_all "daemon binary missing ($ASAN_BIN)" $NAMES; summary; exit 1; fi
suite_broker_start
EXTRA_CONF='correlation = { max_entries = 1000; ttl = 600; unresolved_alert = 3; };'

# --- 1. a Detected/Quarantined pair comes out as one combined record ----------------------------
t_begin "1-pair-combined"
mkwork t1; receiver_start "$W"; $AMQP declare "$BR" q1 >/dev/null; mkconf "$W" q1 "$RPORT"
daemon_start "$W"
publish q1 threat_detected_1.json
wait_d 15 records_ge 1
publish q1 threat_quarantined_1.json
wait_d 15 records_ge 2; settle "$W/recv/parsed.jsonl"
# Both fixtures carry the same float-rounded id (fixtures README): select records by type.
det=$(fixture_id threat_detected_1.json); out=$(fixture_id threat_quarantined_1.json)
D="NAME=Threat Detected"; O="NAME=Threat Quarantined"
R=$W/recv/parsed.jsonl
t_eq "Detected record: cs4 (correlation)" pending "$(cef "$R" "$D" cs4)"
t_eq "outcome record: cs4" matched "$(cef "$R" "$O" cs4)"
t_eq "outcome record: cs1 (detection name, from the Detected)" W32.Overdrive.RET "$(cef "$R" "$O" cs1)"
t_eq "outcome record: fname (from the Detected)" BIT657.tmp "$(cef "$R" "$O" fname)"
t_eq "outcome record: filePath (from the Detected)" '\\?\C:\BIT657.tmp' "$(cef "$R" "$O" filePath)"
t_eq "outcome record: cs5 (Detected event id)" "$det" "$(cef "$R" "$O" cs5)"
t_eq "outcome record: outcome" success "$(cef "$R" "$O" outcome)"
t_check "outcome record: cn2 (seconds to outcome) is a number" sh -c 'echo "$1" | grep -Eq "^[0-9]+$"' _ "$(cef "$R" "$O" cn2)"
t_eq "console link (EU console, device trajectory at the event)" \
    "https://console.eu.amp.cisco.com/computers/test_connector_guid/trajectory2?id=$out" "$(cef "$R" "$O" cs6)"
t_eq "file trajectory link" \
    "https://console.eu.amp.cisco.com/file/trajectory/a78c29d1fa05c2b23d1dc9b75da8c053399143682fe3779bc466f10e1a997850" \
    "$(cef "$R" "$O" flexString1)"
t_eq "JSON outcome: correlation.state" matched "$(jcorr "$W/events.jsonl" "TYPE=Threat Quarantined" state)"
t_eq "JSON outcome: correlation.detection" W32.Overdrive.RET "$(jcorr "$W/events.jsonl" "TYPE=Threat Quarantined" detection)"
t_eq "JSON outcome: correlation.detection_event_id" "$det" "$(jcorr "$W/events.jsonl" "TYPE=Threat Quarantined" detection_event_id)"
sleep 5.5	# the daemon rewrites state_dir/status.json every 5 s
st=$("$CTL" -c "$W/ampstream.conf" status); rc=$?
t_eq "ampstreamctl status while running: exit" 0 "$rc"
t_check "ampstreamctl status shows the stream's counters (got: $(echo "$st" | tr '\n' '|'))" \
    sh -c 'echo "$1" | grep -Eq "^stream s1 +connected +delivered 2, acked 2"' _ "$st"
t_check "ampstreamctl status shows the correlation" sh -c 'echo "$1" | grep -q "1 matched"' _ "$st"
daemon_stop; check_daemon_exit
"$CTL" -c "$W/ampstream.conf" status >/dev/null; rc=$?
t_eq "ampstreamctl status after the daemon stopped: exit" 3 "$rc"
t_check "counters: matched=1 in the log" grep -q 'matched=1 ' "$DLOG"
on_fail_show "$DLOG"
t_end

# --- 2. a pair split across a daemon restart still correlates (state_dir snapshot) -------------
t_begin "2-pair-across-restart"
mkwork t2; receiver_start "$W"; $AMQP declare "$BR" q2 >/dev/null; mkconf "$W" q2 "$RPORT"
daemon_start "$W"
publish q2 threat_detected_2_docs_pair.json
wait_d 15 records_ge 1
daemon_stop; check_daemon_exit
t_check "snapshot written to state_dir" test -s "$W/state/correlation.db"
mv "$DLOG" "$W/daemon-1.log"
daemon_start "$W"
publish q2 threat_quarantined_2_docs_pair.json
wait_d 15 records_ge 2; settle "$W/recv/parsed.jsonl"
R=$W/recv/parsed.jsonl
t_eq "outcome after restart: cs4" matched "$(cef "$R" 6533241145273614340 cs4)"
t_eq "outcome after restart: cs5 (exact 19-digit Detected id)" 6533241145273614339 "$(cef "$R" 6533241145273614340 cs5)"
t_eq "outcome after restart: cs2 (detection id)" 6533241145273614338 "$(cef "$R" 6533241145273614340 cs2)"
daemon_stop; check_daemon_exit
on_fail_show "$DLOG"
t_end

# --- 3. an outcome whose detection is unknown is forwarded at once, marked uncorrelated --------
t_begin "3-outcome-first-uncorrelated"
mkwork t3; receiver_start "$W"; $AMQP declare "$BR" q3 >/dev/null; mkconf "$W" q3 "$RPORT"
daemon_start "$W"
publish q3 quarantine_failure_1.json
wait_d 15 records_ge 1; settle "$W/recv/parsed.jsonl"
R=$W/recv/parsed.jsonl
t_eq "outcome first: cs4" uncorrelated "$(cef "$R" NAME="Quarantine Failure" cs4)"
t_eq "outcome first: outcome" failure "$(cef "$R" NAME="Quarantine Failure" outcome)"
t_eq "outcome first: cn1 (error code above INT32_MAX, exact)" 3221225524 "$(cef "$R" NAME="Quarantine Failure" cn1)"
t_eq "queue empty" "0 0" "$($AMQP count "$BR" q3)"
daemon_stop; check_daemon_exit
on_fail_show "$DLOG"
t_end

# --- 4. a detection with no outcome after unresolved_alert seconds yields one alert record -----
t_begin "4-unresolved-alert"
mkwork t4; receiver_start "$W"; $AMQP declare "$BR" q4 >/dev/null; mkconf "$W" q4 "$RPORT"
daemon_start "$W"
publish q4 threat_detected_3_stream_message.json
wait_d 15 records_ge 2; sleep 2; settle "$W/recv/parsed.jsonl"
R=$W/recv/parsed.jsonl
t_eq "alert record: cs4" unresolved "$(cef "$R" NAME="Unresolved Detection" cs4)"
t_eq "alert record: cs2 (detection id)" 12605922338023111 "$(cef "$R" NAME="Unresolved Detection" cs2)"
t_eq "alert record: cs1 (detection name)" Eicar-Test-Signature "$(cef "$R" NAME="Unresolved Detection" cs1)"
t_eq "alert record: cs5 (Detected event id, exact)" 1503580638684881251 "$(cef "$R" NAME="Unresolved Detection" cs5)"
t_check "alert record: cn3 (seconds open) >= 3" sh -c '[ "$1" -ge 3 ] 2>/dev/null' _ "$(cef "$R" NAME="Unresolved Detection" cn3)"
t_eq "exactly one alert" 1 "$(grep -c 'Unresolved Detection' "$W/events.jsonl")"
t_eq "JSON alert: correlation.state" unresolved "$(jcorr "$W/events.jsonl" "TYPE=Unresolved Detection" state)"
daemon_stop; check_daemon_exit
on_fail_show "$DLOG"
t_end

note "correlation suite: $(secs_since "$SUITE_T0") s"
summary
