#!/bin/sh
# ctl.sh: ampstreamctl against the AMP REST API emulator (tests/emulator), over HTTPS with a
# per-run test CA; one emulator per scenario, each on 127.0.0.1 on a port the kernel picks,
# stopped by pid.  With RabbitMQ installed, also the create path into a real (private) broker.
# usage: sh tests/integration/ctl.sh BUILD_DIR
# Uses BUILD_DIR/asan/ampstreamctl (ASan+UBSan, leaks fatal) when it exists, else
# BUILD_DIR/ampstreamctl (CTL_PLAIN=1 forces the plain binary).  Ends with `N passed, N failed`.
set -u
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$ROOT/tests/lib
. "$LIB/common.sh"
BUILD=$(cd "$1" 2>/dev/null && pwd) || { echo "no build dir $1" >&2; exit 2; }
CTL=$BUILD/ampstreamctl
[ -z "${CTL_PLAIN:-}" ] && [ -x "$BUILD/asan/ampstreamctl" ] && CTL=$BUILD/asan/ampstreamctl
DAEMON=$BUILD/ampstream
EMU=$ROOT/tests/emulator/amp_api_emulator.py
export ASAN_OPTIONS=detect_leaks=1:exitcode=23
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
install_traps

mk_tmpdir ctl || exit 2
T=${TMPD:-}
case $T in /?*) [ -d "$T" ] || exit 2 ;; *) echo "ctl.sh: no temp dir" >&2; exit 2 ;; esac
OUT=$T/out; ERR=$T/err; ALL=$T/all-output
: > "$ALL"
note "ampstreamctl: $CTL"
sh "$LIB/tlsca.sh" "$T/pki" || { echo "tlsca.sh failed" >&2; exit 2; }
CLIENT_ID=0123456789abcdef0123
API_KEY=5f0c1d2e-aa11-4b7e-9c3d-SECRETKEY0042
KEY=$T/api.key
(umask 077; printf '%s\n' "$API_KEY" > "$KEY")
BADKEY=$T/bad.key
(umask 077; printf 'not-the-key\n' > "$BADKEY")
AUTH_B64=$(printf '%s:%s' "$CLIENT_ID" "$API_KEY" | base64 -w0)

# --- helpers --------------------------------------------------------------------------------

# write_conf FILE PORT KEYFILE [CA_FILE]: a config with one cloud pointing at the emulator.
write_conf() {
	{
		echo "state_dir = \"$STATE\";"
		echo "clouds = ("
		echo "  { name = \"emu\";"
		echo "    api_url = \"https://127.0.0.1:$2\";"
		echo "    client_id = \"$CLIENT_ID\";"
		echo "    api_key_file = \"$3\";"
		[ -n "${4:-}" ] && echo "    ca_file = \"$4\";"
		echo "  }"
		echo ");"
	} > "$1"
}

# emu_start NAME [emulator options...]: start an emulator; sets EMU_PID EMU_PORT EMU_LOG CONF STATE.
emu_start() {
	_n=$1; shift
	EMU_LOG=$T/$_n.requests; STATE=$T/$_n.state; CONF=$T/$_n.conf
	mkdir -p "$STATE"; chmod 0700 "$STATE"; : > "$EMU_LOG"
	"$PY" "$EMU" --port-file "$T/$_n.port" --cert "$T/pki/server.pem" --key "$T/pki/server.key" \
	    --client-id "$CLIENT_ID" --api-key-file "$KEY" --log "$EMU_LOG" "$@" \
	    </dev/null >"$T/$_n.emu-err" 2>&1 &
	EMU_PID=$!
	at_exit "kill_if_ours $EMU_PID amp_api_emulator"
	if ! wait_for 15 test -s "$T/$_n.port"; then
		note "emulator $_n did not start"; show_tail "$T/$_n.emu-err"
		EMU_PORT=1; write_conf "$CONF" 1 "$KEY" "$T/pki/ca.pem"
		return 1
	fi
	EMU_PORT=$(cat "$T/$_n.port")
	write_conf "$CONF" "$EMU_PORT" "$KEY" "$T/pki/ca.pem"
}
emu_stop() { stop_pid "$EMU_PID" 5; }

# ctl ARGS...: run ampstreamctl with $CONF; stdout in $OUT, stderr in $ERR, status in $RC,
# wall time in $ELAPSED_MS.
ctl() {
	_t0=$(now_ms)
	"$CTL" -c "$CONF" "$@" </dev/null >"$OUT" 2>"$ERR"; RC=$?
	ELAPSED_MS=$(( $(now_ms) - _t0 ))
	{ printf '### ampstreamctl %s\n' "$*"; cat "$OUT" "$ERR"; } >> "$ALL"
}
rc_is() { t_eq "exit status of ampstreamctl $2" "$1" "$RC"; }
out_has() { if grep -qF -- "$1" "$OUT"; then t_pass; else t_fail "stdout lacks '$1'"; fi; }
out_lacks() { if grep -qF -- "$1" "$OUT"; then t_fail "stdout has '$1'"; else t_pass; fi; }
err_has() { if grep -qiF -- "$1" "$ERR"; then t_pass; else t_fail "stderr lacks '$1'"; fi; }
# requests PATTERN: how many emulator requests match the extended regex
requests() { grep -cE -- "$1" "$EMU_LOG"; }
# done_test: end the test, with stderr as context when it failed.
done_test() {
	[ -z "$T_REASONS" ] || { show_tail "$ERR" 6; show_tail "$OUT" 4; }
	t_end
}
# waited_secs: the N of the "waiting N s" notices on stderr, summed.
waited_secs() {
	sed -n 's/.*; waiting \([0-9]*\) s$/\1/p' "$ERR" | awk '{ s += $1 } END { print s + 0 }'
}

