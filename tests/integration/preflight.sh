#!/bin/sh
# preflight.sh: `ampstream -n` finds what start-up would hit, as the service's user (-u): secret
# files, CA/certificate/key files (parsed by OpenSSL), file sink and state directories, and names
# an @include'd file in its errors.  No network: it only reads files.  Runs as root (it checks
# as the unprivileged user nobody); not as root, it says so and fails.
# usage: sh tests/integration/preflight.sh BUILD_DIR        Ends with `N passed, N failed`.
set -u
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$ROOT/tests/lib
. "$LIB/common.sh"
BUILD=$(cd "$1" 2>/dev/null && pwd) || { echo "no build dir $1" >&2; exit 2; }
DAEMON=$BUILD/ampstream
PASSED=0; FAILED=0
install_traps
mk_tmpdir preflight || exit 2
T=$TMPD
case $T in /?*) [ -d "$T" ] || exit 2 ;; *) echo "preflight.sh: no temp dir" >&2; exit 2 ;; esac
if [ "$(id -u)" -ne 0 ]; then
	t_fail_all "not root: cannot check as another user" "-n as the service user"
	summary; exit 1
fi
chmod 0755 "$T"			# nobody must reach what it may read
sh "$LIB/tlsca.sh" "$T/pki" || { echo "tlsca.sh failed" >&2; exit 2; }
chmod 0755 "$T/pki"; chmod 0644 "$T/pki/ca.pem"
mkdir -p "$T/etc/conf.d" "$T/state" "$T/logs" "$T/rootonly"
chown nobody "$T/state" "$T/logs"; chmod 0755 "$T/etc" "$T/etc/conf.d"; chmod 0700 "$T/rootonly"
# As ampstreamctl create writes it: root, group of the service user, 0640.
printf 'pw\n' > "$T/etc/s1.password"; chown "root:$(id -gn nobody)" "$T/etc/s1.password"
chmod 0640 "$T/etc/s1.password"
printf 'not a certificate\n' > "$T/etc/junk.pem"; chmod 0644 "$T/etc/junk.pem"

# conf SINK_PATH CA_FILE: main.conf @including conf.d/sinks.conf (relative: found next to main).
conf() {
	cat > "$T/etc/conf.d/sinks.conf" <<EOC
# sinks, included from main.conf
sinks = (
  { name = "f"; type = "file"; format = "json"; path = "$1"; },
  { name = "t"; type = "tls"; host = "127.0.0.1"; port = 6514;
    ca_file = "$2"; }
);
EOC
	cat > "$T/etc/main.conf" <<EOC
state_dir = "$T/state";
@include "conf.d/sinks.conf"
streams = ( { name = "s1"; url = "amqp://127.0.0.1:5672"; user = "u";
    password_file = "$T/etc/s1.password"; queue = "q"; sinks = ["f", "t"]; } );
EOC
	chmod 0644 "$T/etc/main.conf" "$T/etc/conf.d/sinks.conf"
}

# check USER...: run -n from / (a relative @include must not depend on the cwd).
check() { (cd / && "$DAEMON" -n -c "$T/etc/main.conf" "$@") > "$T/out" 2> "$T/err"; echo $? > "$T/rc"; }
rc() { cat "$T/rc"; }
err_has() { grep -qF -- "$1" "$T/err"; }
ends_nl() { [ ! -s "$T/err" ] || [ "$(tail -c 1 "$T/err" | od -An -c | tr -d ' ')" = '\n' ]; }

t_begin "a good config passes, as root and as the service user"
conf "$T/logs/events.jsonl" "$T/pki/ca.pem"
check; t_eq "exit as root" 0 "$(rc)"
t_check "says OK" grep -qx "configuration OK" "$T/out"
check -u nobody; t_eq "exit as nobody" 0 "$(rc)"
t_check "warns: sink outside the unit's directories" err_has \
    "sinks.conf:3: sinks.[0].path: warning: $T/logs/events.jsonl is outside /var/log/ampstream"
t_check "warning line ends in a newline" ends_nl
t_end

t_begin "a CA that is not PEM, a missing one: file, line and key of the included file"
conf "$T/logs/events.jsonl" "$T/etc/junk.pem"
check; t_eq "exit" 1 "$(rc)"
t_check "junk CA named" err_has \
    "$T/etc/conf.d/sinks.conf:4: sinks.[1].ca_file: $T/etc/junk.pem: no PEM certificate found"
conf "$T/logs/events.jsonl" "$T/etc/missing.pem"
check; t_eq "exit" 1 "$(rc)"
t_check "missing CA named" err_has "sinks.[1].ca_file: $T/etc/missing.pem: No such file or directory"
t_check "error line ends in a newline" ends_nl
t_check "no OK" sh -c "! grep -q OK '$T/out'"
t_end

t_begin "a sink directory that is missing, or not writable by the service user"
conf "$T/nodir/events.jsonl" "$T/pki/ca.pem"
check; t_eq "exit" 1 "$(rc)"
t_check "missing dir" err_has "sinks.[0].path: $T/nodir: No such file or directory"
conf "$T/rootonly/events.jsonl" "$T/pki/ca.pem"
check; t_eq "exit as root" 0 "$(rc)"
check -u nobody; t_eq "exit as nobody" 1 "$(rc)"
t_check "unwritable dir as nobody" err_has "sinks.[0].path: $T/rootonly: not writable by uid"
t_end

t_begin "a secret the service user cannot read; a state_dir it cannot write"
conf "$T/logs/events.jsonl" "$T/pki/ca.pem"
chmod 0600 "$T/etc/s1.password"
check -u nobody; t_eq "exit" 1 "$(rc)"
t_check "password_file named" err_has "streams.[0].password_file: $T/etc/s1.password: Permission denied"
chmod 0640 "$T/etc/s1.password"; chown root "$T/state"; chmod 0755 "$T/state"
check -u nobody; t_eq "exit" 1 "$(rc)"
t_check "state_dir named" err_has "state_dir: $T/state: not writable by uid"
chown nobody "$T/state"
check -u nobody; t_eq "fixed: exit" 0 "$(rc)"
t_end

t_begin "an error inside an included file names that file and line"
conf "$T/logs/events.jsonl" "$T/pki/ca.pem"
sed -i 's/port = 6514;/port = 6514; bogus = 1;/' "$T/etc/conf.d/sinks.conf"
check; t_eq "exit" 1 "$(rc)"
t_check "included file:line:key" err_has "$T/etc/conf.d/sinks.conf:4: sinks.[1].bogus: unknown key"
t_check "ends in a newline" ends_nl
t_end

t_begin "-u: unknown user, and -u without -n"
check -u no-such-user-ampstream; t_eq "exit" 1 "$(rc)"
t_check "says why" err_has "-u no-such-user-ampstream: no such user"
"$DAEMON" -u nobody -c "$T/etc/main.conf" > /dev/null 2>&1; t_eq "-u alone is a usage error" 1 "$?"
t_end

summary
