# tap.sh: the TAP lines every shell test prints (sourced by tests/cli/lib.sh
# and tests/e2e/lib.sh): "ok N - what", or "not ok N - what" followed by
# the failing output as "#" lines.  tests/run counts them.
TAP_N=0

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1"; }
not_ok() {
	TAP_N=$((TAP_N + 1))
	echo "not ok $TAP_N - $1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" | head -n 20 | sed 's/^/#   /'
}