# --- basic commands ---------------------------------------------------------------------------

emu_start main --groups 1200 --api-version v1.2.7

t_begin "test: host, region, API version from /v1/version"
ctl test
rc_is 0 test
out_has "host: 127.0.0.1"
out_has "region: private"
out_has "api version: v1.2.7"
t_eq "requests made" 1 "$(requests '^GET /v1/version 200')"
done_test

t_begin "test with the plain (non-sanitized) binary"
_c=$CTL; CTL=$BUILD/ampstreamctl; ctl test; CTL=$_c
rc_is 0 test
out_has "api version: v1.2.7"
done_test

t_begin "event-types: all 101, ids above 2^31 exact"
ctl event-types
rc_is 0 event-types
t_eq "event types listed" 101 "$(wc -l < "$OUT")"
out_has "1090519054  Threat Detected"
out_has "2181038130  Quarantine Request Failed to be Delivered"
done_test

t_begin "groups: 1200 groups over 3 pages, following metadata.links.next"
: > "$EMU_LOG"
ctl groups
rc_is 0 groups
t_eq "groups listed" 1200 "$(wc -l < "$OUT")"
out_has "Group 1200"
t_eq "pages fetched" 3 "$(requests '^GET /v1/groups')"
t_eq "third page is offset 1000" 1 "$(requests '^GET /v1/groups\?limit=500&offset=1000 200')"
done_test

t_begin "groups --json: every group with guid and name"
ctl groups --json
rc_is 0 "groups --json"
t_eq "groups in JSON" 1200 "$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for g in d if g["guid"] and g["name"]))' "$OUT" 2>&1)"
done_test

t_begin "create with a typo: close match listed, exit 1, nothing created"
: > "$EMU_LOG"
ctl create typo --type "Threat Detcted" --group Audit
rc_is 1 "create --type 'Threat Detcted'"
err_has 'unknown event type "Threat Detcted"'
err_has '"Threat Detected"'
t_eq "POST requests" 0 "$(requests '^POST')"
t_eq "password files" 0 "$(ls "$T" | grep -c "\.password$")"
done_test

t_begin "create with an unknown group: close matches, exit 1"
ctl create typo --type "Threat Detected" --group "Linux Server"
rc_is 1 "create --group 'Linux Server'"
err_has 'unknown group "Linux Server"'
err_has '"Linux Servers"'
done_test

t_begin "create by name: password file next to the config, 0600 without the service group, streams block, next steps"
: > "$EMU_LOG"
ctl create "threats only" --type "Threat Detected" --type "threat quarantined" --type 2164260880 \
    --group Audit --group "Group 1103" --service-group no-such-group-ampstream
rc_is 0 "create named"
PW=$T/threats_only.password
t_check "password file exists" test -f "$PW"
t_eq "password file mode" "600 root" "$(stat -c '%a %U' "$PW" 2>/dev/null)"
out_has "chown root:no-such-group-ampstream $PW && chmod 0640 $PW"
out_has "ampstream -n -u no-such-group-ampstream -c $CONF"
out_has "systemctl enable --now ampstream"
t_check "password is 40 hex" grep -qxE '[0-9a-f]{40}' "$PW"
out_has "AMQP URL: amqps://export-streaming.amp.cisco.com:443/"
out_has "queue:    event_stream_1474"
out_has 'streams = ('
out_has '  { name = "threats_only";'
out_has "    password_file = \"$PW\";"
out_has '    queue = "event_stream_1474";'
out_has '    url = "amqps://export-streaming.amp.cisco.com:443/";'
out_lacks "$(cat "$PW" 2>/dev/null || echo no-password-file)"
t_eq "POST requests" 1 "$(requests '^POST /v1/event_streams 201')"
done_test

t_begin "list: the stream's event types and groups by name"
ctl list
rc_is 0 list
out_has "1474  threats only"
out_has "  event types (3):"
out_has "    Threat Detected"
out_has "    Threat Quarantined"
out_has "    Quarantine Failure"
out_has "  groups (2):"
out_has "    Audit"
out_has "    Group 1103"
out_has "queue event_stream_1474"
done_test

t_begin "create --all: every event type and every group (all pages); root:GROUP 0640 when the group exists"
: > "$EMU_LOG"
SGRP=$(id -gn nobody)
ctl create everything --all --service-group "$SGRP"
rc_is 0 "create --all"
t_eq "password file owner, group, mode" "root $SGRP 640" \
    "$(stat -c '%U %G %a' "$T/everything.password" 2>/dev/null)"
