#!/usr/bin/env bash
# test_neigh.sh: the agents' managed neighbour entries and the failover
# when a backend's node is gone (issue 13), SNAT on the flat lab:
#   - each LB node's agent gives every backend's next hop a managed
#     neighbour entry of its own; an operator's static entry is left alone;
#   - a worker cut off (its link down): the owner's entry for it turns
#     FAILED, its agent logs the worker's backends left out (within the
#     kernel's neighbour timers: reachable 15-45 s, 5 s delay, 3 probes,
#     5 s between the probes of managed entries), status counts them, and
#     every new connection goes to the other worker's pods;
#   - the worker back: its backends come back (logged), connections
#     spread over every pod again;
#   - a next hop no backend uses any more loses bmlb's entry; a stopped
#     agent leaves its entries to the next one.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
e2e_require

# managed NODE ADDR: NODE's eth0 has a managed entry for ADDR.
managed() { lab_exec "$1" ip neigh show dev eth0 "$2" | grep -q ' managed '; }

# status_is NODE PY_EXPR: the agent's status object r satisfies PY_EXPR.
status_is() {
	"$LAB_BMLB" status --state-dir "$LAB_WORK/$1/state" --json |
		"$LAB_PYTHON" -c '
import json, sys
r = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else json.dumps(r["nextHops"]))' "$2"
}

# logged NODE TEXT: the agent of NODE logged a line containing TEXT.
logged() { grep -qF -- "$2" "$(lab_log "agent-$1")"; }

lab_up --shape flat --lb 2 --workers 2 --pods 2 ||
	{ not_ok "the lab comes up"; exit 0; }
pods=(worker-1-pod-1 worker-1-pod-2 worker-2-pod-1 worker-2-pod-2)
for pod in "${pods[@]}"; do
	lab_serve "$pod" --tcp 8080 ||
		{ not_ok "pod servers start"; lab_down; exit 0; }
done
lab_service web tcp/80:8080 "${pods[@]}"
vip=$(plan_field web vip) owner=$(plan_field web owner)
other=$(lab_hosts lb | grep -v "^$owner\$" | head -1)
w1=$(lab_addr worker-1) w2=$(lab_addr worker-2)
p11=$(lab_addr worker-1-pod-1) p12=$(lab_addr worker-1-pod-2)

# An operator's static entry on the other LB node, before its agent runs.
lab_exec "$other" ip neigh replace "$w2" dev eth0 nud permanent \
	lladdr "$(lab_exec worker-2 cat /sys/class/net/eth0/address)"
for n in $(lab_hosts cp lb worker); do
	lab_agent "$n"
done
check "the owner serves the VIP" \
	lab_poll 10 lab_ask client tcp "$vip" 80 --timeout 1
check "the owner's agent programs the four pods" \
	lab_poll 10 backends_are "$owner" web 4
check "the owner has a managed entry for worker-1, the next hop of two" \
	lab_poll 5 managed "$owner" "$w1"
check "... and one for worker-2" managed "$owner" "$w2"
check "... both bmlb's (status)" status_is "$owner" \
	'[h["managed"] for h in r["nextHops"]] == [True, True]'
check "the other LB node manages worker-1 too" \
	lab_poll 5 managed "$other" "$w1"
check "... and leaves the operator's PERMANENT entry for worker-2 alone" \
	bash -c "ip netns exec $(lab_ns "$other") ip neigh show dev eth0 $w2 |
		grep PERMANENT | grep -vq managed"
lab_ask client tcp "$vip" 80 --count 20 --timeout 1 >"$E2E_TMP/before" 2>&1
check "connections spread over the four pods" \
	test "$(pods_in "$E2E_TMP/before" | wc -w)" = 4

# worker-1 gone.
start=$SECONDS
lab_exec worker-1 ip link set eth0 down
check "the owner's agent leaves worker-1's pods out once its neighbour fails (90 s at most)" \
	lab_poll 90 logged "$owner" \
	"backend $p11: next hop $w1 on eth0 unreachable (neighbour FAILED); left out"
echo "# worker-1 left out $((SECONDS - start)) s after its link went down"
check "... both of them" \
	logged "$owner" "backend $p12: next hop $w1 on eth0 unreachable"
check "... the service port changed to two backends, logged" \
	logged "$owner" "changed, 2 backends (was 4); 2 left out, their next hop unreachable"
check "status counts them" status_is "$owner" \
	'(r["backendsLeftOut"] == 2 and r["backendsLeftOutTotal"] >= 2 and
	  [h["unreachable"] for h in r["nextHops"]] == [True, False])'
check "the data plane holds two backends" backends_are "$owner" web 2
lab_ask client tcp "$vip" 80 --count 20 --timeout 1 >"$E2E_TMP/gone" 2>&1
check "20 new connections are all answered" \
	test "$(grep -c " $(lab_addr "$owner") " "$E2E_TMP/gone")" = 20
check "... all by worker-2's pods" \
	test "$(pods_in "$E2E_TMP/gone")" = "worker-2-pod-1 worker-2-pod-2 "

# worker-1 back.
lab_exec worker-1 ip link set eth0 up
check "the owner's agent takes worker-1's pods back (30 s at most)" \
	lab_poll 30 logged "$owner" \
	"backend $p11: next hop $w1 on eth0 reachable (neighbour REACHABLE); back in"
check "the data plane holds the four backends again" \
	lab_poll 3 backends_are "$owner" web 4
check "status: none left out" status_is "$owner" 'r["backendsLeftOut"] == 0'
lab_ask client tcp "$vip" 80 --count 20 --timeout 1 >"$E2E_TMP/back" 2>&1
check "connections spread over the four pods again" \
	test "$(pods_in "$E2E_TMP/back" | wc -w)" = 4

# worker-1's pods leave the Service: its entry is not needed any more.
lab_service web tcp/80:8080 worker-2-pod-1 worker-2-pod-2
check "a next hop no backend uses loses bmlb's entry" \
	lab_poll 5 bash -c "! ip netns exec $(lab_ns "$owner") ip neigh show \
		dev eth0 $w1 | grep -q managed"
lab_stop "agent-$owner"
check "a stopped agent leaves its entries for the next one" \
	managed "$owner" "$w2"
lab_down
exit 0
