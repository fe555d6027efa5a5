# Sequence-test helpers: the fault-injecting receiver (faulty-recv.py) and the sequence checker
# (seqcheck.py). POSIX sh, sourced after common.sh and daemon.sh by a suite that has set LIB, PY,
# AMQP, BR (broker dir) and W (the test's work dir).
# Provides: frecv_start/frecv_stop/frecv_kill/frecv_distinct/frecv_has, publish_paced,
# seq_verdict (t_check on lost = 0, sets LOST and DUPS), spool_bytes.

# frecv_start DIR [OPTIONS...]: start tests/lib/faulty-recv.py DIR OPTIONS in the background
# (see its usage; --port P restarts it on a known port); sets FR_PORT. $FR_PREFIX, if set, is put
# in front of the command (e.g. "ip netns exec NS" to run it in a network namespace).
frecv_start() {
	_fd=$1; shift
	mkdir -p "$_fd"; rm -f "$_fd/port" "$_fd/pid"
	${FR_PREFIX:-} "$PY" "$LIB/faulty-recv.py" "$_fd" "$@" </dev/null >>"$_fd/out" 2>&1 &
	if ! wait_for 10 test -s "$_fd/pid"; then
		tail -n 3 "$_fd/out" 2>/dev/null | sed 's/^/# faulty-recv: /'
		return 1
	fi
	at_exit "kill_if_ours $(cat "$_fd/pid") faulty-recv"
	FR_PORT=$(cat "$_fd/port")
}
# frecv_stop DIR: graceful stop (SIGTERM: it reads until the sender closes, at most 5 s)
frecv_stop() { _frecv_signal "$1" TERM 10; }
# frecv_kill DIR: die now (SIGUSR1: records what is readable, then resets every connection)
frecv_kill() { _frecv_signal "$1" USR1 5; }
_frecv_signal() {
	_fp=$(cat "$1/pid" 2>/dev/null) || return 0
	proc_alive "$_fp" || return 0
	kill "-$2" "$_fp" 2>/dev/null
	wait_for "$3" proc_dead "$_fp" || { kill -KILL "$_fp" 2>/dev/null; wait_for 5 proc_dead "$_fp"; }
	return 0
}
# frecv_distinct DIR: distinct ids received; frecv_has DIR N: at least N distinct ids
frecv_distinct() { grep '^[0-9]' "$1/ids" 2>/dev/null | sort -u | wc -l | tr -d ' '; }
frecv_has() { [ "$(frecv_distinct "$1")" -ge "$2" ]; }

# publish_paced QUEUE START COUNT CHUNK PAUSE_S: publish COUNT numbered events from START in
# chunks of CHUNK, sleeping PAUSE_S between chunks (events keep coming during a fault). Run it
# in the background; a failed chunk is retried once, and reported in $W/publish.err.
publish_paced() {
	_k=$2; _end=$(($2 + $3))
	while [ "$_k" -lt "$_end" ]; do
		_c=$4; [ $((_k + _c)) -gt "$_end" ] && _c=$((_end - _k))
		$AMQP seq "$BR" "$1" "$_c" --start "$_k" 2>/dev/null ||
		    { sleep 1; $AMQP seq "$BR" "$1" "$_c" --start "$_k" 2>>"$W/publish.err"; } ||
		    echo "chunk $_k+$_c failed" >> "$W/publish.err"
		_k=$((_k + _c))
		[ "$_k" -lt "$_end" ] && sleep "$5"
	done
	return 0
}

# spool_bytes DIR: bytes in DIR's spool segment files (*.seg), 0 if none
spool_bytes() {
	find "$1" -name '*.seg' -type f -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}'
}

# seq_verdict QUEUE START N [--spool DIR] FILE...: with the daemon stopped, read the ids still
# in QUEUE (ready), run seqcheck.py over FILE... (+ records still in the spool DIR) and check
# that nothing was lost (and no bad record). Sets SEQ_OUT (its output), LOST, DUPS, QUEUED.
seq_verdict() {
	_sq=$1; _ss=$2; _sn=$3; shift 3
	wait_for 15 unacked_zero "$_sq"
	$AMQP ids "$BR" "$_sq" > "$W/left.ids" 2>/dev/null
	SEQ_OUT=$("$PY" "$LIB/seqcheck.py" "$_ss" "$_sn" --queued "$W/left.ids" "$@"); _src=$?
	LOST=$(echo "$SEQ_OUT" | sed -n 's/.* lost=\([0-9]*\).*/\1/p' | head -n 1)
	DUPS=$(echo "$SEQ_OUT" | sed -n 's/.* duplicates=\([0-9]*\).*/\1/p' | head -n 1)
	QUEUED=$(echo "$SEQ_OUT" | sed -n 's/.* queued=\([0-9]*\).*/\1/p' | head -n 1)
	if [ "$_src" -eq 0 ]; then t_pass; else
		t_fail "sequence check $_ss..$((_ss + _sn - 1)): $(echo "$SEQ_OUT" | tr '\n' '|')"
	fi
}