out_has "(root:$SGRP 0640; shown only once)"
out_lacks "chown"
t_eq "group pages fetched" 3 "$(requests '^GET /v1/groups')"
ctl list --json
rc_is 0 "list --json"
t_eq "event types and groups of 'everything'" "101 1200 False False" "$("$PY" -c '
import json, sys
d = [s for s in json.load(open(sys.argv[1])) if s["name"] == "everything"][0]
print(len({t["id"] for t in d["event_types"] if t["name"]}), len({g["guid"] for g in d["groups"] if g["name"]}),
      d["all_event_types"], d["all_groups"])' "$OUT" 2>&1)"
done_test

t_begin "create refuses to overwrite an existing password file (before any POST)"
: > "$EMU_LOG"
printf 'keep\n' > "$T/existing.pw"
ctl create another --type "Threat Detected" --password-file "$T/existing.pw"
rc_is 1 "create over an existing file"
err_has "refusing to overwrite"
t_eq "existing file kept" keep "$(cat "$T/existing.pw")"
t_eq "POST requests" 0 "$(requests '^POST')"
done_test

t_begin "create with --password-file relative to the working directory"
(cd "$T" && "$CTL" -c "$CONF" create rel-pw --group Triage --password-file rel.pw >"$OUT" 2>"$ERR"); RC=$?
cat "$OUT" "$ERR" >> "$ALL"
rc_is 0 "create --password-file rel.pw"
t_eq "mode" 600 "$(stat -c %a "$T/rel.pw" 2>/dev/null)"
out_has "    password_file = \"$T/rel.pw\";"
done_test

t_begin "list: a stream without --type shows all event types"
ctl list
out_has "rel-pw"
t_check "rel-pw has all event types" awk '/rel-pw/ { f = 1; next } f && /event types: all/ { ok = 1 } f && /^[0-9]/ { f = 0 } END { exit !ok }' "$OUT"
done_test

t_begin "the 5-stream limit: the API's error, exit 2, no password file left"
ctl create fourth --type "Threat Detected"
_rc4=$RC
ctl create fifth --type "Threat Detected"
t_eq "4th and 5th create" "0 0" "$_rc4 $RC"
ctl create sixth --type "Threat Detected"
rc_is 2 "create 6th"
err_has "limit"
err_has "HTTP 400"
t_check "no password file for the 6th" test ! -e "$T/sixth.password"
done_test

t_begin "delete by id (not a terminal, no --yes: the password file is kept)"
ctl delete 1474
rc_is 0 "delete 1474"
out_has 'deleted event stream 1474 "threats only"'
out_has "kept its password file $T/threats_only.password"
t_check "password file kept" test -f "$T/threats_only.password"
ctl list
out_lacks "threats only"
done_test

t_begin "delete --yes by name: the stream and its password file"
ctl delete --yes everything
rc_is 0 "delete --yes everything"
out_has "deleted event stream 1475"
out_has "removed its password file $T/everything.password"
t_check "password file gone" test ! -e "$T/everything.password"
ctl list
out_lacks "everything"
done_test

t_begin "delete an unknown name: close matches, exit 1"
: > "$EMU_LOG"
ctl delete fourht
rc_is 1 "delete fourht"
err_has 'unknown event stream "fourht"'
err_has '"fourth"'
t_eq "DELETE requests" 0 "$(requests '^DELETE')"
done_test

t_begin "-v: method, URL, status and rate-limit headers on stderr; never the key"
ctl -v list
rc_is 0 "-v list"
err_has "GET https://127.0.0.1:$EMU_PORT/v1/event_streams -> HTTP 200"
err_has "rate limit: "
t_check "no API key on stderr" sh -c "! grep -qF -- '$API_KEY' '$ERR'"
t_check "no Authorization value on stderr" sh -c "! grep -qF -- '$AUTH_B64' '$ERR'"
done_test
emu_stop

# --- usage and config errors (exit 1) ---------------------------------------------------------

t_begin "usage and config errors exit 1"
ctl; rc_is 1 "(no command)"
ctl frobnicate; rc_is 1 frobnicate
ctl --max-wait soon test; rc_is 1 "--max-wait soon"
ctl create x; rc_is 1 "create x (neither --all nor --type)"
ctl create x --all --type "Threat Detected"; rc_is 1 "create --all --type"
ctl --cloud nowhere test; rc_is 1 "--cloud nowhere"
err_has 'no cloud named "nowhere"'
_conf=$CONF; CONF=$T/missing.conf; ctl test; rc_is 1 "-c missing.conf"; CONF=$_conf
chmod 0644 "$KEY"; ctl test; rc_is 1 "test with a world-readable key file"; chmod 0600 "$KEY"
done_test

t_begin "--help documents the commands and the exit codes"
"$CTL" --help >"$OUT" 2>"$ERR"; RC=$?
rc_is 0 --help
out_has "create NAME --all"
out_has "--max-wait SECONDS"
out_has "exit status: 0 ok; 1 usage or config error"
out_has "2 API, TLS or network error"
done_test

# --- credentials and TLS (exit 2) -------------------------------------------------------------

emu_start auth

