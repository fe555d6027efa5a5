#!/bin/sh
# Integration suite for the Debian package on a real systemd: builds the .deb (`make deb` into
# BUILD_DIR; make rebuilds it only when a source changed), runs lintian, boots a Debian bookworm
# container (systemd-nspawn -b over a cached debootstrap root, tests/lib/systemd-box.sh) and,
# inside it, as an admin would:
#   install    apt install ./ampstream_*.deb: no failed unit, service disabled and inactive,
#              user, /etc/ampstream root:ampstream 0750/0640, state and log directories
#   units      systemd-analyze verify of both units; systemd-analyze security <= 1.5
#   run        a config whose stream is a private RabbitMQ on the host's loopback and whose
#              sinks are an rsyslog receiver on the host's loopback (CEF over TCP) and a file in
#              /var/log/ampstream; `systemctl enable --now`; fixture events arrive at both
#   status     `systemctl status` shows the STATUS= counters; the journal has the daemon's lines
#   reload     `systemctl reload` after the file sink moved: only that sink is replaced, the stream
#              stays on its one connection, records flow to the receiver and the new file
#   logrotate  `logrotate -f /etc/logrotate.d/ampstream`: the file sink's file moves to .1, a new one
#              is created 0640 ampstream, SIGUSR1 reaches the daemon, the next records go there
#   stop       `systemctl stop`: exit 0, Result=success
#   broken     a config with an unknown key: the unit fails once (exit 1) and does not restart
#   template   ampstream@NAME.service with /etc/ampstream/NAME.conf and its own state dir
#   purge      apt purge removes the package's files, configuration, state and logs (files the
#              admin added to /etc/ampstream stay); the ampstream user stays
# usage: sh tests/integration/package.sh BUILD_DIR      (as root: debootstrap, mount, cgroups)
# Prints `ok - NAME` / `not ok - NAME: reason`, figures as `# ` lines, and `N passed, N failed`.
# Env: BOX_CACHE (default /var/cache/ampstream-tests/systemd-box: the bookworm root, made once,
#      ~3 min, then reused), PACKAGE_TIME_LIMIT (default 600 s) bounds the whole suite,
#      KEEP_TMP=1 keeps the temp dir.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$ROOT/tests/lib
. "$LIB/common.sh"
suite_init package "$@"
CACHE=${BOX_CACHE:-/var/cache/ampstream-tests/systemd-box}
BOXSH="bash $LIB/systemd-box.sh"
FIX=$ROOT/tests/fixtures/events/all.jsonl
NFIX=$(grep -c . "$FIX")
BOX=amps-pkg-$$
NAMES="deb lintian box install units run status reload logrotate stop broken template purge"

. "$LIB/daemon.sh"
note "package suite: temp dir $T, box cache $CACHE"

LIMIT=${PACKAGE_TIME_LIMIT:-600}
(i=0; while [ $i -lt "$LIMIT" ]; do sleep 1; i=$((i + 1)); done; kill -USR1 $$) &
at_exit "kill $!"
trap 'note "suite time limit ($LIMIT s) reached"
	if [ -n "$T_NAME" ]; then t_fail "suite time limit reached"; t_end; fi
	summary; exit 1' USR1

# fail_rest REASON: every test not run yet fails with REASON; the summary; exit 1.
DONE=""
fail_rest() {
	for _n in $NAMES; do
		case " $DONE " in *" $_n "*) continue ;; esac
		t_begin "package: $_n"; t_fail "$1"; t_end
	done
	summary; exit 1
}
t_done() { DONE="$DONE $1"; t_end; }

# bx CMD...: run CMD in the box (60 s at most); bxq: quietly, status only.
bx() { timeout 60 $BOXSH exec "$CACHE" "$BOX" "$@"; }
bxq() { bx "$@" >/dev/null 2>&1; }
prop() { bx systemctl show -p "$2" --value "$1" 2>/dev/null; }
# failed_units: the box's failed units, one line each (empty when none)
failed_units() { bx systemctl list-units --failed --plain --no-legend 2>/dev/null | awk '{print $1}'; }
journal() { bx journalctl -u "$1" --no-pager -o cat 2>/dev/null; }
# predicates for wait_for
journal_has() { journal "$1" | grep -q "$2"; }
is_failed() { [ "$(bx systemctl is-failed "$1" 2>/dev/null)" = failed ]; }
status_counts() { prop "$1" StatusText | grep -q '[0-9]'; }
lines_ge() { [ "$(nlines "$1")" -ge "$2" ]; }
lacks() { ! grep -q "$2" "$1"; }
no_kill() { ! bxq test -e /bin/kill; }
# cef_bad FILE: how many of the receiver's records (receiver.sh) are not strict-parsed CEF
cef_bad() {
	"$PY" -c 'import json, sys
bad = 0
for l in open(sys.argv[1], encoding="utf-8", errors="replace"):
    p = json.loads(l).get("parsed", {}).get("peer", {})
    bad += p.get("parsed_as") != "cef" or p.get("parsesuccess") != "OK"
print(bad)' "$1" 2>/dev/null || echo "?"
}

