#!/bin/sh
# syslog-ng 3.38 (Debian's .deb, unpacked by syslog-ng-setup.sh) as a foreground RFC 5425
# receiver on 127.0.0.1: a `syslog()` source with transport("tls") (RFC 5424 + octet counting
# over TLS). It requires and verifies a client certificate signed by CA (mutual TLS). The same
# port is also served on 127.0.0.2, an address the test server certificate does not name (for
# host-mismatch tests: the whole of 127/8 is loopback on Linux).
# Every message is written as one JSON line to DIR/parsed.jsonl (rfc5424 + sdata scopes, and
# the parsers' name-value pairs): MSG starting with "CEF:" -> csv-parser (header) + kv-parser
# (extension, an approximation: syslog-ng OSE has no CEF parser), MSG starting with "{" ->
# json-parser; peer.parsed_as = cef|json|UNPARSED.
# Modeled on shared/peers/syslog-ng-peer.sh (project research, copied and adapted: TLS only,
# free port with retry, client certificates required, cache dir of syslog-ng-setup.sh).
#
# usage: syslog-ng-tls.sh start DIR CERT KEY CA [PORT]   PORT omitted: a free one; the port is
#                                                        written to DIR/port (restart on the
#                                                        same port: pass "$(cat DIR/port)")
#        syslog-ng-tls.sh stop DIR                  stop it by its pid (DIR/syslog-ng.pid)
# Env: SYSLOG_NG_ROOT (default /var/cache/ampstream-tests/syslog-ng)
set -eu
LIB=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
S=${SYSLOG_NG_ROOT:-/var/cache/ampstream-tests/syslog-ng}
[ $# -ge 2 ] || { echo "usage: $0 start DIR CERT KEY CA | stop DIR" >&2; exit 2; }
cmd=$1; DIR=$(realpath -m "$2")

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

stop() {
	[ -f "$DIR/syslog-ng.bgpid" ] || return 0
	pid=$(cat "$DIR/syslog-ng.bgpid")
	kill -TERM "$pid" 2>/dev/null || true
	i=0
	while alive "$pid"; do
		i=$((i + 1))
		[ $i -lt 50 ] || { kill -KILL "$pid" 2>/dev/null || true; break; }
		sleep 0.1
	done
	rm -f "$DIR/syslog-ng.bgpid"
}

case $cmd in
stop) stop; exit 0 ;;
start) [ $# -ge 5 ] || { echo "usage: $0 start DIR CERT KEY CA [PORT]" >&2; exit 2; } ;;
*) echo "usage: $0 start DIR CERT KEY CA | stop DIR" >&2; exit 2 ;;
esac
CERT=$3; KEY=$4; CA=$5; FIXED_PORT=${6:-}
[ -x "$S/usr/sbin/syslog-ng" ] || { echo "no syslog-ng in $S (run tests/lib/syslog-ng-setup.sh)" >&2; exit 1; }
mkdir -p "$DIR"

write_conf() {
	cat > "$DIR/syslog-ng.conf" <<CONF
@version: 3.38
options { log-msg-size(65536); keep-hostname(yes); stats-freq(0); };
source s_tls { syslog(ip("127.0.0.1") port($PORT) transport("tls")
    tls(key-file("$KEY") cert-file("$CERT") ca-file("$CA") peer-verify(required-trusted))); };
source s_tls2 { syslog(ip("127.0.0.2") port($PORT) transport("tls")
    tls(key-file("$KEY") cert-file("$CERT") ca-file("$CA") peer-verify(required-trusted))); };
parser p_cef {
  csv-parser(
    columns("cef.version", "cef.device_vendor", "cef.device_product", "cef.device_version",
            "cef.device_event_class_id", "cef.name", "cef.agent_severity", "cef.extensions")
    delimiters(chars("|")) dialect(escape-backslash) quote-pairs("") flags(greedy, drop-invalid));
  kv-parser(prefix("cef.ext.") template("\${cef.extensions}"));
};
parser p_json { json-parser(prefix("json.")); };
destination d_out { file("$DIR/parsed.jsonl"
  template("\$(format-json --scope rfc5424 --scope sdata --scope nv-pairs --exclude cef.extensions --exclude HOST_FROM --exclude SOURCE --exclude LEGACY_MSGHDR)\n")); };
log {
  source(s_tls); source(s_tls2);
  junction {
    channel { filter { message("^ ?CEF:" type(pcre)); }; parser(p_cef);  rewrite { set("cef"  value("peer.parsed_as")); }; flags(final); };
    channel { filter { message("^ ?[{]" type(pcre)); };  parser(p_json); rewrite { set("json" value("peer.parsed_as")); }; flags(final); };
    channel { rewrite { set("UNPARSED" value("peer.parsed_as")); }; flags(fallback); };
  };
  destination(d_out);
};
CONF
}

export LD_LIBRARY_PATH="$S/usr/lib/syslog-ng"
tries=0
while [ $tries -lt 3 ]; do
	tries=$((tries + 1))
	PORT=${FIXED_PORT:-$("$PY" "$LIB/freeport.py")}
	# a fixed port may linger for a moment after the previous instance stopped
	i=0; while [ -n "$FIXED_PORT" ] && listening "$PORT" && [ $i -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
	write_conf
	"$S/usr/sbin/syslog-ng" --module-path="$S/usr/lib/syslog-ng/3.38" -f "$DIR/syslog-ng.conf" \
	    --syntax-only >"$DIR/syslog-ng.log" 2>&1 || { cat "$DIR/syslog-ng.log" >&2; exit 1; }
	"$S/usr/sbin/syslog-ng" --module-path="$S/usr/lib/syslog-ng/3.38" -f "$DIR/syslog-ng.conf" \
	    -F -e --no-caps -R "$DIR/syslog-ng.persist" -p "$DIR/syslog-ng.pid" \
	    -c "$DIR/syslog-ng.ctl" </dev/null >>"$DIR/syslog-ng.log" 2>&1 &
	echo $! > "$DIR/syslog-ng.bgpid"
	i=0
	while [ $i -lt 50 ] && alive "$(cat "$DIR/syslog-ng.bgpid")"; do
		if listening "$PORT"; then
			echo "$PORT" > "$DIR/port"
			echo "syslog-ng TLS receiver on 127.0.0.1:$PORT, output $DIR/parsed.jsonl"
			exit 0
		fi
		i=$((i + 1)); sleep 0.1
	done
	stop
done
echo "syslog-ng failed to start:" >&2; tail -n 20 "$DIR/syslog-ng.log" >&2; exit 1