t_begin "bad credentials: 401 names the host, exit 2"
write_conf "$CONF" "$EMU_PORT" "$BADKEY" "$T/pki/ca.pem"
ctl test
rc_is 2 "test with a wrong key"
err_has "rejected by 127.0.0.1"
err_has "Unknown API key or Client ID"
t_eq "401 answers" 1 "$(requests '^GET /v1/version 401 auth=bad')"
done_test

emu_stop
emu_start auth-docs --v401-version v1.0.0
t_begin "bad credentials, 401 body as in the docs (version v1.0.0): same message"
write_conf "$CONF" "$EMU_PORT" "$BADKEY" "$T/pki/ca.pem"
ctl test
rc_is 2 "test with a wrong key"
err_has "rejected by 127.0.0.1"
err_has "Unknown API key or Client ID"
done_test

t_begin "wrong CA refused: exit 2, message mentions the certificate"
write_conf "$CONF" "$EMU_PORT" "$KEY" "$T/pki/wrong-ca.pem"
: > "$EMU_LOG"
ctl test
rc_is 2 "test with the wrong CA"
err_has "certificate"
t_eq "requests that reached the API" 0 "$(wc -l < "$EMU_LOG")"
done_test

t_begin "no ca_file: the test CA is not trusted by the system store, exit 2"
write_conf "$CONF" "$EMU_PORT" "$KEY"
ctl test
rc_is 2 "test without ca_file"
err_has "certificate"
done_test

t_begin "http:// api_url refused (HTTPS only), exit 1"
sed -i "s|https://|http://|" "$CONF"
ctl test
rc_is 1 "test with http://"
err_has "https://"
done_test

t_begin "network error: bounded by --max-wait, exit 2"
write_conf "$CONF" "$EMU_PORT" "$KEY" "$T/pki/ca.pem"
emu_stop
ctl --max-wait 1 test
rc_is 2 "test against a stopped emulator"
err_has "127.0.0.1"
err_has "connect"
err_has "--max-wait"
done_test

# --- response bodies --------------------------------------------------------------------------

emu_start bodies --oversize /v1/version --not-json /v1/groups --next-host evil.example.com:443 \
    --max-limit 5 --oversize-bytes 17825792

t_begin "oversized body (17 MiB, sent gzip'd): clear error, exit 2"
ctl test
rc_is 2 "test with a 17 MiB body"
err_has "larger than 16 MiB"
done_test

t_begin "non-JSON body: clear error, exit 2"
ctl groups
rc_is 2 "groups with an HTML body"
err_has "not a JSON object"
done_test

t_begin "a next link to another host is refused, exit 2"
: > "$EMU_LOG"
ctl event-types
rc_is 2 "event-types with a foreign next link"
err_has "evil.example.com"
err_has "refused"
t_eq "pages fetched" 1 "$(requests '^GET /v1/event_types')"
done_test
emu_stop

emu_start plainbody --oversize /v1/version --gzip never
t_begin "oversized body (17 MiB, not compressed: Content-Length): clear error, exit 2"
ctl test
rc_is 2 "test with a 17 MiB body"
err_has "larger than 16 MiB"
done_test
emu_stop

# --- a public-cloud host name (region), reached on 127.0.0.1 with --resolve -------------------

(cd "$T/pki" && umask 077 &&
 openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout eu.key -out eu.csr \
     -subj /CN=api.eu.amp.cisco.com 2>/dev/null &&
 printf 'subjectAltName=DNS:api.eu.amp.cisco.com\nextendedKeyUsage=serverAuth\n' > eu.ext &&
 openssl x509 -req -in eu.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out eu.pem -days 2 \
     -extfile eu.ext 2>/dev/null)
emu_start eu --cert "$T/pki/eu.pem" --key "$T/pki/eu.key" --groups 12 --max-limit 5
sed -i "s|https://127.0.0.1:|https://api.eu.amp.cisco.com:|" "$CONF"
t_begin "region EU from the API host; next links on a named host followed"
ctl --resolve "api.eu.amp.cisco.com:$EMU_PORT:127.0.0.1" test
rc_is 0 "test on api.eu.amp.cisco.com"
out_has "host: api.eu.amp.cisco.com"
out_has "region: EU"
ctl --resolve "api.eu.amp.cisco.com:$EMU_PORT:127.0.0.1" groups
rc_is 0 "groups on api.eu.amp.cisco.com"
t_eq "groups" 12 "$(wc -l < "$OUT")"
t_eq "pages" 3 "$(requests '^GET /v1/groups')"
done_test
t_begin "host name verification: the name must match the certificate"
sed -i "s|https://api.eu.amp.cisco.com:|https://api.apjc.amp.cisco.com:|" "$CONF"
ctl --resolve "api.apjc.amp.cisco.com:$EMU_PORT:127.0.0.1" test
rc_is 2 "test on api.apjc.amp.cisco.com with the EU certificate"
err_has "certificate"
done_test
emu_stop

# --- rate limits ------------------------------------------------------------------------------

