#!/bin/sh
# The project's rsyslog receiver for tests: an unprivileged-capable rsyslogd on 127.0.0.1 that
# parses what it receives and writes one JSON line per message to DIR/parsed.jsonl:
#   CEF  with mmnormalize (liblognorm's strict `cef` motif: CEF:0 header, \| \\ in the header,
#        \= \\ \n \r in values, dictionary key charset)
#   JSON with mmjsonparse cookie="" (plain JSON in MSG, no @cee: cookie)
# Each line: {"pri","host","app","procid","msgid","sd","msg","parsed":{...,"peer":{"parsed_as":
# "cef"|"json"|"other","parsesuccess":"OK"|"FAIL"}}}.
# imtcp accepts both RFC 6587 framings (LF and octet-counted) on the same port; rsyslog's
# parser chain auto-detects RFC 5424 / RFC 3164. maxMessageSize 64k so a record is never split.
# Modeled on shared/peers/rsyslog-peer.sh (project research, copied and adapted: free port,
# own pid file, restartable on the same port).
#
# usage: receiver.sh start DIR [PORT]   PORT 0 or omitted: pick a free port; the port is
#                                        written to DIR/port. Restart on the same port with
#                                        `receiver.sh start DIR "$(cat DIR/port)"`.
#        receiver.sh stop DIR           stop rsyslogd by its pid (DIR/rsyslogd.pid)
set -eu
LIB=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ $# -ge 2 ] || { echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2; }
cmd=$1; DIR=$(realpath -m "$2"); PORT=${3:-0}

listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

stop() {
	[ -f "$DIR/rsyslogd.pid" ] || [ -f "$DIR/rsyslogd.bgpid" ] || return 0
	pid=$(cat "$DIR/rsyslogd.pid" 2>/dev/null || cat "$DIR/rsyslogd.bgpid")
	kill -TERM "$pid" 2>/dev/null || true
	i=0
	while alive "$pid"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; break; }
		sleep 0.1
	done
	rm -f "$DIR/rsyslogd.pid" "$DIR/rsyslogd.bgpid"
}

case $cmd in
stop) stop; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac

mkdir -p "$DIR/work"
if [ -f "$DIR/rsyslogd.pid" ] && alive "$(cat "$DIR/rsyslogd.pid")"; then
	echo "receiver already running in $DIR" >&2; exit 1
fi
fixed_port=1
[ "$PORT" = 0 ] && fixed_port=0

# liblognorm rulebase; two rules so a leading SP in MSG (RFC 3164 "tag: CEF:...") also matches
printf 'version=2\nrule=:%%cef:cef%%\nrule=: %%cef:cef%%\n' > "$DIR/cef.rb"

write_conf() {
	cat > "$DIR/rsyslog.conf" <<CONF
global(workDirectory="$DIR/work" maxMessageSize="64k")
module(load="imtcp")
module(load="mmnormalize")
module(load="mmjsonparse")
input(type="imtcp" address="127.0.0.1" port="$PORT" ruleset="peer")
template(name="peerjson" type="list") {
  constant(value="{\"pri\":\"")       property(name="pri")
  constant(value="\",\"host\":\"")   property(name="hostname" format="json")
  constant(value="\",\"app\":\"")     property(name="app-name" format="json")
  constant(value="\",\"procid\":\"")  property(name="procid" format="json")
  constant(value="\",\"msgid\":\"")   property(name="msgid" format="json")
  constant(value="\",\"sd\":\"")      property(name="structured-data" format="json")
  constant(value="\",\"msg\":\"")     property(name="msg" format="json")
  constant(value="\",\"parsed\":")    property(name="\$!all-json")
  constant(value="}\n")
}
ruleset(name="peer") {
  set \$.m = ltrim(\$msg);
  if re_match(\$.m, "^CEF:") then {
    # Debian bookworm ships liblognorm 2.0.6, whose CEF parser skips the first character after the
    # header's 7th '|' (fixed upstream in 2.0.7, commit 6e6a50b). Insert one SP there first.
    set \$.hdr = re_extract(\$.m, "^CEF:[0-9]+(\\\\|([^|\\\\\\\\]|\\\\\\\\.)*){6}\\\\|", 0, 0, "");
    if \$.hdr != "" then { set \$.fixed = \$.hdr & " " & substring(\$.m, strlen(\$.hdr), 1000000); }
    else { set \$.fixed = \$.m; }
    action(type="mmnormalize" rulebase="$DIR/cef.rb" variable="\$.fixed")
    set \$!peer!parsed_as = "cef";
    set \$!peer!parsesuccess = \$parsesuccess;
  } else if re_match(\$.m, "^[{]") then {
    action(type="mmjsonparse" cookie="" container="\$!json")
    set \$!peer!parsed_as = "json";
    set \$!peer!parsesuccess = \$parsesuccess;
  } else {
    set \$!peer!parsed_as = "other";
  }
  action(type="omfile" file="$DIR/parsed.jsonl" template="peerjson")
}
CONF
}

tries=0
while :; do
	tries=$((tries + 1))
	[ "$fixed_port" = 1 ] || PORT=$("$PY" "$LIB/freeport.py")
	if listening "$PORT"; then
		if [ "$fixed_port" = 1 ]; then
			# the previous instance's socket may linger for a moment after a stop
			i=0; while listening "$PORT" && [ $i -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
			listening "$PORT" && { echo "port $PORT already in use" >&2; exit 1; }
		else
			continue
		fi
	fi
	write_conf
	rsyslogd -N1 -f "$DIR/rsyslog.conf" >"$DIR/rsyslogd-check.log" 2>&1 ||
	    { cat "$DIR/rsyslogd-check.log" >&2; exit 1; }
	rm -f "$DIR/rsyslogd.pid"
	rsyslogd -n -f "$DIR/rsyslog.conf" -i "$DIR/rsyslogd.pid" </dev/null >>"$DIR/rsyslogd.log" 2>&1 &
	bg=$!
	echo "$bg" > "$DIR/rsyslogd.bgpid"
	i=0
	while [ $i -lt 100 ]; do
		if ! alive "$bg"; then break; fi
		if listening "$PORT" && [ -s "$DIR/rsyslogd.pid" ]; then
			echo "$PORT" > "$DIR/port"
			rm -f "$DIR/rsyslogd.bgpid"
			echo "receiver listening on 127.0.0.1:$PORT, output $DIR/parsed.jsonl"
			exit 0
		fi
		i=$((i + 1)); sleep 0.05
	done
	alive "$bg" && { kill -TERM "$bg" 2>/dev/null || true; sleep 0.3; kill -KILL "$bg" 2>/dev/null || true; }
	rm -f "$DIR/rsyslogd.bgpid"
	if [ "$fixed_port" = 1 ] || [ $tries -ge 3 ]; then
		echo "receiver failed to start:" >&2; tail -n 20 "$DIR/rsyslogd.log" >&2; exit 1
	fi
done
