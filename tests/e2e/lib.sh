# lib.sh: TAP helpers for the end-to-end tests, which run in the lab
# (lab/lab.sh, sourced here).  Each check prints "ok N - what" or
# "not ok N - what" with the failing output as "#" lines; tests/run counts.
# Run from the repository root, as root.
BMLB=${BMLB:-build/bmlb}
# shellcheck source=lab/lab.sh
source lab/lab.sh
[[ -x $BMLB ]] && LAB_BMLB=$(realpath "$BMLB")
# shellcheck source=tests/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tap.sh"
E2E_TMP=$(mktemp -d /tmp/bmlb-e2e.XXXXXX)
trap 'rm -rf "$E2E_TMP"' EXIT


# check WHAT CMD...: ok when CMD succeeds; its output is shown otherwise.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$what"; else not_ok "$what" "$out"; fi
}

# check_fails WHAT CMD...: ok when CMD fails.
check_fails() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then not_ok "$what (it succeeded)" "$out"
	else ok "$what"; fi
}

# skip_all WHY: the whole file is skipped (one SKIP line).
skip_all() {
	echo "ok 1 # SKIP $1"
	exit 0
}

# e2e_require: skips when this machine cannot run labs.
e2e_require() {
	[[ $(id -u) == 0 ]] || skip_all "the lab needs root"
	local t=e2echeck$$
	ip netns add "$t" 2>/dev/null || skip_all "no network namespaces here"
	ip netns del "$t"
	local c
	for c in ip bridge ping ss "$LAB_PYTHON"; do
		command -v "$c" >/dev/null ||
			skip_all "$c is missing (scripts/setup installs it)"
	done
}

# ping_ok HOST ADDR: one ping from HOST reaches ADDR (2 s at most).
ping_ok() { lab_exec "$1" ping -n -q -c 1 -W 2 "$2"; }