# rate_wait_test SPELLING: budget 2 per 3 s window, 3 pages of groups: must wait, then succeed.
rate_wait_test() {
	emu_start "rate-$1" --groups 1200 --rate-budget 2 --rate-window 3 --rate-headers "$1"
	t_begin "rate limit spent ($1 headers): waits for the reset, then succeeds"
	ctl groups
	rc_is 0 "groups ($1)"
	t_eq "groups listed" 1200 "$(wc -l < "$OUT")"
	err_has "rate limit of 127.0.0.1 reached"
	_w=$(waited_secs)
	t_ge "seconds waited (notice)" 1 "$_w"
	t_ge "elapsed ms" $((_w * 1000)) "$ELAPSED_MS"
	t_eq "429 answers (the client waited instead)" 0 "$(requests ' 429 ')"
	done_test
	emu_stop
}
rate_wait_test observed
rate_wait_test documented
rate_wait_test lower

emu_start rate429 --rate-start-remaining 0 --rate-window 2
t_begin "429 (budget spent by someone else): waits for X-RateLimit-Reset, retries"
ctl test
rc_is 0 "test after a 429"
err_has "429 Too Many Requests"
t_eq "answers" "429 200" "$(awk '{ printf "%s%s", s, $3; s = " " }' "$EMU_LOG")"
t_ge "elapsed ms" 2000 "$ELAPSED_MS"
done_test
emu_stop

emu_start retry-after --rate-headers none --retry-after 1 --body-429 text --rate-start-remaining 0 \
    --rate-window 1
t_begin "429 without rate-limit headers: Retry-After honoured"
ctl test
rc_is 0 "test after a 429 with Retry-After"
t_eq "first answer" 429 "$(awk 'NR == 1 { print $3 }' "$EMU_LOG")"
t_eq "last answer" 200 "$(awk 'END { print $3 }' "$EMU_LOG")"
t_ge "elapsed ms" 1000 "$ELAPSED_MS"
done_test
emu_stop

emu_start never --groups 1200 --rate-budget 1 --rate-window 2 --rate-never-reset
t_begin "budget never restored: clear error within --max-wait, exit 2"
ctl --max-wait 3 groups
rc_is 2 "groups with a budget that never comes back"
err_has "--max-wait 3 s"
err_has "giving up"
t_check "gave up within --max-wait (+1.5 s)" test "$ELAPSED_MS" -lt 4500
done_test
emu_stop

# --- 5xx --------------------------------------------------------------------------------------

emu_start flaky --fail-5xx 2
t_begin "5xx: retried with backoff, then succeeds"
ctl test
rc_is 0 "test after two 503s"
err_has "HTTP 503; retry 1 of 3"
err_has "HTTP 503; retry 2 of 3"
t_eq "answers" "503 503 200" "$(awk '{ printf "%s%s", s, $3; s = " " }' "$EMU_LOG")"
t_ge "elapsed ms (1 s + 2 s backoff)" 3000 "$ELAPSED_MS"
done_test
emu_stop

emu_start down --fail-5xx 1000
t_begin "5xx for good: at most 3 retries, exit 2"
ctl test
rc_is 2 "test against a failing API"
err_has "answered HTTP 503"
t_eq "attempts" 4 "$(wc -l < "$EMU_LOG")"
done_test
emu_stop

# --- the uncertain facts of the API ([E] in amp-api.md), each variant -------------------------

# variant_list ITEMS: a stream with one event type and all groups, listed with item shape ITEMS.
variant_list() {
	emu_start "items-$1" --stream-items "$1"
	t_begin "list with stream items '$1'"
	ctl create one-type --type "Threat Detected" --password-file "$T/one-type-$1.pw"
	rc_is 0 "create one-type"
	ctl list
	rc_is 0 list
	out_has "one-type"
	out_has "  groups: all"
	if [ "$1" = bare ]; then out_has "  event types: all"; else out_has "    Threat Detected"; fi
	done_test
	emu_stop
}
variant_list full
variant_list omit-empty
variant_list bare

for nf in 404 400; do
	emu_start "gone-$nf" --phantom-stream --not-found "$nf"
	t_begin "delete a stream already gone (not found as $nf)"
	ctl delete phantom
	rc_is 2 "delete phantom"
	err_has "already gone"
	done_test
	emu_stop
done

emu_start del204 --delete-status 204 --port-type int --proto amqp --stream-limit 1 \
    --stream-limit-status 422 --duplicate-names allow
t_begin "port as an integer, proto not https: amqp:// URL"
ctl create plain --group Audit
rc_is 0 "create plain"
out_has 'url = "amqp://export-streaming.amp.cisco.com:443/";'
done_test
t_begin "stream limit answered with 422: the API's message, exit 2"
ctl create second --group Audit
rc_is 2 "create second"
err_has "HTTP 422"
err_has "at most 1 event streams"
done_test
t_begin "DELETE answered 204 with no body"
ctl delete plain
rc_is 0 "delete plain"
out_has "deleted event stream"
done_test
emu_stop

emu_start nopw --create-omit password
t_begin "a 201 without the password: clear error, exit 2, no password file left"
ctl create lost --group Audit
rc_is 2 "create with no password in the answer"
err_has "lacks usable amqp_credentials"
t_check "no password file" test ! -e "$T/lost.password"
done_test
emu_stop

