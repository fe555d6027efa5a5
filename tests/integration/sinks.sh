#!/bin/sh
# Integration suite for the sinks other than tcp/file: a real private RabbitMQ node -> ampstream
# (ASan+UBSan build) -> real receivers:
#   tls     syslog-ng 3.38 over TLS (RFC 5425, mutual TLS with a per-run CA); a wrong CA is refused
#   json    rsyslog + mmjsonparse over tcp: ids exact (no float rounding)
#   udp     a datagram receiver: one datagram per record, <= 2048 bytes by default, no trailing
#           LF; a closed port is best effort (acked anyway, counted as failed)
#   syslog  a private AF_UNIX datagram socket as `path`: RFC 3164 with the `ampstream:` tag, no
#           trailing LF; absent socket -> records held, messages unacked; socket back -> all arrive
#   file    events over 12 KiB: nothing cut without max_record (JSON as received, CEF values
#           whole); an explicit max_record cuts
#   -n      framing on udp/syslog refused; a sink without type named at its own line
# usage: sh tests/integration/sinks.sh BUILD_DIR
# Prints `ok - NAME` / `not ok - NAME: reason` per test, figures as `# ` lines, and a closing
# `N passed, N failed`; exits non-zero if anything failed. One broker for the suite; every test
# has its own queue, receivers, state dir and temp files, all on 127.0.0.1 with free ports.
# Env: KEEP_TMP=1 keeps the temp dir; SINKS_ONLY="1 4" runs only those tests;
#      SINKS_TIME_LIMIT (default 170 s) bounds the whole suite;
#      SYSLOG_NG_ROOT (default /var/cache/ampstream-tests/syslog-ng, see tests/lib/syslog-ng-setup.sh).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$ROOT/tests/lib
. "$LIB/common.sh"
suite_init sinks "$@"
FIXDIR=$ROOT/tests/fixtures/events
FIX=$FIXDIR/all.jsonl
NFIX=$(grep -c . "$FIX")
export SYSLOG_NG_ROOT=${SYSLOG_NG_ROOT:-/var/cache/ampstream-tests/syslog-ng}

. "$LIB/daemon.sh"
note "sinks suite: temp dir $T, daemon $ASAN_BIN"

# The whole suite is bounded: past SINKS_TIME_LIMIT seconds the running test fails, the
# summary is printed and everything started is stopped (by the EXIT cleanup).
LIMIT=${SINKS_TIME_LIMIT:-170}
(i=0; while [ $i -lt "$LIMIT" ]; do sleep 1; i=$((i + 1)); done; kill -USR1 $$) &
at_exit "kill $!"
trap 'note "suite time limit ($LIMIT s) reached"
	if [ -n "$T_NAME" ]; then t_fail "suite time limit reached"; t_end; fi
	summary; exit 1' USR1

want() { [ -z "${SINKS_ONLY:-}" ] || case " $SINKS_ONLY " in *" $1 "*) ;; *) return 1 ;; esac; }

# --- helpers ------------------------------------------------------------------------------

