# shellcheck shell=bash
# stats.sh: the numbers of the bench scripts (sourced by bench/lab and
# bench/nodeport).  Missing results are NA: medians skip them, arithmetic
# on them is NA, and tables print them as "-".

median() {
	printf '%s\n' "$@" | grep -v '^NA$' | sort -g |
		awk '{a[NR] = $1} END {print NR ? a[int((NR + 1) / 2)] : "NA"}'
}
calc() {
	[[ $* == *NA* ]] && { echo NA; return; }
	awk "BEGIN {print $*}"
}
fmt() { [[ $2 == NA ]] && echo - || printf "%$1" "$2"; }
pct() { [[ $1 == NA ]] && echo - || printf '%.0f%%' "$1"; }

# counters_delta BEFORE AFTER: of two `bmlb status --json` outputs, the
# data plane counters that moved, "name +n ...".
counters_delta() {
	"$LAB_PYTHON" - "$1" "$2" <<'PY'
import json, sys
a, b = (json.loads(s)["counters"] for s in sys.argv[1:])
print(" ".join(f"{k} +{b[k] - a[k]}" for k in b if b[k] != a[k]) or "none")
PY
}
