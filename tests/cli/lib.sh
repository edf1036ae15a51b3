# lib.sh: TAP helpers for the command-line tests (sourced).
# Each check prints "ok N - what" or "not ok N - what"; tests/run counts.
BMLB=${BMLB:-build/bmlb}
EXAMPLES=${EXAMPLES:-examples}
# shellcheck source=tests/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tap.sh"
TMP=$(mktemp -d /tmp/bmlb-cli.XXXXXX)
trap 'rm -rf "$TMP"' EXIT


# run CMD...: runs it, keeping exit status in RC, stdout in OUT, stderr in ERR.
run() {
	RC=0
	"$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}

# expect_rc WHAT N: the last run exited with status N.
expect_rc() {
	if [ "$RC" -eq "$2" ]; then ok "$1 (exit $2)"; else
		not_ok "$1: exit $RC, want $2" "$ERR"; fi
}

# expect_err WHAT TEXT: the last run's stderr has a line containing TEXT.
expect_err() {
	if grep -qF -- "$2" "$TMP/err"; then ok "$1"; else
		not_ok "$1: stderr lacks: $2" "$ERR"; fi
}

# expect_out WHAT TEXT: the last run's stdout contains TEXT.
expect_out() {
	if grep -qF -- "$2" "$TMP/out"; then ok "$1"; else
		not_ok "$1: stdout lacks: $2" "$OUT"; fi
}

# expect_diag_format WHAT: every stderr line but the summary is a diagnostic
# FILE:LINE:COL: path: what is wrong; what would be valid
expect_diag_format() {
	local bad
	bad=$(grep -vE '^[0-9]+ problems? found' "$TMP/err" |
		grep -vE '^[^:]+:[0-9]+:[0-9]+: ([^ ]+: )?[^;]+; .+' || true)
	if [ -z "$bad" ] && [ -s "$TMP/err" ]; then ok "$1"; else
		not_ok "$1: lines not in diagnostic format" "$bad"; fi
}

# unreadable_dir: makes $TMP/pub/locked, a directory nobody may read, beside
# a copy of the example cluster file in $TMP/pub, and sets AS_USER, the
# prefix that runs a command as nobody when the tests run as root (root
# reads any directory).
unreadable_dir() {
	AS_USER=()
	[ "$(id -u)" != 0 ] || AS_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	mkdir -p "$TMP/pub/locked"
	cp "$EXAMPLES/cluster.yaml" "$TMP/pub/"
	chmod 711 "$TMP"
	chmod 755 "$TMP/pub"
	chmod 000 "$TMP/pub/locked"
}
