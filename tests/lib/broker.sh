#!/bin/sh
# A private RabbitMQ node for tests (Debian rabbitmq-server 3.10), isolated from any system broker
# and from other suites running in parallel. Recipe measured in the project's research notes
# ("A private RabbitMQ node for tests", shared/FINDINGS.md section 6 at the time of writing).
#
# usage: broker.sh start DIR [--tls]   start a node with its data, logs, config under DIR
#        broker.sh stop DIR            stop it (and its private epmd) by pid
#        broker.sh restart DIR         stop and start again: same node name, ports, data
#        broker.sh ctl DIR ARGS...     run rabbitmqctl against it
#
# start writes DIR/broker.env (sourceable):
#   BROKER_HOST=127.0.0.1 BROKER_PORT BROKER_TLS_PORT (empty without --tls) BROKER_CA
#   BROKER_WRONG_CA (empty without --tls) BROKER_USER BROKER_PASSWORD_FILE (mode 0600)
#   BROKER_NODE BROKER_PIDFILE BROKER_DIR
# Extra rabbitmq.conf lines: env BROKER_EXTRA_CONF (e.g. "consumer_timeout = 5000"), read by
# start only (restart keeps the config written by start).
# Isolation: rabbitmq-server is run directly (the /usr/sbin wrapper switches user and HOME), with
# a private node name, HOME (own .erlang.cookie), epmd (own port, loopback), distribution port
# (loopback only), rabbitmqctl distribution port range, config, data and log dirs; no plugins.
set -eu

RMQ_BIN=/usr/lib/rabbitmq/bin
LIB=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3

usage() { echo "usage: $0 start DIR [--tls] | stop DIR | restart DIR | ctl DIR ARGS..." >&2; exit 2; }
die() { echo "broker.sh: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

# rmq_env: export everything rabbitmq-server and rabbitmqctl need, from DIR/broker.state.
rmq_env() {
	. "$D/broker.state"
	export HOME="$D/home"
	export RABBITMQ_NODENAME="$NODE"
	export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
	export RABBITMQ_NODE_PORT="$PORT"
	export RABBITMQ_DIST_PORT="$DIST_PORT"
	export ERL_EPMD_PORT="$EPMD_PORT"
	export ERL_EPMD_ADDRESS=127.0.0.1
	export RABBITMQ_MNESIA_BASE="$D/mnesia"
	export RABBITMQ_LOG_BASE="$D/log"
	export RABBITMQ_PID_FILE="$D/rabbit.pid"
	export RABBITMQ_CONFIG_FILE="$D/etc/rabbitmq.conf"
	export RABBITMQ_ADVANCED_CONFIG_FILE="$D/etc/advanced.config"
	export RABBITMQ_ENABLED_PLUGINS_FILE="$D/etc/enabled_plugins"
	export RABBITMQ_CONF_ENV_FILE="$D/etc/rabbitmq-env.conf"
	export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
	export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
	export RABBITMQ_CTL_DIST_PORT_MIN="$CTL_PORT"
	export RABBITMQ_CTL_DIST_PORT_MAX=$((CTL_PORT + 9))
	unset RABBITMQ_ENABLED_PLUGINS RABBITMQ_USE_LONGNAME 2>/dev/null || true
}

ctl() { "$RMQ_BIN/rabbitmqctl" -n "$NODE" "$@"; }

# pick_ports: node, dist, epmd, tls ports and a block of 10 for rabbitmqctl.
pick_ports() {
	set -- $("$PY" "$LIB/freeport.py" 4)
	PORT=$1; DIST_PORT=$2; EPMD_PORT=$3; TLS_PORT_P=$4
	CTL_PORT=$("$PY" "$LIB/freeport.py" --block 10)
}

# setup: state, secrets, TLS material and config for a new node (first start only).
setup() {
	rm -rf "$D/home" "$D/mnesia" "$D/log" "$D/etc"
	mkdir -p "$D/home" "$D/mnesia" "$D/log" "$D/etc"
	chmod 0700 "$D" "$D/home"
	pick_ports
	rnd=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	NODE="ampstream-test-$rnd@localhost"
	[ "$TLS" = 1 ] || TLS_PORT_P=""
	cat > "$D/broker.state" <<EOF
NODE='$NODE'
PORT='$PORT'
TLS_PORT='$TLS_PORT_P'
DIST_PORT='$DIST_PORT'
EPMD_PORT='$EPMD_PORT'
CTL_PORT='$CTL_PORT'
TLS='$TLS'
EOF
	(umask 077
	 od -An -N20 -tu1 /dev/urandom | tr -s ' \n' '\n' | grep . |
	     while read -r b; do printf "\\$(printf '%03o' $((65 + b % 26)))"; done > "$D/home/.erlang.cookie"
	 od -An -N18 -tx1 /dev/urandom | tr -d ' \n' > "$D/password")
	chmod 0400 "$D/home/.erlang.cookie"; chmod 0600 "$D/password"
	pw=$(cat "$D/password")
	printf '[].\n' > "$D/etc/enabled_plugins"
	printf '[].\n' > "$D/etc/advanced.config"
	: > "$D/etc/rabbitmq-env.conf"
	{
		echo "listeners.tcp.1 = 127.0.0.1:$PORT"
		echo "disk_free_limit.absolute = 50MB"
		echo "default_vhost = /"
		echo "default_user = ampstream"
		echo "default_pass = $pw"
		echo "default_permissions.configure = .*"
		echo "default_permissions.read = .*"
		echo "default_permissions.write = .*"
		echo "log.file.level = info"
		echo "log.console = false"
		if [ "$TLS" = 1 ]; then
			sh "$LIB/tlsca.sh" "$D/tls"
			echo "listeners.ssl.1 = 127.0.0.1:$TLS_PORT_P"
			echo "ssl_options.cacertfile = $D/tls/ca.pem"
			echo "ssl_options.certfile = $D/tls/server.pem"
			echo "ssl_options.keyfile = $D/tls/server.key"
			echo "ssl_options.verify = verify_none"
			echo "ssl_options.fail_if_no_peer_cert = false"
			echo "ssl_options.versions.1 = tlsv1.3"
			echo "ssl_options.versions.2 = tlsv1.2"
		fi
		[ -z "${BROKER_EXTRA_CONF:-}" ] || printf '%s\n' "$BROKER_EXTRA_CONF"
	} > "$D/etc/rabbitmq.conf"
	chmod 0600 "$D/etc/rabbitmq.conf"
}

# launch: private epmd, then the node; wait until it is ready. Status 1 if it did not come up.
launch() {
	rmq_env
	rm -f "$D/rabbit.pid"
	ERL_EPMD_ADDRESS=127.0.0.1 epmd -port "$EPMD_PORT" </dev/null >"$D/log/epmd.out" 2>&1 &
	echo $! > "$D/epmd.pid"
	i=0
	until ss -Hltn "sport = :$EPMD_PORT" | grep -q .; do
		i=$((i + 1)); [ $i -lt 50 ] || { echo "epmd did not start" >&2; return 1; }
		sleep 0.1
	done
	"$RMQ_BIN/rabbitmq-server" </dev/null >"$D/log/server.out" 2>&1 &
	echo $! > "$D/wrapper.pid"
	if ! ctl wait --timeout 90 "$D/rabbit.pid" >"$D/log/wait.out" 2>&1 ||
	   ! ctl await_startup --timeout 60 >>"$D/log/wait.out" 2>&1; then
		return 1
	fi
	if [ "$TLS" = 1 ]; then
		i=0
		until ss -Hltn "sport = :$TLS_PORT" | grep -q .; do
			i=$((i + 1)); [ $i -lt 50 ] || { echo "TLS listener did not start" >&2; return 1; }
			sleep 0.1
		done
	fi
	return 0
}

# write_env: the public, sourceable description of the node.
write_env() {
	. "$D/broker.state"
	ca=""; wca=""
	[ "$TLS" = 1 ] && { ca="$D/tls/ca.pem"; wca="$D/tls/wrong-ca.pem"; }
	cat > "$D/broker.env.tmp" <<EOF
BROKER_HOST='127.0.0.1'
BROKER_PORT='$PORT'
BROKER_TLS_PORT='$TLS_PORT'
BROKER_CA='$ca'
BROKER_WRONG_CA='$wca'
BROKER_USER='ampstream'
BROKER_PASSWORD_FILE='$D/password'
BROKER_NODE='$NODE'
BROKER_PIDFILE='$D/rabbit.pid'
BROKER_DIR='$D'
EOF
	mv "$D/broker.env.tmp" "$D/broker.env"
}

# kill_wait PID TIMEOUT_DECISECONDS: TERM, wait, KILL.
kill_wait() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -ge "$2" ]; then kill -KILL "$1" 2>/dev/null || true; sleep 0.2; break; fi
		sleep 0.1
	done
}