if [ "$(id -u)" -ne 0 ]; then
	fail_rest "needs root (debootstrap, mounts, cgroups for systemd-nspawn)"
fi

# --- deb ------------------------------------------------------------------------------------
t_begin "package: make deb builds ampstream_VERSION_ARCH.deb"
t0=$(now_ms)
if make -s -C "$ROOT" deb B="$BUILD" > "$T/deb.out" 2>&1; then t_pass; else
	t_fail "make deb failed: $(tail -n 3 "$T/deb.out" | tr '\n' '|')"
fi
DEB=$(ls "$BUILD"/ampstream_*_"$(dpkg --print-architecture)".deb 2>/dev/null | tail -n 1)
t_check "no .deb in $BUILD" [ -n "$DEB" ] && [ -f "$DEB" ]
note "deb: ${DEB:-none} ($(stat -c %s "$DEB" 2>/dev/null) bytes) in $(secs_since "$t0") s"
t_done deb
[ -n "$DEB" ] || fail_rest "no package"

t_begin "package: lintian reports no error"
lintian --fail-on error --display-info "$DEB" > "$T/lintian.out" 2>&1
rc=$?
grep -v 'root privileges' "$T/lintian.out" | sed 's/^/# lintian: /'
t_eq "lintian exit status" 0 "$rc"
t_done lintian

# --- the box --------------------------------------------------------------------------------
t_begin "package: a bookworm container boots systemd (systemd-nspawn -b)"
t0=$(now_ms)
if [ ! -d "$CACHE/root" ]; then
	note "making the container root once in $CACHE (debootstrap, a few minutes)"
fi
if ! timeout 900 $BOXSH root "$CACHE" > "$T/box-root.out" 2>&1; then
	t_fail "no container root: $(tail -n 2 "$T/box-root.out" | tr '\n' '|')"
	t_done box; fail_rest "the container did not boot"
fi
note "container root ready in $(secs_since "$t0") s"
t0=$(now_ms)
at_exit "$BOXSH stop '$CACHE' '$BOX'"
if timeout 90 $BOXSH boot "$CACHE" "$BOX" > "$T/box-boot.out" 2>&1; then
	t_pass
	note "container booted in $(secs_since "$t0") s: $(tail -n 1 "$T/box-boot.out")"
else
	t_fail "the container did not boot: $(tail -n 2 "$T/box-boot.out" | tr '\n' '|')"
	show_tail "$CACHE/run/$BOX/console.log" 10
	t_done box; fail_rest "the container did not boot"
fi
BROOT=$($BOXSH path "$CACHE" "$BOX")
t_done box

# The broker and the receiver on the host's loopback (the box shares the network).
suite_broker_start
Q=pkg-q
$AMQP declare "$BR" "$Q" >/dev/null 2>&1 && $AMQP declare "$BR" pkg-q2 >/dev/null 2>&1 ||
    fail_rest "cannot declare the test queues"
R=$T/recv
if ! sh "$LIB/receiver.sh" start "$R" > "$T/recv.out" 2>&1; then
	cat "$T/recv.out" | sed 's/^/# /'; fail_rest "the receiver did not start"
fi
at_exit "sh '$LIB/receiver.sh' stop '$R'"
RPORT=$(cat "$R/port")

# --- install --------------------------------------------------------------------------------
t_begin "package: apt install leaves no failed unit; the service waits for its configuration"
cp "$DEB" "$BROOT/var/tmp/" || t_fail "cannot copy the package into the box"
t0=$(now_ms)
if bx env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    "/var/tmp/$(basename "$DEB")" > "$T/apt-install.out" 2>&1; then t_pass; else
	t_fail "apt install failed: $(tail -n 3 "$T/apt-install.out" | tr '\n' '|')"
