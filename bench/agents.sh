# shellcheck shell=bash
# agents.sh: asking the lab's agents (sourced by bench/failover and
# bench/reload, after lab/lab.sh; LAB_BMLB is the binary that answers).

# status_py NODE EXPR: EXPR over NODE's `bmlb status --json` (d).
status_py() {
	lab_exec "$1" "$LAB_BMLB" status --state-dir "$LAB_WORK/$1/state" \
		--json 2>/dev/null | "$LAB_PYTHON" -c "import json,sys
d=json.load(sys.stdin)
print($2)" 2>/dev/null
}

# all_ready: every LB node's agent has joined and sees every peer ready.
all_ready() {
	local n
	for n in $(lab_hosts lb); do
		[[ $(status_py "$n" "d['ready'] and all(p['ready'] for p in d['peers'])") == True ]] ||
			return 1
	done
}
