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

# e2e_require [TOOL...]: skips when this machine cannot run labs, or
# lacks one of the test's own TOOLs.
e2e_require() {
	[[ $(id -u) == 0 ]] || skip_all "the lab needs root"
	local t=e2echeck$$
	ip netns add "$t" 2>/dev/null || skip_all "no network namespaces here"
	ip netns del "$t"
	local c
	for c in ip bridge ping ss "$LAB_PYTHON" "$@"; do
		command -v "$c" >/dev/null ||
			skip_all "$c is missing (scripts/setup installs it)"
	done
}

# ping_ok HOST ADDR: one ping from HOST reaches ADDR (2 s at most).
ping_ok() { lab_exec "$1" ping -n -q -c 1 -W 2 "$2"; }

# plan_field SERVICE FIELD: a field of the plan's entry for default/SERVICE.
plan_field() {
	"$LAB_BMLB" plan --config "$LAB_CLUSTER" --manifests "$LAB_MANIFESTS" \
		--json 2>/dev/null | "$LAB_PYTHON" -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] == sys.argv[1]:
        print(s[sys.argv[2]])' "$1" "$2"
}

# saw_client FILE SPORT N: N answers, answer i from a pod that saw the
# lab's client at port SPORT+i.
saw_client() {
	"$LAB_PYTHON" - "$@" "${LAB_ADDR[client]}" <<'PY'
import sys
path, sport, n, client = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lines = [l.split() for l in open(path)]
assert len(lines) == n, open(path).read()
for i, l in enumerate(lines):
    assert l[1:] == [client, str(sport + i)], (i, l)
PY
}

# answers FILE: "pod peer" per line -> the distinct pods, then the peers.
pods_in() { awk '{print $1}' "$1" | sort -u | tr '\n' ' '; }
peers_in() { awk '{print $2}' "$1" | sort -u | tr '\n' ' '; }

# backends_are NODE SERVICE N: the agent on NODE programs N backends for
# the service's TCP port (within the poll's bound).
backends_are() {
	"$LAB_BMLB" status --state-dir "$LAB_WORK/$1/state" --json 2>/dev/null |
		"$LAB_PYTHON" -c '
import json, sys
st = json.load(sys.stdin)
n = [len(s["backends"]) for s in st["programmed"]
     if s["name"] == sys.argv[1] and s["protocol"] == "TCP"]
sys.exit(0 if n and n[0] == int(sys.argv[2]) else 1)' "$2" "$3"
}

# counter_min NODE NAME MIN: the agent on NODE reports counter NAME >= MIN.
counter_min() {
	"$LAB_BMLB" status --state-dir "$LAB_WORK/$1/state" --json |
		"$LAB_PYTHON" -c '
import json, sys
c = json.load(sys.stdin)["counters"]
sys.exit(0 if c[sys.argv[1]] >= int(sys.argv[2]) else
         "%s = %d" % (sys.argv[1], c[sys.argv[1]]))' "$2" "$3"
}