fi
note "apt install: $(secs_since "$t0") s"
bx ampstream -V > "$T/version.out" 2>&1
t_check "ampstream -V: $(cat "$T/version.out")" grep -q '^ampstream [0-9]' "$T/version.out"
t_check "no ampstreamctl in /usr/bin" bxq test -x /usr/bin/ampstreamctl
t_eq "failed units after install" "" "$(failed_units)"
t_eq "ampstream.service enabled" disabled "$(bx systemctl is-enabled ampstream.service 2>&1)"
t_eq "ampstream.service active" inactive "$(bx systemctl is-active ampstream.service 2>&1)"
t_check "no user ampstream" bxq getent passwd ampstream
t_eq "/etc/ampstream" "750 root ampstream" "$(bx stat -c '%a %U %G' /etc/ampstream 2>&1)"
t_eq "/etc/ampstream/ampstream.conf" "640 root ampstream" \
    "$(bx stat -c '%a %U %G' /etc/ampstream/ampstream.conf 2>&1)"
t_eq "/var/lib/ampstream" "750 ampstream ampstream" "$(bx stat -c '%a %U %G' /var/lib/ampstream 2>&1)"
t_eq "/var/log/ampstream" "750 ampstream ampstream" "$(bx stat -c '%a %U %G' /var/log/ampstream 2>&1)"
t_check "conffile not registered" bxq sh -c 'dpkg-query -W -f="\${Conffiles}" ampstream | grep -q /etc/ampstream/ampstream.conf'
# what the daemon says of the shipped example (it names secret files that do not exist)
bx ampstream -n > "$T/example-check.out" 2>&1
note "ampstream -n on the shipped example: exit $?: $(head -c 300 "$T/example-check.out" | tr '\n' '|')"
t_done install

# --- units ----------------------------------------------------------------------------------
t_begin "package: systemd-analyze verify and security <= 1.5 on the installed units"
out=$(bx systemd-analyze verify --man=no --recursive-errors=yes ampstream.service \
    ampstream@check.service 2>&1) || t_fail "verify: $(echo "$out" | tr '\n' '|')"
[ -z "$out" ] && t_pass
for u in ampstream.service ampstream@check.service; do
	sec=$(bx systemd-analyze security "$u" 2>&1 |
	    sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	note "systemd-analyze security $u: ${sec:-?}"
	t_check "$u exposure '${sec:-?}' above 1.5" awk -v s="${sec:-99}" 'BEGIN { exit !(s <= 1.5) }'
done
t_check "procps is in the box (the unit must not need /bin/kill)" no_kill
t_done units

# --- run ------------------------------------------------------------------------------------
# conf NAME STATE_DIR QUEUE SINKS: a config in the box's /etc/ampstream, root:ampstream 0640
write_conf() {
	cat > "$BROOT/etc/ampstream/$1.conf" <<EOF
state_dir = "$2";
streams = ( { name = "pkg"; url = "amqp://127.0.0.1:$BROKER_PORT/"; user = "$BROKER_USER";
              password_file = "/etc/ampstream/test.password"; queue = "$3"; } );
sinks = ( $4 );
EOF
	bxq chgrp ampstream "/etc/ampstream/$1.conf"; bxq chmod 0640 "/etc/ampstream/$1.conf"
}
SINKS='{ name = "siem"; type = "tcp"; host = "127.0.0.1"; port = '"$RPORT"'; format = "cef"; },
          { name = "archive"; type = "file"; path = "/var/log/ampstream/events.jsonl"; format = "json"; }'
t_begin "package: systemctl enable --now ampstream forwards events (broker and receiver on the host)"
# the secret as the docs suggest: root:ampstream 0640
cp "$BROKER_PASSWORD_FILE" "$BROOT/etc/ampstream/test.password"
bxq chown root:ampstream /etc/ampstream/test.password; bxq chmod 0640 /etc/ampstream/test.password
write_conf ampstream /var/lib/ampstream "$Q" "$SINKS"
bx ampstream -n > "$T/check.out" 2>&1
t_check "ampstream -n: $(tr '\n' '|' < "$T/check.out")" grep -q 'configuration OK' "$T/check.out"
bx ampstream -n -u ampstream > "$T/check-u.out" 2>&1
t_check "ampstream -n -u ampstream: $(tr '\n' '|' < "$T/check-u.out")" \
    grep -q 'configuration OK' "$T/check-u.out"
t0=$(now_ms)
bx systemctl enable --now ampstream.service > "$T/start.out" 2>&1 ||
    t_fail "systemctl enable --now: $(tr '\n' '|' < "$T/start.out")"
t_eq "active after start" active "$(bx systemctl is-active ampstream.service 2>&1)"
note "systemctl enable --now: $(secs_since "$t0") s"
$AMQP publish "$BR" "$Q" "$FIX" > "$T/publish.out" 2>&1 || t_fail "publish failed"
wait_for 30 lines_ge "$R/parsed.jsonl" "$NFIX"
wait_for 10 lines_ge "$BROOT/var/log/ampstream/events.jsonl" "$NFIX"
t_ge "records at the receiver" "$NFIX" "$(nlines "$R/parsed.jsonl")"
t_ge "records in /var/log/ampstream/events.jsonl" "$NFIX" \
    "$(nlines "$BROOT/var/log/ampstream/events.jsonl")"
t_eq "records the receiver did not parse as CEF" 0 "$(cef_bad "$R/parsed.jsonl")"
wait_for 10 queue_is "$Q" "0 0"
t_eq "queue after delivery (ready unacked)" "0 0" "$($AMQP count "$BR" "$Q" 2>&1)"
if [ -n "$T_REASONS" ]; then journal ampstream.service | tail -n 15 | sed 's/^/#   journal: /'; fi
t_done run

t_begin "package: systemctl status shows the STATUS= counters; the journal has the daemon's lines"
wait_for 12 status_counts ampstream.service
st=$(prop ampstream.service StatusText)
note "STATUS=$st"
bx systemctl status --no-pager ampstream.service > "$T/status.out" 2>&1
t_check "systemctl status has no Status: line with counters" grep -q 'Status: ".*[0-9]' "$T/status.out"
case $st in *pkg*) t_pass ;; *) t_fail "STATUS= does not name the stream" ;; esac
journal ampstream.service > "$T/journal.out"
t_check "no start line in the journal" grep -q 'ampstream .* started: 1 streams, 2 sinks' "$T/journal.out"
t_check "libevent warns in the journal: $(grep -m1 '\[warn\]' "$T/journal.out")" \
    lacks "$T/journal.out" '\[warn\]'
