#!/bin/sh
# Metrics suite: the monitoring endpoint (metrics.listen) scraped by a real Prometheus (Debian's
# `prometheus`, private config and data dir, on 127.0.0.1, stopped by pid) while events flow
# from a private RabbitMQ to two TCP receivers (tests/lib/faulty-recv.py):
#   1 backlog: a pre-filled queue and a sink without spool that is down (consumption stops at
#     the prefetch): Prometheus sees the backlog; /health 503 naming that sink, then 200 once
#     it is up, and every event arrives (ampstream_stream_deliveries_total in Prometheus)
#   2 a sink with a spool goes down while events keep coming: ampstream_sink_up 0 and the spool
#     growing in Prometheus, /health stays 200 (spooling within bounds); back: up 1, spool 0;
#     the daemon's log has a bounded number of lines about it
#   3 hostile clients while events flow: slowloris connections, an oversized request, 100
#     parallel scrapes; events keep arriving, the daemon answers afterwards
#   4 promtool check metrics on a scrape, promtool check rules on contrib's alert rules, the
#     dashboard's queries on the live Prometheus, /status, no secret, 404/501/413, the
#     backlog refreshed (passive queue.declare every 30 s) to 0, ampstreamctl status (backlog,
#     last event, lag; exit 3 once stopped), SIGHUP keeps the endpoint; clean exit, nothing lost
# usage: sh tests/integration/metrics.sh BUILD_DIR     (uses BUILD_DIR/asan/ampstream)
# Prints `ok - NAME` / `not ok - NAME: reasons`, `# ` figure lines and `N passed, N failed`.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$ROOT/tests/lib
. "$LIB/common.sh"
suite_init metrics "$@"
CTL_BIN=$BUILD/asan/ampstreamctl
[ -n "$T" ] && [ -d "$T" ] || { echo "no temp dir" >&2; exit 2; }
note "metrics suite: temp dir $T, daemon $ASAN_BIN"
. "$LIB/daemon.sh"
. "$LIB/seqtest.sh"
NAMES="1-backlog-health 2-sink-down-spool 3-hostile-clients 4-promtool-exit"
for _b in "$ASAN_BIN" prometheus promtool curl; do
	command -v "$_b" >/dev/null 2>&1 || [ -x "$_b" ] ||
	    { t_fail_all "$_b missing (tests/lib/install-deps.sh)" $NAMES; summary; exit 1; }
done
suite_broker_start

W=$T/work; mkdir -p "$W/state"; chmod 0700 "$W"
(umask 077; echo "not-a-real-api-key" > "$W/api_key")
Q=metrics.q
N1=2000			# pre-filled
N2=3000			# paced while the spooling sink is down
N3=3000			# paced during the hostile clients
MPORT=$(freeport); PPORT=$(freeport)
MURL=http://127.0.0.1:$MPORT
frecv_start "$W/siem" || { t_fail_all "receiver did not start" $NAMES; summary; exit 1; }
SIEM_PORT=$FR_PORT
HOLD_PORT=$(freeport)	# its receiver starts in test 1

printf '%s\n' \
    "state_dir = \"$W/state\";" \
    'log_level = "info";' \
    "clouds = ( { name = \"eu\"; api_url = \"https://api.eu.amp.cisco.com\"; group_names = false;" \
    "    computer_details = false;" \
    "    client_id = \"0123456789abcdef0123\"; api_key_file = \"$W/api_key\"; } );" \
    "streams = ( { name = \"s1\"; cloud = \"eu\"; url = \"amqp://127.0.0.1:$BROKER_PORT/\";" \
    "    user = \"$BROKER_USER\"; password_file = \"$BROKER_PASSWORD_FILE\"; queue = \"$Q\";" \
    "    prefetch = 50; } );" \
    "sinks = (" \
    "  { name = \"siem\"; type = \"tcp\"; host = \"127.0.0.1\"; port = $SIEM_PORT; format = \"cef\";" \
    "    framing = \"octet\"; spool_max_bytes = 104857600; }," \
    "  { name = \"hold\"; type = \"tcp\"; host = \"127.0.0.1\"; port = $HOLD_PORT; format = \"cef\";" \
    "    framing = \"octet\"; spool_max_bytes = 0; }" \
    ");" \
    "metrics = { listen = \"127.0.0.1:$MPORT\"; max_clients = 16; timeout = 3; };" \
    > "$W/ampstream.conf"