emu_start dup --duplicate-names allow --over-limit reject
t_begin "delete by an ambiguous name: ids listed, exit 1"
ctl create twin --group Audit
_rc1=$RC
ctl create twin --group Triage --password-file "$T/twin2.pw"
t_eq "both creates" "0 0" "$_rc1 $RC"
ctl delete twin
rc_is 1 "delete twin"
err_has "ambiguous"
err_has "1474"
err_has "1475"
done_test
t_begin "limit above 500 is never sent (emulator rejects it)"
ctl groups
rc_is 0 groups
t_eq "groups" 7 "$(wc -l < "$OUT")"
done_test
emu_stop

# --- hostile answers: nulls and wrong types (issue 12) -----------------------------------------

# A stream that lists one event type, there before ampstreamctl runs.
PRE='{"name": "pre", "event_types": [1090519054]}'

emu_start null-type-id --preload-stream "$PRE" --override '/v1/event_types:0:id=null'
t_begin "an event type with a null id: list, event-types, create fail with exit 2 (no crash)"
ctl list
rc_is 2 "list"
err_has 'GET /v1/event_types: item 1 of the answer has a "id" of type null, not an integer'
err_has "malformed"
ctl event-types
rc_is 2 "event-types"
: > "$EMU_LOG"
ctl create x --type "Threat Detected"
rc_is 2 "create --type"
t_eq "POST requests" 0 "$(requests '^POST')"
t_check "no password file" test ! -e "$T/x.password"
done_test
emu_stop

emu_start null-stream-name --preload-stream "$PRE" --override '/v1/event_streams:0:name=null'
t_begin "a stream with a null name: delete NAME and list fail with exit 2 (no crash)"
: > "$EMU_LOG"
ctl delete pre
rc_is 2 "delete pre"
err_has 'item 1 of the answer has a "name" of type null, not a string'
t_eq "DELETE requests" 0 "$(requests '^DELETE')"
ctl list
rc_is 2 "list"
done_test
emu_stop

emu_start wrong-guid --override '/v1/groups:0:guid=[]' --override '/v1/groups:2:name={"x": 1}'
t_begin "a group whose guid is an array: groups and create --group fail with exit 2"
ctl groups
rc_is 2 "groups"
err_has 'item 1 of the answer has a "guid" of type array, not a string'
ctl create x --group Audit
rc_is 2 "create --group"
t_check "no password file" test ! -e "$T/x.password"
done_test
emu_stop

emu_start not-object --preload-stream "$PRE" --override '/v1/event_streams:0:=[1474]'
t_begin "a stream that is not an object: list and delete fail with exit 2"
ctl list
rc_is 2 "list"
err_has "item 1 of the answer is not an object (array)"
ctl delete 1474
rc_is 2 "delete 1474"
done_test
emu_stop

emu_start wrong-members --preload-stream "$PRE" \
    --override '/v1/event_streams:0:event_types=[null, "abc", {"id": 1}, 1090519054]' \
    --override '/v1/event_streams:0:group_guids="Audit"' \
    --override '/v1/event_streams:0:amqp_credentials=[]'
t_begin "other members of the wrong type read as absent: list shows what it can, exit 0"
ctl list
rc_is 0 "list"
out_has "1474  pre"
out_has "  event types (4):"
out_has "    (unknown event type ?)"
out_has "    (unknown event type abc)"
out_has "    Threat Detected"
out_has "  groups: all"
out_lacks "amqp:"
ctl list --json
rc_is 0 "list --json"
t_eq "ids in JSON" "[None, 'abc', None, 1090519054] True" "$("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))[0]
print([t["id"] for t in d["event_types"]], d["all_groups"])' "$OUT" 2>&1)"
done_test
emu_stop

emu_start create-null-id --create-override 'id=null'
t_begin "a 201 whose id is null: the stream is reported without an id, exit 0"
ctl create nid --group Audit
rc_is 0 "create nid"
out_has 'created event stream (id not given) "nid"'
out_has '    queue = "event_stream_1474";'
done_test
emu_stop

emu_start create-bad-creds --create-override 'amqp_credentials=["password"]'
t_begin "a 201 whose amqp_credentials is an array: exit 2, no password file left"
ctl create badc --group Audit
rc_is 2 "create badc"
err_has "event stream 1474 was created, but the answer lacks usable amqp_credentials"
t_check "no password file" test ! -e "$T/badc.password"
done_test
emu_stop

# --- hostile answers: control characters in server text (issue 12) ----------------------------

# clean FILE: valid UTF-8 without a raw control character (C0 but LF, DEL, C1).
clean() {
	"$PY" -c '
import sys
b = open(sys.argv[1], "rb").read()
try:
    s = b.decode("utf-8")
except UnicodeDecodeError as e:
    sys.exit("not UTF-8: %s" % e)
bad = [c for c in s if (ord(c) < 32 and c != "\n") or 0x7f <= ord(c) < 0xa0]
sys.exit("raw control characters: %r" % bad if bad else 0)' "$1"
}
# Newline, a fake journal priority, ESC [, C1 CSI (U+009B), and the byte 0x9b alone.
EVIL='evil\n<3>fake \u001b[31mred\u009b2J \udc9b\u007f end'
EVIL_ESC='evil\n<3>fake \x1b[31mred\xc2\x9b2J \x9b\x7f end'