# halt: stop the node, its wrapper shell and its epmd, each by pid.
halt() {
	[ -f "$D/broker.state" ] || return 0
	. "$D/broker.state"
	[ -f "$D/rabbit.pid" ] && kill_wait "$(cat "$D/rabbit.pid")" 300
	[ -f "$D/wrapper.pid" ] && kill_wait "$(cat "$D/wrapper.pid")" 50
	[ -f "$D/epmd.pid" ] && kill_wait "$(cat "$D/epmd.pid")" 50
	rm -f "$D/rabbit.pid" "$D/wrapper.pid" "$D/epmd.pid"
	# the node's listeners are gone once the VM has exited
	i=0
	while ss -Hltn "sport = :$PORT" | grep -q . && [ $i -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
	return 0
}

[ $# -ge 2 ] || usage
cmd=$1; D=$(realpath -m "$2"); shift 2
case $cmd in
start)
	TLS=0
	[ "${1:-}" = --tls ] && TLS=1
	mkdir -p "$D"
	if [ -f "$D/rabbit.pid" ] && kill -0 "$(cat "$D/rabbit.pid")" 2>/dev/null; then
		die "a node is already running in $D"
	fi
	t0=$(now_ms)
	tries=0
	while :; do
		tries=$((tries + 1))
		setup
		launch && break
		# a port taken between picking and binding (a parallel suite) is the usual cause:
		# retry with fresh ports, twice
		echo "broker.sh: node did not start (try $tries), log:" >&2
		tail -n 20 "$D/log/wait.out" "$D/log/server.out" >&2 2>/dev/null || true
		halt
		[ $tries -lt 3 ] || die "giving up"
	done
	write_env
	echo "broker $NODE ready on 127.0.0.1:$PORT${TLS_PORT:+ (amqps $TLS_PORT)} in $(( $(now_ms) - t0 )) ms"
	;;
stop)
	halt
	;;
restart)
	[ -f "$D/broker.state" ] || die "no broker in $D"
	halt
	t0=$(now_ms)
	launch || { tail -n 20 "$D/log/wait.out" "$D/log/server.out" >&2; halt; die "restart failed"; }
	write_env
	echo "broker $NODE restarted in $(( $(now_ms) - t0 )) ms"
	;;
ctl)
	[ -f "$D/broker.state" ] || die "no broker in $D"
	rmq_env
	exec "$RMQ_BIN/rabbitmqctl" -n "$NODE" "$@"
	;;
*) usage ;;
esac
