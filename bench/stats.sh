# shellcheck shell=bash
# stats.sh: the numbers of the bench scripts (sourced by bench/lab,
# bench/nodeport and bench/synflood; ct_states needs a lab up).  Missing results are NA: medians skip them, arithmetic
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

# ct_states NODE: NODE's tracked TCP flows by state (its agent's pinned
# lb_ct), "established 12, new 3".
ct_states() {
	lab_exec "$1" bpftool -j map dump pinned \
		"$(echo "$LAB_BPFFS/$1"/v*/lb_ct)" | "$LAB_PYTHON" -c '
import collections, json, sys
names = {0: "new", 1: "established", 2: "closing", 3: "closing", 4: "closed"}
c = collections.Counter(names.get(e["formatted"]["value"]["state"], "?")
                        for e in json.load(sys.stdin)
                        if e["formatted"]["key"]["proto"] == 6)
print(", ".join(f"{n} {k}" for k, n in sorted(c.items())) or "none")'
}