# check MODE ARGS...: the suite's record checks, in Python (ids compared as exact digit strings:
# json with parse_int=str). Every line of output starting with "!" is a failed check.
check() {
	"$PY" - "$@" <<'PYEOF'
import json, re, sys
mode, args = sys.argv[1], sys.argv[2:]
def jl(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return [json.loads(l, parse_int=str) for l in f if l.strip()]
    except FileNotFoundError:
        return []
def fixture_ids(path):
    return sorted(e["id"] for e in jl(path))
def report(got, want, what):
    got, want = sorted(got), sorted(want)
    if got != want:
        miss = sorted(set(want) - set(got)); extra = sorted(set(got) - set(want))
        print("!%s: %d records, want %d; missing %s; unexpected %s"
              % (what, len(got), len(want), miss[:3], extra[:3]))
CEF_ID = re.compile(r"(?:^|[ |])externalId=([0-9]+)")
if mode == "syslog-ng":                # FILE FIXTURES APP: CEF over TLS, as syslog-ng parsed it
    recs = [r for r in jl(args[0]) if r.get("PROGRAM") == args[2]]
    for r in recs:
        if r.get("peer", {}).get("parsed_as") != "cef" or not r["MESSAGE"].startswith("CEF:0|"):
            print("!not CEF: %r" % r.get("MESSAGE", "")[:200])
    report([r.get("cef", {}).get("ext", {}).get("externalId", "-") for r in recs],
           fixture_ids(args[1]), "externalId at syslog-ng for %s" % args[2])
elif mode == "seq":                  # FILE APP FIRST LAST: CEF ids FIRST..LAST at syslog-ng
    ids = [r.get("cef", {}).get("ext", {}).get("externalId", "-")
           for r in jl(args[0]) if r.get("PROGRAM") == args[1]]
    want = set(str(i) for i in range(int(args[2]), int(args[3]) + 1))
    miss = sorted(want - set(ids), key=int)
    if miss:
        print("!%d ids missing, e.g. %s" % (len(miss), miss[:5]))
    print("# %s: %d records for %d events, %d duplicate(s)"
          % (args[1], len(ids), len(want), len(ids) - len(set(ids))))
elif mode == "json":                   # FILE FIXTURES: rsyslog receiver, JSON records
    recs = jl(args[0]); ids = []
    for r in recs:
        p = r.get("parsed", {})
        if p.get("peer") != {"parsed_as": "json", "parsesuccess": "OK"}:
            print("!not parsed as JSON by mmjsonparse: %r" % r.get("msg", "")[:200]); continue
        raw = json.loads(r["msg"], parse_int=str)       # the record's own text
        mm = p["json"]                                  # what mmjsonparse made of it
        if not (raw["id"] == mm["id"] == raw["ampstream"]["id_str"]):
            print("!id differs: text %s, mmjsonparse %s, id_str %s"
                  % (raw["id"], mm["id"], raw["ampstream"]["id_str"]))
        ids.append(raw["id"])
    report(ids, fixture_ids(args[1]), "JSON ids at rsyslog")
elif mode == "json-id":                # FILE ID: that exact id, as text and from mmjsonparse
    hits = [r for r in jl(args[0]) if '"id":%s,' % args[1] in r.get("msg", "").replace(" ", "")]
    if len(hits) != 1 or hits[0]["parsed"]["json"]["id"] != args[1]:
        print("!id %s not found exactly once with its digits intact (%d hits)" % (args[1], len(hits)))
elif mode == "dgrams":                 # FILE FIXTURES MAX: CEF in datagrams, one each
    recs = jl(args[0]); ids = []
    for r in recs:
        if int(r["len"]) > int(args[2]):
            print("!datagram of %s bytes > %s" % (r["len"], args[2]))
        m = CEF_ID.search(r["text"])
        if r["text"].count("CEF:0|") != 1 or not m:
            print("!not one CEF record: %r" % r["text"][:200]); continue
        ids.append(m.group(1))
    report(ids, fixture_ids(args[1]), "ids in datagrams")
    print("# largest CEF datagram: %d bytes" % max([int(r["len"]) for r in recs] or [0]))
elif mode == "dgram-sizes":            # FILE MAX: every datagram fits
    for r in jl(args[0]):
        if int(r["len"]) > int(args[1]):
            print("!datagram of %s bytes > %s" % (r["len"], args[1]))
elif mode == "dgram-no-lf":            # FILE: RFC 5426, /dev/log: no framing byte in a datagram
    recs = jl(args[0])
    lf = [r for r in recs if r["text"].endswith("\n") or "\n" in r["text"]]
    if not recs or lf:
        print("!%d of %d datagrams carry an LF, e.g. %r"
              % (len(lf), len(recs), lf[0]["text"][-40:] if lf else ""))
elif mode == "mk-big":                 # OUT: two events over 12 KiB, one per line
    # Synthetic, shaped like a SecureX Threat Hunting Incident (amp-api.md section 8:
    # threat_hunting.{incident_title,incident_summary,incident_remediation,...}, no id) and a
    # Cloud IOC whose CEF-mapped values (msg, filePath) alone pass 8 KiB.
    words = "lateral movement credential dumping scheduled task persistence powershell "
    def text(n, salt):
        t = (salt + " " + words) * (n // len(words) + 2)
        return t[:n - 1] + "."         # CEF trims a value's edge spaces
    th = {"event_type": "SecureX Threat Hunting Incident", "event_type_id": 1107296344,
          "timestamp": 1764010800, "timestamp_nanoseconds": 123000000,
          "date": "2025-11-24T19:00:00+00:00", "severity": "High",
          "connector_guid": "00000000-0000-0000-0000-000000000012",
          "computer": {"hostname": "big-host.example", "connector_guid":
                       "00000000-0000-0000-0000-000000000012", "active": True},
          "threat_hunting": {
              "incident_report_guid": "11111111-2222-3333-4444-555555555555",
              "incident_hunt_guid": "66666666-7777-8888-9999-000000000000",
              "incident_title": text(120, "title"),
              "incident_summary": text(6000, "summary"),
              "incident_remediation": text(687, "remediation"),
              "incident_id": 4242, "severity": "High",
              "incident_start_time": 1764010000, "incident_end_time": 1764010800,
              "tactics": [{"name": text(80, "t%d" % i), "external_id": "TA00%02d" % i,
                           "description": text(700, "tactic%d" % i)} for i in range(5)],
              "techniques": [{"name": text(80, "k%d" % i), "external_id": "T1%03d" % i,
                              "description": text(700, "technique%d" % i)}
                             for i in range(3)]}}
    ioc = {"id": 6533241347137077900, "event_type": "Cloud IOC", "event_type_id": 1107296274,
           "timestamp": 1764010801, "date": "2025-11-24T19:00:01+00:00", "severity": "Medium",
           "connector_guid": "00000000-0000-0000-0000-000000000012",
           "computer": {"hostname": "big-host.example"},
           "file": {"file_name": "evil.exe", "file_path": "/C:/" + text(3000, "dir").replace(" ", "/"),
                    "identity": {"sha256": "a" * 64}},
           "cloud_ioc": {"short_description": text(10000, "short"),
                         "description": text(2000, "description")}}
    with open(args[0], "w") as f:
        for e in (th, ioc):
            line = json.dumps(e, separators=(",", ":"))
            assert len(line) > 12288, len(line)
            f.write(line + "\n")
elif mode == "big-json":               # FILE EVENTS: the events as received, nothing cut
    sent = [json.loads(l, parse_int=str) for l in open(args[1]) if l.strip()]
    got = jl(args[0])
    if len(got) != len(sent):
        print("!%d JSON lines, want %d" % (len(got), len(sent)))
    for e, r in zip(sent, got):
        meta = r.pop("ampstream", {})
        if "truncated" in meta:
            print("!%s: marked truncated" % e["event_type"])
        if r != e:
            diff = [k for k in set(e) | set(r) if e.get(k) != r.get(k)]
            print("!%s: differs from the event as received in %s" % (e["event_type"], diff))
    for r in got:
        if "threat_hunting" in r:
            print("# incident_remediation: %d characters in the file"
                  % len(r["threat_hunting"]["incident_remediation"]))
elif mode == "big-cef":                # FILE EVENTS: the long CEF values whole
    sent = [json.loads(l) for l in open(args[1]) if l.strip()]
    with open(args[0], encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    if len(lines) != len(sent):
        print("!%d CEF lines, want %d" % (len(lines), len(sent)))
    ioc = sent[1]
    big = [l for l in lines if "externalId=%d" % ioc["id"] in l]
    if len(big) != 1:
        print("!the Cloud IOC's CEF record not found"); sys.exit()
    l = big[0]
    for key, v in (("msg", ioc["cloud_ioc"]["short_description"]),
                   ("filePath", ioc["file"]["file_path"])):
        if (" %s=%s " % (key, v)) not in l and not l.endswith(" %s=%s" % (key, v)):
            print("!%s is not whole in the CEF record (%d bytes)" % (key, len(l)))
    print("# CEF record of the Cloud IOC: %d bytes" % len(l.encode()))
elif mode == "capped":                 # FILE MAX: every line fits MAX (LF included), cut values
    with open(args[0], "rb") as f:
        lines = f.read().split(b"\n")[:-1]
    if not lines:
        print("!no lines")
    for l in lines:
        if len(l) + 1 > int(args[1]):
            print("!a line of %d bytes + LF > max_record %s" % (len(l), args[1]))
        if b'"truncated":true' not in l:
            print("!a line without \"truncated\":true: %r" % l[:80])
elif mode == "rfc3164":                # FILE FIXTURES: local syslog datagrams
    pat = re.compile(r"^<[0-9]{1,3}>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} "
                     r"[!-~]+ ampstream: CEF:0\|")
    recs = jl(args[0]); ids = []
    for r in recs:
        if not pat.match(r["text"]):
            print("!not RFC 3164 with the ampstream: tag: %r" % r["text"][:120]); continue
        ids.append(CEF_ID.search(r["text"]).group(1))
    report(ids, fixture_ids(args[1]), "ids at the syslog socket")
else:
    sys.exit("check: unknown mode " + mode)
PYEOF
}
# t_pycheck DESC MODE ARGS...: run check; any "!" line fails the test, "#" lines are notes
t_pycheck() {
	_d=$1; shift
	_o=$(check "$@" 2>&1)
	printf '%s\n' "$_o" | grep '^#'
	if printf '%s\n' "$_o" | grep -q '^[^#]'; then
		t_fail "$_d: $(printf '%s\n' "$_o" | grep '^[^#]' | head -n 3 | tr '\n' '|')"
	else
		t_pass
	fi
}

lines_ge() { [ "$(nlines "$1")" -ge "$2" ]; }

# mkconf_sinks QUEUE SINKS: W/ampstream.conf, one stream on QUEUE feeding SINKS (libconfig text)
mkconf_sinks() {
	cat > "$W/ampstream.conf" <<EOF
# generated by tests/integration/sinks.sh
state_dir = "$W/state";
log_level = "debug";
clouds = (
  { name = "eu"; api_url = "https://api.eu.amp.cisco.com"; group_names = false;
    computer_details = false;
    client_id = "0123456789abcdef0123"; api_key_file = "$W/api_key"; }
);
streams = (
  { name = "s1"; cloud = "eu"; url = "amqp://127.0.0.1:$BROKER_PORT/"; user = "$BROKER_USER";
    password_file = "$BROKER_PASSWORD_FILE"; queue = "$1"; prefetch = 200; }
);
sinks = (
$2
);
EOF
	chmod 0600 "$W/ampstream.conf"
}

# daemon_stop_check: SIGTERM, then exit code 0 and no sanitizer (incl. leak) report
daemon_stop_check() { daemon_stop 20; check_daemon_exit; }
# t_start NAME / t_done: t_begin / t_end with the test's duration as a note
t_start() { t_begin "$1"; TT0=$(now_ms); }
t_done() { note "$T_NAME: $(secs_since "$TT0") s"; t_end; }
# log_count_ge RE N: at least N daemon log lines match RE
log_count_ge() { [ "$(grep -c "$1" "$DLOG")" -ge "$2" ]; }
sink_counters() { grep -E "sink $1: sent=" "$DLOG" | tail -n 1; }

# dgram_start KIND WHERE OUT: tests/lib/dgram-recv.py in the background (RPID)
dgram_start() {
	"$PY" "$LIB/dgram-recv.py" "$@" </dev/null >"$3.log" 2>&1 &
	RPID=$!
	at_exit "kill_if_ours $RPID dgram-recv"
}
dgram_stop() { stop_pid "$1" 5; wait "$1" 2>/dev/null; return 0; }

# syslog-ng: installed into a cache dir by tests/lib/syslog-ng-setup.sh (also run by
# `make deps`); done here when missing and we are root.
SNG_OK=1
if ! [ -x "$SYSLOG_NG_ROOT/usr/sbin/syslog-ng" ]; then
	if [ "$(id -u)" = 0 ]; then
		sh "$LIB/syslog-ng-setup.sh" "$SYSLOG_NG_ROOT" >"$T/syslog-ng-setup.out" 2>&1 || SNG_OK=0
	else
		SNG_OK=0
	fi
fi

# Tests 2, 6 and 7 check what a sink itself does while it cannot deliver: hold its records, so
# the messages stay unacknowledged. Where the daemon has a disk spool for down sinks
# (spool_max_bytes), those sinks get it switched off.
NOSPOOL=""
mkdir -p "$T/probe"
printf '%s\n' 'state_dir = "/nonexistent";' \
    'streams = ( { name = "s"; url = "amqp://127.0.0.1/"; user = "u";' \
    '  password_file = "/nonexistent"; queue = "q"; } );' \
    'sinks = ( { name = "x"; type = "syslog"; spool_max_bytes = 0; } );' > "$T/probe/spool.conf"
"$ASAN_BIN" -n -c "$T/probe/spool.conf" 2>&1 | grep -q 'spool_max_bytes: unknown key' ||
    NOSPOOL="spool_max_bytes = 0;"

# --- start the suite's broker --------------------------------------------------------------
NAMES="1-tls-syslog-ng 2-tls-wrong-ca 3-json-rsyslog 4-udp 4b-udp-json-datagram-cap
4c-udp-no-trailing-lf 5-udp-closed-port 6-syslog-socket
7-tls-receiver-restart 8-file-big-events 9-config-refusals"
if [ ! -x "$ASAN_BIN" ]; then
	t_fail_all "daemon binary missing ($ASAN_BIN)" $NAMES
	summary; exit 1
fi
suite_broker_start

# The per-run PKI: server (CN=localhost, SAN localhost + 127.0.0.1), an unrelated CA, and a
# client certificate for mutual TLS.
PKI=$T/pki
sh "$LIB/tlsca.sh" "$PKI"
(cd "$PKI" && umask 077 &&
 openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key \
     -out client.csr -subj "/CN=ampstream test client" 2>/dev/null &&
 printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' > client.ext &&
 openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem \
     -days 2 -extfile client.ext 2>/dev/null && rm -f client.csr client.ext ca.srl)

# sng_start [PORT]: the syslog-ng TLS receiver in $T/sng (SNG_PORT), output SNG_OUT
sng_start() {
	[ "$SNG_OK" = 1 ] || return 1
	sh "$LIB/syslog-ng-tls.sh" start "$T/sng" "$PKI/server.pem" "$PKI/server.key" \
	    "$PKI/ca.pem" ${1:-} > "$T/sng-start.out" 2>&1 || return 1
	at_exit "sh '$LIB/syslog-ng-tls.sh' stop '$T/sng'"
	SNG_PORT=$(cat "$T/sng/port")
}
SNG_OUT=$T/sng/parsed.jsonl
# sng_up: syslog-ng is running (started if needed), or the test fails saying why
sng_up() {
	[ -n "${SNG_PORT:-}" ] && return 0
	sng_start && return 0
	t_fail "syslog-ng did not start: $(tail -n 3 "$T/sng-start.out" "$T/syslog-ng-setup.out" 2>/dev/null | tr '\n' '|')"
	return 1
}
tls_sink() {	# NAME HOST CA_FILE APP: a tls sink with the client certificate
	printf '  { name = "%s"; type = "tls"; host = "%s"; port = %s; format = "cef";
    ca_file = "%s"; cert_file = "%s"; key_file = "%s"; app_name = "%s"; %s }' \
	    "$1" "$2" "$SNG_PORT" "$3" "$PKI/client.pem" "$PKI/client.key" "$4" "$NOSPOOL"
}

# --- 1. CEF over TLS to syslog-ng: by name (SNI + name check) and by IP address -------------
if want 1; then
t_start "1-tls-syslog-ng"
mkwork t1
$AMQP declare "$BR" q1 && $AMQP publish "$BR" q1 "$FIX" 2>/dev/null
if sng_up; then
	mkconf_sinks q1 "$(tls_sink byname localhost "$PKI/ca.pem" amp-name),
$(tls_sink byip 127.0.0.1 "$PKI/ca.pem" amp-ip)"
	daemon_start "$W"
	wait_d 30 lines_ge "$SNG_OUT" $((2 * NFIX)) &&
	    note "tls: $((2 * NFIX)) records at syslog-ng $(secs_since "$DSTART") s after start (ASan build)"
	wait_d 20 queue_is q1 "0 0"
	settle "$SNG_OUT"
	t_pycheck "sink byname (host localhost)" syslog-ng "$SNG_OUT" "$FIX" amp-name
	t_pycheck "sink byip (host 127.0.0.1)" syslog-ng "$SNG_OUT" "$FIX" amp-ip
	t_eq "queue q1 (ready unacked)" "0 0" "$($AMQP count "$BR" q1)"
	t_check "log: no TLS session with a verified peer for both sinks" \
	    test "$(grep -c 'TLSv1.[23], .*peer verified as' "$DLOG")" -ge 2
	grep -m1 'peer verified as' "$DLOG" | sed 's/^/# /'
	daemon_stop_check
	t_check "counters: sink byname: sent=$NFIX (got '$(sink_counters byname)')" \
	    sh -c 'echo "$1" | grep -q "sent=$2 failed=0"' _ "$(sink_counters byname)" "$NFIX"
fi
on_fail_show "$DLOG" "$T/sng/syslog-ng.log"
t_done
fi

# --- 2. a wrong CA, a host the certificate does not name: refused, logged, nothing arrives, the
# messages stay queued -----------------------------------------------------------------------
if want 2; then
t_start "2-tls-wrong-ca"
mkwork t2
N=10
$AMQP declare "$BR" q2 && $AMQP seq "$BR" q2 "$N" 2>/dev/null
if sng_up; then
	before=$(nlines "$SNG_OUT")
	mkconf_sinks q2 "$(tls_sink wrongca localhost "$PKI/wrong-ca.pem" amp-wrong),
$(tls_sink wrongip 127.0.0.2 "$PKI/ca.pem" amp-wrong)"
	daemon_start "$W"
	wait_d 15 log_count_ge 'certificate verify failed' 2
	sleep 2
	t_check "log says 'certificate verify failed' for the wrong CA (log: $(grep -m1 'sink wrongca' "$DLOG"))" \
	    grep -q 'sink wrongca: cannot connect to localhost:[0-9]*: TLS handshake: certificate verify failed' "$DLOG"
	t_check "log says 'IP address mismatch' for 127.0.0.2 (log: $(grep -m1 'sink wrongip' "$DLOG"))" \
	    grep -q 'sink wrongip: cannot connect to 127.0.0.2:[0-9]*: TLS handshake: certificate verify failed: IP address mismatch' "$DLOG"
	grep -m2 'certificate verify failed' "$DLOG" | sed 's/^/# /'
	t_eq "records at syslog-ng with the wrong CA" "$before" "$(nlines "$SNG_OUT")"
	t_eq "messages held in q2 (ready+unacked)" "$N" "$(queue_total q2)"
	daemon_stop_check
	t_eq "queue q2 after the daemon stopped (ready unacked)" "$N 0" "$($AMQP count "$BR" q2)"
fi
on_fail_show "$DLOG"
t_done
fi

# --- 3. JSON to rsyslog (mmjsonparse): ids exact -------------------------------------------
if want 3; then
t_start "3-json-rsyslog"
mkwork t3
$AMQP declare "$BR" q3 && $AMQP publish "$BR" q3 "$FIX" 2>/dev/null
if receiver_start "$W"; then
	mkconf_sinks q3 "  { name = \"json\"; type = \"tcp\"; host = \"127.0.0.1\";
    port = $RPORT; format = \"json\"; }"
	daemon_start "$W"
	wait_d 30 lines_ge "$W/recv/parsed.jsonl" "$NFIX"
	wait_d 20 queue_is q3 "0 0"
	settle "$W/recv/parsed.jsonl"
	t_pycheck "JSON records" json "$W/recv/parsed.jsonl" "$FIX"
	id=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$FIXDIR/threat_detected_3_stream_message.json")
	t_eq "id of threat_detected_3_stream_message.json" 1503580638684881251 "$id"
	t_pycheck "stream message id" json-id "$W/recv/parsed.jsonl" 1503580638684881251
	t_eq "queue q3 (ready unacked)" "0 0" "$($AMQP count "$BR" q3)"
	daemon_stop_check
	receiver_stop "$W"
else
	t_fail "rsyslog receiver did not start"
fi
on_fail_show "$DLOG" "$W/recv/rsyslogd.log"
t_done
fi

# --- 4. UDP: one datagram per record, within 2048 bytes by default -------------------------
if want 4; then
t_start "4-udp"
mkwork t4
M=300
$AMQP declare "$BR" q4 && $AMQP publish "$BR" q4 "$FIX" 2>/dev/null
dgram_start udp "$W/cef.port" "$W/cef.jsonl"; P1=$RPID
dgram_start udp "$W/json.port" "$W/json.jsonl"; P2=$RPID
wait_for 5 test -s "$W/cef.port" && wait_for 5 test -s "$W/json.port"
mkconf_sinks q4 "  { name = \"ucef\"; type = \"udp\"; host = \"127.0.0.1\"; port = $(cat "$W/cef.port");
    format = \"cef\"; },
  { name = \"ujson\"; type = \"udp\"; host = \"127.0.0.1\"; port = $(cat "$W/json.port");
    format = \"json\"; }"
daemon_start "$W"
wait_d 30 lines_ge "$W/cef.jsonl" "$NFIX"
wait_d 20 queue_is q4 "0 0"
settle "$W/cef.jsonl"
t_pycheck "CEF datagrams" dgrams "$W/cef.jsonl" "$FIX" 2048
t_eq "JSON datagrams (events that did not fit max_record 2048: $(grep -c 'does not fit sink ujson' "$DLOG"))" \
    "$NFIX" "$(nlines "$W/json.jsonl")"
# a burst: loopback does not drop at this rate
$AMQP seq "$BR" q4 "$M" --start 1 2>/dev/null
wait_d 30 lines_ge "$W/cef.jsonl" $((NFIX + M))
wait_d 20 queue_is q4 "0 0"
settle "$W/cef.jsonl"
t_eq "CEF datagrams after $M more events" $((NFIX + M)) "$(nlines "$W/cef.jsonl")"
t_eq "queue q4 (ready unacked)" "0 0" "$($AMQP count "$BR" q4)"
daemon_stop_check
dgram_stop "$P1"; dgram_stop "$P2"
on_fail_show "$DLOG" "$W/cef.jsonl.log"
t_done
# The default cap holds for the whole datagram (RFC 5426: the datagram is the syslog message),
# also for JSON records truncated to fit.
t_start "4b-udp-json-datagram-cap"
t_pycheck "JSON datagram sizes" dgram-sizes "$W/json.jsonl" 2048
t_done
# RFC 5426: the datagram is the message, with no framing byte after it.
t_start "4c-udp-no-trailing-lf"
t_pycheck "CEF datagrams" dgram-no-lf "$W/cef.jsonl"
t_pycheck "JSON datagrams" dgram-no-lf "$W/json.jsonl"
t_done
fi

# --- 5. UDP to a closed port: best effort, acked anyway, counted as failed, logged once -----
if want 5; then
t_start "5-udp-closed-port"
mkwork t5
N=20
$AMQP declare "$BR" q5
mkconf_sinks q5 "  { name = \"void\"; type = \"udp\"; host = \"127.0.0.1\"; port = $(freeport); }"
daemon_start "$W"
for i in 1 2 3 4; do $AMQP seq "$BR" q5 $((N / 4)) --start $((i * 100)) 2>/dev/null; sleep 0.3; done
wait_d 20 queue_is q5 "0 0"
t_eq "queue q5 (ready unacked): UDP is best effort" "0 0" "$($AMQP count "$BR" q5)"
daemon_stop_check
t_check "counters: sink void: sent=$N with failed >= 1 (got '$(sink_counters void)')" \
    sh -c 'echo "$1" | grep -Eq "sent=$2 failed=[1-9]"' _ "$(sink_counters void)" "$N"
t_eq "'Connection refused' warnings (once per transition)" 1 "$(grep -c 'sink void: .*Connection refused' "$DLOG")"
on_fail_show "$DLOG"
t_done
fi

# --- 6. local syslog socket: absent -> held; there -> all arrive; gone and back -> no loss ---
if want 6; then
t_start "6-syslog-socket"
mkwork t6
SOCK=$W/log.sock
$AMQP declare "$BR" q6 && $AMQP publish "$BR" q6 "$FIX" 2>/dev/null
mkconf_sinks q6 "  { name = \"local\"; type = \"syslog\"; path = \"$SOCK\"; $NOSPOOL }"
daemon_start "$W"
wait_d 10 grep -q "sink local: cannot connect to $SOCK" "$DLOG"
sleep 2
t_eq "messages held while $SOCK is absent (ready+unacked)" "$NFIX" "$(queue_total q6)"
t_check "daemon alive without its syslog socket" proc_alive "$DPID"
t1=$(now_ms)
dgram_start unix "$SOCK" "$W/got.jsonl"; P1=$RPID
wait_d 40 lines_ge "$W/got.jsonl" "$NFIX" &&
    note "syslog socket appeared: $NFIX records after $(secs_since "$t1") s (reconnect backoff)"
wait_d 20 queue_is q6 "0 0"
settle "$W/got.jsonl"
t_pycheck "datagrams at $SOCK" rfc3164 "$W/got.jsonl" "$FIX"
t_pycheck "datagrams at $SOCK without a trailing LF" dgram-no-lf "$W/got.jsonl"
t_eq "queue q6 (ready unacked)" "0 0" "$($AMQP count "$BR" q6)"
# the local syslog daemon goes away and comes back: nothing is lost
dgram_stop "$P1"
$AMQP seq "$BR" q6 5 --start 1 2>/dev/null
sleep 2
t_eq "messages held while the receiver is gone (ready+unacked)" 5 "$(queue_total q6)"
dgram_start unix "$SOCK" "$W/got2.jsonl"; P2=$RPID
wait_d 40 lines_ge "$W/got2.jsonl" 5
wait_d 20 queue_is q6 "0 0"
t_eq "records after the receiver came back" 5 "$(nlines "$W/got2.jsonl")"
t_eq "queue q6 at the end (ready unacked)" "0 0" "$($AMQP count "$BR" q6)"
daemon_stop_check
dgram_stop "$P2"
on_fail_show "$DLOG" "$W/got.jsonl.log"
t_done
fi

# --- 7. TLS receiver stopped and restarted: records held, then resent, nothing lost --------
if want 7; then
t_start "7-tls-receiver-restart"
mkwork t7
M=200
$AMQP declare "$BR" q7
if sng_up; then
	mkconf_sinks q7 "$(tls_sink restart localhost "$PKI/ca.pem" amp-restart)"
	daemon_start "$W"
	$AMQP seq "$BR" q7 5 --start 1 2>/dev/null
	wait_d 30 queue_is q7 "0 0" || t_fail "first 5 events not acked with syslog-ng up"
	sh "$LIB/syslog-ng-tls.sh" stop "$T/sng"
	$AMQP seq "$BR" q7 "$M" --start 6 2>/dev/null
	sleep 3
	t_eq "messages held with syslog-ng down (ready+unacked)" "$M" "$(queue_total q7)"
	t1=$(now_ms)
	sng_start "$SNG_PORT" || t_fail "syslog-ng did not restart on port $SNG_PORT"
	wait_d 60 queue_is q7 "0 0" &&
	    note "tls: syslog-ng back, $M held events acked after $(secs_since "$t1") s"
	settle "$SNG_OUT"
	t_pycheck "ids at syslog-ng" seq "$SNG_OUT" amp-restart 1 $((M + 5))
	t_eq "queue q7 (ready unacked)" "0 0" "$($AMQP count "$BR" q7)"
	daemon_stop_check
fi
on_fail_show "$DLOG" "$T/sng/syslog-ng.log"
t_done
fi

# --- 8. events over 12 KiB through file sinks: nothing cut without max_record; cut with it ----
if want 8; then
t_start "8-file-big-events"
mkwork t8
check mk-big "$W/big.jsonl"
$AMQP declare "$BR" q8 && $AMQP publish "$BR" q8 "$W/big.jsonl" 2>/dev/null
mkconf_sinks q8 "  { name = \"fjson\"; type = \"file\"; path = \"$W/big.json.jsonl\"; format = \"json\"; },
  { name = \"fcef\"; type = \"file\"; path = \"$W/big.cef\"; format = \"cef\"; },
  { name = \"fcap\"; type = \"file\"; path = \"$W/capped.jsonl\"; format = \"json\";
    max_record = 8192; }"
daemon_start "$W"
wait_d 20 queue_is q8 "0 0"
t_pycheck "JSON file sink" big-json "$W/big.json.jsonl" "$W/big.jsonl"
t_pycheck "CEF file sink" big-cef "$W/big.cef" "$W/big.jsonl"
t_pycheck "JSON file sink with max_record = 8192" capped "$W/capped.jsonl" 8192
t_eq "queue q8 (ready unacked)" "0 0" "$($AMQP count "$BR" q8)"
daemon_stop_check
on_fail_show "$DLOG"
t_done
fi

# --- 9. ampstream -n refuses framing on a datagram sink, and a sink without a type, naming
# the setting's own line ---------------------------------------------------------------------
if want 9; then
t_start "9-config-refusals"
mkwork t9
# refuse FILE RE: ampstream -n exits 1 and prints a line matching RE
refuse() {
	_o=$("$ASAN_BIN" -n -c "$1" 2>&1); _rc=$?
	t_eq "-n on $(basename "$1"): exit" 1 "$_rc"
	t_check "-n on $(basename "$1"): no line '$2' in: $(echo "$_o" | head -3 | tr '\n' '|')" \
	    sh -c 'echo "$1" | grep -Eq "$2"' _ "$_o" "$2"
	echo "$_o" | head -2 | sed 's/^/# /'
}
mkconf_sinks q9 "  { name = \"u\"; type = \"udp\"; host = \"127.0.0.1\"; port = 514;
    framing = \"lf\"; }"
cp "$W/ampstream.conf" "$W/framing.conf"
# lineof FILE RE: the number of the first line of FILE matching RE
lineof() { grep -n -m1 -E "$2" "$1" | cut -d: -f1; }
refuse "$W/framing.conf" "^[^ ]*framing\\.conf:$(lineof "$W/framing.conf" 'framing ='): sinks\\.\\[0\\]\\.framing: not used by type \"udp\""
mkconf_sinks q9 "  { name = \"l\"; type = \"syslog\"; framing = \"octet\"; }"
cp "$W/ampstream.conf" "$W/framing2.conf"
refuse "$W/framing2.conf" "^[^ ]*framing2\\.conf:$(lineof "$W/framing2.conf" 'framing ='): sinks\\.\\[0\\]\\.framing: not used by type \"syslog\""
mkconf_sinks q9 "  { name = \"a\"; type = \"file\"; path = \"$W/a.jsonl\"; },
  { name = \"notype\";
    host = \"127.0.0.1\";
    port = 514;
  },
  { name = \"b\"; type = \"file\"; path = \"$W/b.jsonl\"; }"
cp "$W/ampstream.conf" "$W/notype.conf"
# the sink's own line (where its group opens), not the line of a member or of the list's end
refuse "$W/notype.conf" "^[^ ]*notype\\.conf:$(lineof "$W/notype.conf" 'name = "notype"'): sinks\\.\\[1\\]\\.type: missing\$"
t_done
fi

note "sinks suite: $(secs_since "$SUITE_T0") s"
summary