t_done status

t_begin "package: systemctl reload with a changed sink keeps the stream connected"
# the file sink moves: the reload replaces that sink only; the stream stays on its connection
write_conf ampstream /var/lib/ampstream "$Q" "$(echo "$SINKS" | sed 's|events.jsonl|events2.jsonl|')"
bx systemctl reload ampstream.service > "$T/reload.out" 2>&1 ||
    t_fail "systemctl reload: $(tr '\n' '|' < "$T/reload.out")"
wait_for 15 journal_has ampstream.service 'configuration reloaded'
t_check "no 'configuration reloaded' in the journal" \
    journal_has ampstream.service 'configuration reloaded'
t_check "the journal does not say the stream was kept and the sink replaced" \
    journal_has ampstream.service 'reload: keeping 1 of 1 streams and 1 of 2 sinks; replacing sink archive'
t_eq "active after reload" active "$(bx systemctl is-active ampstream.service 2>&1)"
t_eq "stream pkg's connections (one: kept over the reload)" 1 \
    "$(journal ampstream.service | grep -c 'stream pkg: consuming')"
$AMQP publish "$BR" "$Q" "$FIX" > "$T/publish2.out" 2>&1 || t_fail "publish after reload failed"
wait_for 30 lines_ge "$R/parsed.jsonl" $((NFIX * 2))
wait_for 10 lines_ge "$BROOT/var/log/ampstream/events2.jsonl" "$NFIX"
t_ge "records at the receiver after the reload" $((NFIX * 2)) "$(nlines "$R/parsed.jsonl")"
t_ge "records in the moved file sink" "$NFIX" "$(nlines "$BROOT/var/log/ampstream/events2.jsonl")"
t_done reload

t_begin "package: logrotate with the shipped snippet rotates the file sink; records go on"
before=$(nlines "$BROOT/var/log/ampstream/events2.jsonl")
bx logrotate -f /etc/logrotate.d/ampstream > "$T/logrotate.out" 2>&1 ||
    t_fail "logrotate -f: $(tr '\n' '|' < "$T/logrotate.out")"
t_eq "records moved to events2.jsonl.1" "$before" "$(nlines "$BROOT/var/log/ampstream/events2.jsonl.1")"
t_eq "the new events2.jsonl" "640 ampstream ampstream" \
    "$(bx stat -c '%a %U %G' /var/log/ampstream/events2.jsonl 2>&1)"
wait_for 10 journal_has ampstream.service 'SIGUSR1: reopening files'
t_check "no 'SIGUSR1: reopening files' in the journal" \
    journal_has ampstream.service 'SIGUSR1: reopening files'