chmod 0600 "$W/ampstream.conf"

# Prometheus: 1 s scrapes of the daemon, private data dir
mkdir -p "$T/prom/data"
printf '%s\n' \
    'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }' \
    'scrape_configs:' \
    '  - job_name: ampstream' \
    "    static_configs: [ { targets: [ \"127.0.0.1:$MPORT\" ] } ]" \
    > "$T/prom/prometheus.yml"
prometheus --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
    --web.listen-address="127.0.0.1:$PPORT" >"$T/prom/log" 2>&1 &
PROM_PID=$!
at_exit "kill_if_ours $PROM_PID prometheus"

# pq EXPR: the integer part of the first sample of an instant query, or "none"
pq() {
	curl -s --max-time 5 "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
	    "$PY" -c 'import json,sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1].split(".")[0] if r else "none")
except Exception:
    print("none")'
}
pq_ge() { _v=$(pq "$1"); [ "$_v" != none ] && [ "$_v" -ge "$2" ] 2>/dev/null; }
pq_eq() { [ "$(pq "$1")" = "$2" ]; }
# health: the HTTP status of /health (its body in $T/health.body)
health() { curl -s -o "$T/health.body" -w '%{http_code}' --max-time 5 "$MURL/health"; }
health_is() { [ "$(health)" = "$1" ]; }
wait_for 20 port_listening "$PPORT" || note "prometheus did not listen: $(tail -n 3 "$T/prom/log")"

# --- 1 ------------------------------------------------------------------------------------------
t_begin 1-backlog-health
$AMQP declare "$BR" "$Q" && $AMQP seq "$BR" "$Q" $N1 2>/dev/null || t_fail "publishing failed"
daemon_start "$W"
t_check "metrics endpoint listening" wait_d 20 port_listening "$MPORT"
t_check "Prometheus sees the backlog (>= $((N1 - 100)))" \
    wait_d 30 pq_ge 'ampstream_stream_backlog_messages{stream="s1",cloud="eu"}' $((N1 - 100))
t_check "/health 503 while sink hold is down" wait_d 10 health_is 503
grep -q '"sink":"hold","state":"down"' "$T/health.body" ||
    t_fail "/health reason: $(cat "$T/health.body")"
t_check "Prometheus: hold up 0" wait_d 10 pq_eq 'ampstream_sink_up{sink="hold"}' 0
frecv_start "$W/hold" --port "$HOLD_PORT" || t_fail "hold receiver did not start"
t_check "/health 200 once hold is up" wait_d 30 health_is 200
grep -q '"status":"ok"' "$T/health.body" || t_fail "/health body: $(cat "$T/health.body")"
t_check "Prometheus: deliveries_total reaches $N1" \
    wait_d 60 pq_ge 'ampstream_stream_deliveries_total{stream="s1"}' $N1
t_check "Prometheus: event lag observed $N1 times" \
    wait_d 10 pq_ge 'ampstream_stream_event_lag_seconds_count{stream="s1"}' $N1
t_check "Prometheus: last event time set" \
    wait_d 10 pq_ge 'ampstream_stream_last_event_timestamp_seconds{stream="s1"}' 1600000000
t_check "Prometheus: delivery latency counted for hold" \
    wait_d 10 pq_ge 'ampstream_sink_delivery_latency_seconds_count{sink="hold"}' $N1
t_check "siem got all $N1" wait_d 30 frecv_has "$W/siem" $N1
on_fail_show "$DLOG" "$T/prom/log"
t_end

# --- 2 ------------------------------------------------------------------------------------------
t_begin 2-sink-down-spool
L0=$(nlines "$DLOG")
frecv_kill "$W/siem"
publish_paced "$Q" $((N1 + 1)) $N2 300 1 &
PUB=$!
t_check "Prometheus: siem up 0" wait_d 20 pq_eq 'ampstream_sink_up{sink="siem"}' 0
t_check "Prometheus: siem's spool growing (>= 1000 records)" \
    wait_d 30 pq_ge 'ampstream_sink_spool_records{sink="siem"}' 1000
