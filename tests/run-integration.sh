#!/bin/sh
# Runs every integration suite (tests/integration/*.sh) against BUILD_DIR, one after the other,
# prints their output and one summed closing line `N passed, N failed`.
# usage: sh tests/run-integration.sh BUILD_DIR      (`make integration`)
# Exit status non-zero if any test failed or a suite did not finish with its summary line.
set -u
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$1
passed=0; failed=0; status=0; nsuites=0
t0=$(date +%s)
out=$(mktemp "${TMPDIR:-/tmp}/ampstream-integration.XXXXXX") || exit 2
trap 'rm -f "$out" "$out.rc"' EXIT
for suite in "$ROOT"/tests/integration/*.sh; do
	[ -f "$suite" ] || continue
	name=$(basename "$suite")
	nsuites=$((nsuites + 1))
	echo "# === $name"
	s0=$(date +%s)
	{ sh "$suite" "$BUILD" 2>&1; echo "$?" > "$out.rc"; } | tee "$out"
	rc=$(cat "$out.rc" 2>/dev/null || echo 1)
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	if [ -z "$last" ]; then
		echo "not ok - $name: suite ended without its summary line"
		failed=$((failed + 1)); status=1
	else
		p=${last%% passed*}; f=${last#*passed, }; f=${f%% failed*}
		passed=$((passed + p)); failed=$((failed + f))
		[ "$f" -eq 0 ] || status=1
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "not ok - $name: suite exited with status $rc"
			failed=$((failed + 1)); status=1
		fi
	fi
	echo "# === $name: $(( $(date +%s) - s0 )) s"
done
if [ "$nsuites" -eq 0 ]; then
	echo "not ok - run-integration: no suite in tests/integration"
	failed=$((failed + 1))
fi
echo "# integration: $nsuites suite(s), $(( $(date +%s) - t0 )) s"
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
