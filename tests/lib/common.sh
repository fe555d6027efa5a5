# Shared helpers for the integration suites and the demo. POSIX sh, meant to be sourced:
#   LIB=/path/to/tests/lib; . "$LIB/common.sh"
# Provides: private temp dirs, an EXIT cleanup stack, wait_for, process helpers, and test
# bookkeeping (t_begin/t_check/t_fail/t_end, pass/fail counters, a closing summary line).

PY=/usr/bin/python3   # Debian's python3 (has python3-pika); a pyenv python3 on PATH may not

# --- temp dirs and cleanup ----------------------------------------------------------------
CLEANUP_CMDS=""
# at_exit CMD: run CMD (a shell string) when the script exits; last registered runs first.
at_exit() {
	CLEANUP_CMDS="$1
$CLEANUP_CMDS"
}
run_cleanup() {
	_cmds=$CLEANUP_CMDS; CLEANUP_CMDS=""
	printf '%s\n' "$_cmds" | while IFS= read -r _c; do
		# never a failing status: a script under set -e (bench/run.sh) would take it as its own
		[ -z "$_c" ] || eval "$_c" </dev/null >/dev/null 2>&1 || :
	done
	return 0
}
install_traps() {
	trap 'run_cleanup' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}
# mk_tmpdir TAG: a fresh private directory (mode 0700) in $TMPD, removed at exit unless
# KEEP_TMP=1. Call it directly (not in $(...): the cleanup must be registered in this shell).
mk_tmpdir() {
	TMPD=$(mktemp -d "${TMPDIR:-/tmp}/ampstream-${1:-test}.XXXXXX") || return 1
	chmod 0700 "$TMPD"
	[ "${KEEP_TMP:-0}" = 1 ] || at_exit "rm -rf '$TMPD'"
}

# --- time and waiting ---------------------------------------------------------------------
now_ms() { date +%s%3N; }
# secs_since START_MS: elapsed seconds with one decimal
secs_since() { _e=$(( $(now_ms) - $1 )); printf '%d.%d' $((_e / 1000)) $(((_e % 1000) / 100)); }
# wait_for TIMEOUT_S CMD...: poll CMD every 0.2 s until it succeeds (0) or the time is up (1).
wait_for() {
	_deadline=$(( $(now_ms) + $1 * 1000 )); shift
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -ge "$_deadline" ] && return 1
		sleep 0.2
	done
}

# --- processes ----------------------------------------------------------------------------
# proc_alive PID: the process exists and is not a zombie (a zombie child passes `kill -0`).
proc_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	_st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ]
}
proc_dead() { ! proc_alive "$1"; }
# stop_pid PID [TIMEOUT_S] [SIGNAL]: send SIGNAL (default TERM), wait, then SIGKILL.
# Returns 0 if it exited by itself within TIMEOUT_S, 1 if it had to be killed.
stop_pid() {
	_p=$1; _t=${2:-10}; _sig=${3:-TERM}
	proc_alive "$_p" || return 0
	kill "-$_sig" "$_p" 2>/dev/null || true
	wait_for "$_t" proc_dead "$_p" && return 0
	kill -KILL "$_p" 2>/dev/null || true
	wait_for 5 proc_dead "$_p"
	return 1
}
# kill_if_ours PID WORD: SIGKILL PID only if its command line still contains WORD (for exit
# traps: the pid may have been reused since).
kill_if_ours() {
	tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -q -- "$2" && kill -KILL "$1" 2>/dev/null
	return 0
}
# port_listening PORT: something listens on 127.0.0.1:PORT (or on any address).
port_listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
port_free() { ! port_listening "$1"; }
freeport() { "$PY" "$LIB/freeport.py" "$@"; }

# --- test bookkeeping ---------------------------------------------------------------------
PASSED=0; FAILED=0
T_NAME=""; T_REASONS=""; T_CHECKS=0
note() { printf '# %s\n' "$*"; }
# t_begin NAME: start a test; every test must make at least one check.
t_begin() { T_NAME=$1; T_REASONS=""; T_CHECKS=0; }
# t_fail REASON: record a failed check.
t_fail() { T_CHECKS=$((T_CHECKS + 1)); T_REASONS="${T_REASONS:+$T_REASONS; }$1"; }
# t_pass: record a passed check.
t_pass() { T_CHECKS=$((T_CHECKS + 1)); }
# t_check DESC CMD...: run CMD; a non-zero status is a failure described by DESC.
t_check() { _desc=$1; shift; if "$@"; then t_pass; else t_fail "$_desc"; fi; }
# t_eq WHAT EXPECTED ACTUAL
t_eq() { if [ "$2" = "$3" ]; then t_pass; else t_fail "$1: expected '$2', got '$3'"; fi; }
# t_ge WHAT MIN ACTUAL (integers)
t_ge() { if [ "$3" -ge "$2" ] 2>/dev/null; then t_pass; else t_fail "$1: expected >= $2, got '$3'"; fi; }
# t_end: print `ok - NAME` or `not ok - NAME: reasons`, count it.
t_end() {
	[ "$T_CHECKS" -gt 0 ] || T_REASONS="${T_REASONS:+$T_REASONS; }test made no check (harness defect)"
	if [ -z "$T_REASONS" ]; then
		PASSED=$((PASSED + 1)); printf 'ok - %s\n' "$T_NAME"
	else
		FAILED=$((FAILED + 1)); printf 'not ok - %s: %s\n' "$T_NAME" "$T_REASONS"
	fi
	T_NAME=""
}
# t_skip_all REASON NAME...: report tests that could not run as failures (a missing
# prerequisite is not a pass).
t_fail_all() {
	_r=$1; shift
	for _n in "$@"; do t_begin "$_n"; t_fail "$_r"; t_end; done
}
# summary: the closing line; status 0 only if nothing failed.
summary() { printf '%d passed, %d failed\n' "$PASSED" "$FAILED"; [ "$FAILED" -eq 0 ]; }
# show_tail FILE [N]: last N lines of a log, as comments (for failure context).
show_tail() { [ -f "$1" ] && tail -n "${2:-15}" "$1" | sed "s|^|#   $(basename "$1"): |"; return 0; }

# suite_init NAME "$@": what every integration suite starts with, after sourcing this file:
# traps, BUILD (from the suite's argument), the daemon binaries (ASAN_BIN, PLAIN_BIN), AMQP,
# the sanitizers' options, SUITE_T0, the suite's temp dir T and its broker dir BR.
suite_init() {
	_sname=$1; shift
	[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
	install_traps
	BUILD=$(cd "$1" 2>/dev/null && pwd) || { echo "no build dir $1" >&2; exit 2; }
	ASAN_BIN=$BUILD/asan/ampstream
	PLAIN_BIN=$BUILD/ampstream
	AMQP="$PY $LIB/amqp.py"
	export ASAN_OPTIONS="detect_leaks=1:exitcode=86:abort_on_error=0:print_summary=1"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
	SUITE_T0=$(now_ms)
	mk_tmpdir "$_sname" || exit 2
	T=$TMPD
	BR=$T/broker
}