t_check "Prometheus: spool bytes > 0" wait_d 5 pq_ge 'ampstream_sink_spool_bytes{sink="siem"}' 1
t_eq "/health while spooling within bounds" 200 "$(health)"
wait "$PUB"
sleep 12	# down a while longer: its retries must not flood the log
DOWN_LINES=$(sed -n "$((L0 + 1)),\$p" "$DLOG" | grep -c 'sink siem')
note "log lines about sink siem while it was down ~25 s: $DOWN_LINES"
[ "$DOWN_LINES" -le 8 ] || t_fail "sink siem down wrote $DOWN_LINES lines: $(sed -n "$((L0 + 1)),\$p" "$DLOG" | grep 'sink siem' | head -n 12 | tr '\n' '|')"
grep -q 'sink siem: down' "$DLOG" || t_fail "the state change 'sink siem: down' was not logged"
frecv_start "$W/siem" --port "$SIEM_PORT" || t_fail "siem receiver did not restart"
t_check "Prometheus: siem up 1" wait_d 30 pq_eq 'ampstream_sink_up{sink="siem"}' 1
t_check "Prometheus: spool back to 0" wait_d 60 pq_eq 'ampstream_sink_spool_records{sink="siem"}' 0
t_check "siem got all $((N1 + N2))" wait_d 60 frecv_has "$W/siem" $((N1 + N2))
on_fail_show "$DLOG"
t_end

# --- 3 ------------------------------------------------------------------------------------------
t_begin 3-hostile-clients
"$PY" "$LIB/hostile-http.py" "$MPORT" "$W/hostile.out" &
HOST_PID=$!
publish_paced "$Q" $((N1 + N2 + 1)) $N3 500 1
wait "$HOST_PID"
note "$(tr '\n' ';' < "$W/hostile.out")"
grep -q '^oversized \(HTTP/1.1 4\|closed\)' "$W/hostile.out" ||
    t_fail "oversized request: $(grep oversized "$W/hostile.out")"
_ok=$(sed -n 's/^scrapes 200=\([0-9]*\) .*/\1/p' "$W/hostile.out")
_other=$(sed -n 's/^scrapes .* other=\([0-9]*\)$/\1/p' "$W/hostile.out")
t_ge "parallel scrapes answered with the metrics" 16 "${_ok:-0}"
t_eq "parallel scrapes neither 200 nor 503" 0 "${_other:-?}"
# the budget (10 requests a second, bursts of 20; the 30 slowloris connections spend from it
# too) spreads 100 scrapes over at least (130 - 20) / 10 = 11 s: check a generous 5
_took=$(sed -n 's/^scrapes took \([0-9]*\)\..*/\1/p' "$W/hostile.out")
t_check "the request budget spreads 100 parallel scrapes over >= 5 s (took ${_took:-?} s)" \
    [ "${_took:-0}" -ge 5 ]
grep -q '^slowloris still open after 6 s: 0$' "$W/hostile.out" ||
    t_fail "slowloris connections not closed: $(grep slowloris "$W/hostile.out")"
t_check "events kept flowing: siem got all $((N1 + N2 + N3))" \
    wait_d 60 frecv_has "$W/siem" $((N1 + N2 + N3))
t_eq "the endpoint answers afterwards" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$MURL/metrics")"
daemon_alive_check
on_fail_show "$DLOG"
t_end

# --- 4 ------------------------------------------------------------------------------------------
t_begin 4-promtool-exit
curl -s --max-time 5 "$MURL/metrics" > "$T/scrape.txt"
if promtool check metrics < "$T/scrape.txt" > "$T/promtool.out" 2>&1; then t_pass; else
	t_fail "promtool check metrics: $(head -n 5 "$T/promtool.out" | tr '\n' '|')"; fi