$AMQP publish "$BR" "$Q" "$FIX" > "$T/publish3.out" 2>&1 || t_fail "publish after logrotate failed"
wait_for 30 lines_ge "$BROOT/var/log/ampstream/events2.jsonl" "$NFIX"
t_eq "records in the new file after the rotation" "$NFIX" \
    "$(nlines "$BROOT/var/log/ampstream/events2.jsonl")"
t_eq "records written to the rotated file after the rotation" "$before" \
    "$(nlines "$BROOT/var/log/ampstream/events2.jsonl.1")"
t_done logrotate

t_begin "package: systemctl stop exits cleanly"
t0=$(now_ms)
bx systemctl stop ampstream.service > "$T/stop.out" 2>&1 || t_fail "systemctl stop: $(tr '\n' '|' < "$T/stop.out")"
note "systemctl stop: $(secs_since "$t0") s"
t_eq "state after stop" inactive "$(bx systemctl is-active ampstream.service 2>&1)"
t_eq "Result after stop" success "$(prop ampstream.service Result)"
t_eq "exit status after stop" 0 "$(prop ampstream.service ExecMainStatus)"
t_done stop

t_begin "package: a broken configuration fails the unit once, without a restart loop"
printf 'log_levle = "info";\n' >> "$BROOT/etc/ampstream/ampstream.conf"
bxq systemctl start ampstream.service && t_fail "systemctl start succeeded with a broken config"
wait_for 10 is_failed ampstream.service
t_eq "state" failed "$(bx systemctl is-failed ampstream.service 2>&1)"
t_eq "exit status" 1 "$(prop ampstream.service ExecMainStatus)"
sleep 6    # past RestartSec=5: a restart would have happened by now
t_eq "state after RestartSec" failed "$(bx systemctl is-failed ampstream.service 2>&1)"
t_eq "restarts" 0 "$(prop ampstream.service NRestarts)"
journal ampstream.service > "$T/journal.out"
t_check "the journal does not name the bad key" grep -q 'log_levle: unknown key' "$T/journal.out"
bxq systemctl reset-failed ampstream.service
bxq systemctl disable ampstream.service
t_done broken

t_begin "package: ampstream@NAME.service runs /etc/ampstream/NAME.conf with its own state dir"
write_conf second /var/lib/ampstream/second pkg-q2 \
    '{ name = "archive"; type = "file"; path = "/var/log/ampstream/second/events.jsonl"; format = "json"; }'
bx systemctl start ampstream@second.service > "$T/inst.out" 2>&1 ||
    t_fail "systemctl start ampstream@second: $(tr '\n' '|' < "$T/inst.out")"
t_eq "instance state" active "$(bx systemctl is-active ampstream@second.service 2>&1)"
$AMQP publish "$BR" pkg-q2 "$FIX" > /dev/null 2>&1
wait_for 20 lines_ge "$BROOT/var/log/ampstream/second/events.jsonl" "$NFIX"
t_ge "records of the instance" "$NFIX" "$(nlines "$BROOT/var/log/ampstream/second/events.jsonl")"
wait_for 10 test -f "$BROOT/var/lib/ampstream/second/status.json"
t_check "no status.json in /var/lib/ampstream/second" test -f "$BROOT/var/lib/ampstream/second/status.json"
bx systemctl stop ampstream@second.service > /dev/null 2>&1
t_eq "instance Result after stop" success "$(prop ampstream@second.service Result)"
t_done template

t_begin "package: apt purge removes the package's files"
bx env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ampstream > "$T/purge.out" 2>&1 ||
    t_fail "apt purge failed: $(tail -n 3 "$T/purge.out" | tr '\n' '|')"
for f in /usr/sbin/ampstream /usr/bin/ampstreamctl /lib/systemd/system/ampstream.service \
    /lib/systemd/system/ampstream@.service /usr/lib/sysusers.d/ampstream.conf \
    /usr/lib/tmpfiles.d/ampstream.conf /usr/share/doc/ampstream /usr/share/man/man5/ampstream.conf.5.gz \
    /etc/ampstream/ampstream.conf /var/lib/ampstream /var/log/ampstream; do
	if bxq test -e "$f"; then t_fail "$f left after purge"; else t_pass; fi
done
# files the admin made (the secret, the instance's config) stay, as dpkg keeps what it does not own
t_eq "left in /etc/ampstream" "second.conf test.password" \
    "$(bx ls /etc/ampstream 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//')"
t_eq "dpkg status" "" "$(bx dpkg-query -W -f='${Status}' ampstream 2>/dev/null)"
t_eq "failed units after purge" "" "$(failed_units)"
t_done purge

note "package suite: $(secs_since "$SUITE_T0") s"
summary