emu_start evil-name --preload-stream "{\"name\": \"$EVIL\"}" --max-limit 5 \
    --override "/v1/groups:0:name=\"Audit\\u001b]0;pwned\\u0007\"" \
    --create-override 'amqp_credentials={"user_name": "u\u001b[2J\u009b", "password": "p",
      "queue_name": "q\nx", "host": "h.example", "port": "443", "proto": "https"}'
t_begin "a stream name with a newline, ESC [, C1 and a bad byte: list prints it escaped"
ctl list
rc_is 0 list
out_has "1474  $EVIL_ESC"
t_check "list: no raw control character on stdout" clean "$OUT"
t_check "list: no forged line" sh -c "! grep -q '^<3>fake' '$OUT'"
ctl list --json
rc_is 0 "list --json"
t_check "list --json: no raw control character" clean "$OUT"
t_eq "list --json: the name as sent (a bad byte as U+FFFD)" True "$("$PY" -c '
import json, sys
print(json.load(open(sys.argv[1]))[0]["name"] == "evil\n<3>fake \x1b[31mred\x9b2J \ufffd\x7f end")' \
    "$OUT" 2>&1)"
ctl delete 1474
rc_is 0 "delete 1474"
out_has "deleted event stream 1474 \"$EVIL_ESC\""
t_check "delete: no raw control character on stdout" clean "$OUT"
done_test

t_begin "a group name with an OSC sequence: the close match is printed escaped"
ctl create x --group Audit
rc_is 1 "create --group Audit"
err_has '"Audit\x1b]0;pwned\x07"'
t_check "no raw control character on stderr" clean "$ERR"
done_test
t_begin "AMQP user and queue with control characters: escaped on screen and in the block"
ctl create ctlchars --group Triage
rc_is 0 "create ctlchars"
out_has 'user:     u\x1b[2J\xc2\x9b'
out_has 'queue:    q\nx'
out_has '    user = "u\x1b[2J\xc2\x9b";'
out_has '    queue = "q\x0ax";'
t_check "no raw control character on stdout" clean "$OUT"
done_test
emu_stop

emu_start evil-error --error-body "/v1/version={\"version\": \"v1.2.0\", \"data\": {}, \
\"errors\": [{\"error_code\": 400, \"description\": \"Bad\\n<3>fake\", \
\"details\": [null, 5, \"\\u001b[31mred\\r\", \"ok\\u009b\"]}]}" \
    --next-host "$(printf '127.0.0.1\033[2J')" --max-limit 5
t_begin "an error text with a newline, ESC [ and CR: one line, escaped"
ctl test
rc_is 2 test
err_has 'HTTP 400: Bad\n<3>fake: \x1b[31mred\r; ok\xc2\x9b'
t_eq "lines on stderr" 1 "$(wc -l < "$ERR")"
t_check "no raw control character on stderr" clean "$ERR"
done_test

t_begin "a next page link with ESC: refused, printed escaped"
ctl event-types
rc_is 2 event-types
err_has "is not a plain URL"
err_has '127.0.0.1\x1b[2J'
t_check "no raw control character on stderr" clean "$ERR"
done_test
emu_stop

# --- hostile answers: a listing that inflates (issue 12) --------------------------------------

emu_start inflate --inflate /v1/groups:40:2097152:string --inflate /v1/event_types:1:262144:objects
t_begin "40 pages of 2 MiB: refused past 64 MiB for the listing, exit 2"
: > "$EMU_LOG"
ctl groups
rc_is 2 groups
err_has "more than the 64 MiB allowed for one listing"
_n=$(requests '^GET /v1/groups')
t_check "stopped after at most 32 pages (got $_n)" test "$_n" -le 32
done_test
t_begin "a page of 256 KiB of [{},{},...] (some 50 MiB once parsed): refused before parsing, exit 2"
ctl event-types
rc_is 2 event-types
err_has "more than the 16 MiB allowed for one answer"
done_test
emu_stop

# --- a real broker: create -> queue + user on RabbitMQ -> ampstream -n accepts the block -------

# broker_fail_all REASON: the broker tests could not run (a failure, not a pass).
broker_fail_all() {
	t_fail_all "$1" "broker: create makes a queue and user" \
	    "broker: the stream user consumes a published event over TLS" \
	    "broker: ampstream -n accepts the printed streams block" \
	    "broker: ampstream consumes the created stream with the printed block" \
	    "broker: delete removes queue and user"
}
if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || ! "$PY" -c 'import pika' 2>/dev/null; then
	broker_fail_all "RabbitMQ or python3-pika not installed (make deps)"
elif ! sh "$LIB/broker.sh" start "$T/broker" --tls >"$T/broker.out" 2>&1; then
	at_exit "sh '$LIB/broker.sh' stop '$T/broker'"
	show_tail "$T/broker.out"
	broker_fail_all "test broker did not start"
