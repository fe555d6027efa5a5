#!/bin/sh
# cef-check.sh: strict CEF check without a daemon, through liblognorm's CEF parser (the one
# rsyslog's mmnormalize uses) and its CLI lognormalizer (Debian package liblognorm-utils).
# Provenance: copied from the project research notes (shared/peers/cef-strict-check.sh, see
# FINDINGS.md section 2); the project must not depend on that directory at run time.
# stdin: one CEF record per line, starting at "CEF:" (no syslog header).
# stdout: one JSON object per line; a record that fails to parse comes out as
# {"originalmsg": ..., "unparsed-data": ...}.  Exit status 1 if any line failed to parse.
# Debian bookworm's liblognorm 2.0.6 skips the character right after the header's 7th unescaped
# '|' (upstream fix 6e6a50b, v2.0.7), so one SP is inserted there first; it also rejects an empty
# value at the very end of the extension (same upstream fix).
set -eu
command -v lognormalizer >/dev/null || { echo "cef-check.sh: lognormalizer not found" >&2; exit 2; }
rb=$(mktemp); trap 'rm -f "$rb"' EXIT
printf 'version=2\nrule=:%%cef:cef%%\n' > "$rb"
out=$(sed -E 's/^(CEF:[0-9]+(\|([^|\\]|\\.)*){6}\|)/\1 /' | lognormalizer -r "$rb" -e json)
printf '%s\n' "$out"
! printf '%s\n' "$out" | grep -q '"unparsed-data"'