if promtool check rules "$ROOT/contrib/prometheus/ampstream-rules.yml" > "$T/rules.out" 2>&1
then t_pass; else t_fail "promtool check rules: $(tail -n 3 "$T/rules.out" | tr '\n' '|')"; fi
curl -s --max-time 5 "$MURL/status" > "$T/status.json"
if "$PY" -c 'import json,sys; o=json.load(open(sys.argv[1])); s=o["streams"][0]
assert s["name"] == "s1" and "backlog" in s and "last_event" in s' "$T/status.json"; then t_pass
else t_fail "/status is not status.json: $(head -c 200 "$T/status.json")"; fi
if grep -q 'password\|api_key\|not-a-real' "$T/scrape.txt" "$T/status.json"; then
	t_fail "a secret in an answer"; else t_pass; fi
t_eq "unknown path" 404 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$MURL/nope")"
t_eq "POST refused (evhttp: Not Implemented)" 501 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "$MURL/metrics")"
t_eq "a request body refused" 413 \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d x "$MURL/metrics")"
# every query of the Grafana dashboard is valid PromQL and finds data on this Prometheus
"$PY" - "$PPORT" "$ROOT/contrib/grafana/ampstream-dashboard.json" > "$T/dash.out" <<'PYEOF'
import json, sys, urllib.parse, urllib.request
port, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
n = bad = 0
for p in d["panels"]:
    for t in p.get("targets", []):
        e = t["expr"].replace("$instance", ".*")
        u = "http://127.0.0.1:%s/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": e}))
        try:
            r = json.load(urllib.request.urlopen(u, timeout=5))
            ok = r["status"] == "success"
        except Exception as ex:
            ok = False
        n += 1
        if not ok:
            bad += 1
            print("bad query in %r: %s" % (p["title"], e))
print("queries %d bad %d" % (n, bad))
PYEOF
grep -q '^queries [1-9][0-9]* bad 0$' "$T/dash.out" && t_pass ||
    t_fail "dashboard queries: $(tr '\n' '|' < "$T/dash.out")"
# the connect-time backlog was N1; a passive queue.declare refreshes it (every 30 s)
t_check "backlog refreshed to 0" wait_d 45 pq_eq 'ampstream_stream_backlog_messages{stream="s1"}' 0
grep -E '^ampstream_stream_(deliveries_total|backlog_messages|up)|^ampstream_sink_up' "$T/scrape.txt" |
    sed 's/^/#   scrape: /'
sleep 5.5	# status.json is rewritten every 5 s
"$CTL_BIN" -c "$W/ampstream.conf" status > "$T/ctl.out" 2>&1; RC=$?
t_eq "ampstreamctl status while running: exit" 0 "$RC"
grep -q '^ *backlog 0, last event 20[0-9-]* [0-9:]* ([0-9]* s ago), its lag [0-9.]* s$' "$T/ctl.out" ||
    t_fail "ampstreamctl status: no backlog/last event/lag line: $(tr '\n' '|' < "$T/ctl.out")"
# a reload (SIGHUP) rebuilds the parts: the endpoint is there again, on the same address
kill -HUP "$DPID"
t_check "reloaded" wait_d 30 grep -q 'configuration reloaded' "$DLOG"
t_check "the endpoint answers after the reload" wait_d 10 sh -c \
    "curl -s --max-time 2 '$MURL/metrics' | grep -q '^ampstream_stream_up{stream=\"s1\",cloud=\"eu\"} 1\$'"
daemon_stop 30
check_daemon_exit
"$CTL_BIN" -c "$W/ampstream.conf" status > "$T/ctl.out" 2>&1; RC=$?
t_eq "ampstreamctl status after the daemon stopped: exit" 3 "$RC"
rm -f "$W/state/status.json"
"$CTL_BIN" -c "$W/ampstream.conf" status > "$T/ctl.out" 2>&1; RC=$?
t_eq "ampstreamctl status without status.json: exit" 3 "$RC"
t_eq "distinct events at the receiver" "$((N1 + N2 + N3))" "$(frecv_distinct "$W/siem")"
on_fail_show "$DLOG"
t_end

frecv_stop "$W/siem"; frecv_stop "$W/hold"
stop_pid "$PROM_PID" 10
note "suite time: $(secs_since "$SUITE_T0") s"
summary