else
	at_exit "sh '$LIB/broker.sh' stop '$T/broker'"
	. "$T/broker/broker.env"
	emu_start broker --broker-env "$T/broker/broker.env"

	t_begin "broker: create makes a queue and user"
	ctl create demo-all --all --amqp-ca-file "$BROKER_CA"
	rc_is 0 "create demo-all --all"
	out_has "AMQP URL: amqps://localhost:$BROKER_TLS_PORT/"
	out_has "    ca_file = \"$BROKER_CA\";"
	sed -n '/^streams = (/,/^);/p' "$OUT" > "$T/streams.block"
	QUEUE=$(sed -n 's/^    queue = "\(.*\)";$/\1/p' "$T/streams.block")
	SUSER=$(sed -n 's/^    user = "\(.*\)";$/\1/p' "$T/streams.block")
	SPW=$(sed -n 's/^    password_file = "\(.*\)";$/\1/p' "$T/streams.block")
	t_eq "queue" event_stream_1474 "$QUEUE"
	sh "$LIB/broker.sh" ctl "$T/broker" list_queues -q name durable > "$T/queues" 2>&1
	t_check "durable queue on the broker" grep -qE "^$QUEUE[[:space:]]+true" "$T/queues"
	sh "$LIB/broker.sh" ctl "$T/broker" list_users -q > "$T/users" 2>&1
	t_check "stream user on the broker" grep -qF "$SUSER" "$T/users"
	done_test

	t_begin "broker: the stream user consumes a published event over TLS"
	"$PY" "$EMU" publish --broker-env "$T/broker/broker.env" \
	    "$ROOT/tests/fixtures/events/threat_detected_1.json" >"$T/publish.out" 2>&1
	t_eq "publish" "published 1 event(s)" "$(cat "$T/publish.out")"
	"$PY" - "$SUSER" "$SPW" "$QUEUE" "$BROKER_TLS_PORT" "$BROKER_CA" >"$T/consume.out" 2>&1 <<'EOF'
import json, ssl, sys, pika
user, pwfile, queue, port, ca = sys.argv[1:]
ctx = ssl.create_default_context(cafile=ca)
params = pika.ConnectionParameters(host="localhost", port=int(port),
    credentials=pika.PlainCredentials(user, open(pwfile).read().strip()),
    ssl_options=pika.SSLOptions(ctx, "localhost"))
conn = pika.BlockingConnection(params)
ch = conn.channel()
ch.queue_declare(queue, passive=True)
method, props, body = ch.basic_get(queue, auto_ack=True)
print(json.loads(body)["id"], props.content_type, method.exchange)
try:
    ch.queue_declare("not-mine", durable=True)
    print("declare allowed")
except pika.exceptions.ChannelClosedByBroker as e:
    print("declare refused", e.reply_code)
conn.close()
EOF
	_id=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read())["id"])' \
	    "$ROOT/tests/fixtures/events/threat_detected_1.json")
	t_eq "consumed event" "$_id application/octet-stream events_api_stream
declare refused 403" "$(cat "$T/consume.out")"
	done_test

	t_begin "broker: ampstream -n accepts the printed streams block"
	{
		sed -n '1,/^);/p' "$CONF"
		echo "sinks = ( { name = \"archive\"; type = \"file\"; path = \"$T/events.jsonl\"; format = \"json\"; } );"
		cat "$T/streams.block"
	} > "$T/full.conf"
	"$DAEMON" -n -c "$T/full.conf" >"$OUT" 2>"$ERR"; RC=$?
	rc_is 0 "ampstream -n"
	out_has "configuration OK"
	done_test

	t_begin "broker: ampstream consumes the created stream with the printed block"
	"$PY" "$EMU" publish --broker-env "$T/broker/broker.env" \
	    "$ROOT/tests/fixtures/events/all.jsonl" >"$T/publish.out" 2>&1
	_n=$(grep -c . "$ROOT/tests/fixtures/events/all.jsonl")
	t_eq "publish" "published $_n event(s)" "$(cat "$T/publish.out")"
	"$DAEMON" -f -c "$T/full.conf" </dev/null >"$T/daemon.log" 2>&1 &
	DPID=$!
	at_exit "kill_if_ours $DPID ampstream"
	consumed() { _c=$(grep -c . "$T/events.jsonl" 2>/dev/null); [ "${_c:-0}" -ge "$_n" ]; }
	t_check "the daemon wrote $_n records to the file sink" wait_for 30 consumed
	stop_pid "$DPID" 15
	t_check "the daemon delivered and acked every message" \
	    grep -q "stream demo-all: delivered=$_n acked=$_n" "$T/daemon.log"
	[ -z "$T_REASONS" ] || show_tail "$T/daemon.log" 8
	done_test

	t_begin "broker: delete removes queue and user"
	ctl delete demo-all
	rc_is 0 "delete demo-all"
	sh "$LIB/broker.sh" ctl "$T/broker" list_queues -q name > "$T/queues" 2>&1
	t_check "queue gone" sh -c "! grep -qF '$QUEUE' '$T/queues'"
	sh "$LIB/broker.sh" ctl "$T/broker" list_users -q > "$T/users" 2>&1
	t_check "user gone" sh -c "! grep -qF '$SUSER' '$T/users'"
	done_test
	emu_stop
fi

# --- secrets ----------------------------------------------------------------------------------

t_begin "the API key never appears in any output (all runs, including -v)"
t_check "ampstreamctl ran" test -s "$ALL"
t_check "no API key" sh -c "! grep -qF -- '$API_KEY' '$ALL'"
t_check "no Basic credentials" sh -c "! grep -qF -- '$AUTH_B64' '$ALL'"
done_test

summary
