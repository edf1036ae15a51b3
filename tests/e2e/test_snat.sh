#!/usr/bin/env bash
# test_snat.sh: SNAT mode end to end (issue 4), in both pod-network shapes:
# real agents on every node, real TCP and UDP from a client behind the
# gateway to two LoadBalancer Services with several pods each.
#   - answers come back from the VIP; pods see the LB node's address;
#   - traffic spreads over the pods;
#   - removing a pod from the EndpointSlice moves only the flows it had;
#   - restarting the owner's agent (SIGUSR2) mid-transfer keeps a TCP
#     transfer alive (its payload checked end to end) and the VIP in place.
# The agents announce the VIPs themselves (test_announce.sh tests that).
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
e2e_require
"$LAB_BMLB" agent --help >/dev/null 2>&1 ||
	skip_all "this bmlb has no agent command"

# last_reload_failed NODE: the agent's last reload was refused.
last_reload_failed() {
	"$LAB_BMLB" status --state-dir "$LAB_WORK/$1/state" --json |
		"$LAB_PYTHON" -c '
import json, sys
r = json.load(sys.stdin)["lastReload"]
sys.exit(0 if r and not r["ok"] else 1)'
}

snat() {
	local shape=$1 vip api_vip owner owner_ip n pod extra=() other_log seen
	lab_up --shape "$shape" --lb 2 --workers 2 --pods 2 ||
		{ not_ok "$shape: the lab comes up"; return; }
	local pods=(worker-1-pod-1 worker-1-pod-2 worker-2-pod-1 worker-2-pod-2)
	for pod in "${pods[@]}"; do
		lab_serve "$pod" --tcp 8080 --udp 5353 ||
			{ not_ok "$shape: pod servers start"; lab_down; return; }
	done
	lab_service web tcp/80:8080,udp/53:5353 "${pods[@]}"
	lab_service api tcp/443:8080 worker-1-pod-2 worker-2-pod-2

	[[ $shape == tunnel ]] && extra=(--tunnel-if vxlan0)
	for n in $(lab_hosts cp lb worker); do
		if [[ ${LAB_ROLE[$n]} == lb ]]; then
			lab_agent "$n" "${extra[@]}"
		else
			lab_agent "$n"
		fi
	done

	vip=$(plan_field web vip) owner=$(plan_field web owner)
	api_vip=$(plan_field api vip)
	check "$shape: the plan gives web a VIP and an owner" \
		test -n "$vip" -a "$vip" != None -a -n "$owner"
	owner_ip=$(lab_addr "$owner")
	check "$shape: the owner announces the VIP and serves it" \
		lab_poll 10 lab_ask client tcp "$vip" 80 --timeout 1
	check "$shape: the gateway sends the VIP's traffic to the owner" \
		lab_poll 10 lab_vip_at "$vip" "$owner"

	check "$shape: the owner's agent programs the service" \
		lab_poll 10 backends_are "$owner" web 4
	lab_ask client tcp "$vip" 80 --count 40 --timeout 1 >"$E2E_TMP/tcp" 2>&1
	check "$shape: 40 TCP connections to the VIP are all answered" \
		test "$(grep -c " $owner_ip " "$E2E_TMP/tcp")" = 40
	check "$shape: the pods saw the LB node's address, not the client's" \
		test "$(peers_in "$E2E_TMP/tcp")" = "$owner_ip "
	check "$shape: TCP connections spread over all four pods" \
		test "$(pods_in "$E2E_TMP/tcp" | wc -w)" = 4
	lab_ask client udp "$vip" 53 --count 40 --timeout 1 >"$E2E_TMP/udp" 2>&1
	check "$shape: 40 UDP exchanges are all answered through the LB node" \
		test "$(grep -c " $owner_ip " "$E2E_TMP/udp")" = 40
	check "$shape: UDP spreads over the pods too" \
		test "$(pods_in "$E2E_TMP/udp" | wc -w)" -ge 3
	check "$shape: the owner's XDP program translated the new flows" \
		counter_min "$owner" fwd_new 60
	check "$shape: ... and the replies" counter_min "$owner" reply 60
	if [[ $shape == tunnel ]]; then
		check "$shape: into the tunnel XDP hands the packets to tc untouched, which sends them (XDP cannot send into VXLAN)" \
			counter_min "$owner" to_tc 40
	else
		check "$shape: packets leave straight from XDP (XDP_TX)" \
			counter_min "$owner" tx 160
	fi
	lab_ask client tcp "$api_vip" 443 --count 20 --timeout 1 >"$E2E_TMP/api" 2>&1
	check "$shape: the second Service answers from its own two pods" \
		test "$(pods_in "$E2E_TMP/api")" = "worker-1-pod-2 worker-2-pod-2 "

	# The same 40 UDP flows (fixed source ports) before and after one
	# pod leaves the EndpointSlice.
	lab_ask client udp "$vip" 53 --count 40 --timeout 1 --sport 21000 >"$E2E_TMP/before"
	lab_service web tcp/80:8080,udp/53:5353 worker-1-pod-2 worker-2-pod-1 \
		worker-2-pod-2
	check "$shape: the agent drops the pod within a second or so" \
		lab_poll 3 backends_are "$owner" web 3
	lab_ask client udp "$vip" 53 --count 40 --timeout 1 --sport 21000 >"$E2E_TMP/after"
	check "$shape: flows of the other pods stay where they were" \
		"$LAB_PYTHON" - "$E2E_TMP/before" "$E2E_TMP/after" <<'PY'
import sys
before, after = ([l.split()[0] for l in open(f)] for f in sys.argv[1:])
assert len(before) == len(after) == 40, (len(before), len(after))
moved = [(b, a) for b, a in zip(before, after) if b != a]
assert all(b == "worker-1-pod-1" for b, _ in moved), moved
assert "worker-1-pod-1" not in after, after
assert any(b == "worker-1-pod-1" for b in before), "no flow was on it"
PY

	# A broken cluster file is refused; the last good state keeps serving.
	cp "$LAB_CLUSTER" "$E2E_TMP/cluster.good"
	sed -i 's/mode: bundled/mode: broken/' "$LAB_CLUSTER"
	check "$shape: the owner refuses an invalid cluster file" \
		lab_poll 3 last_reload_failed "$owner"
	check "$shape: ... and goes on serving the VIP" \
		lab_ask client tcp "$vip" 80 --count 5 --timeout 1
	cp "$E2E_TMP/cluster.good" "$LAB_CLUSTER"

	# A transfer through the owner survives a restart of its agent.
	lab_spawn transfer client "$LAB_PYTHON" "$LAB_DIR/echo.py" ask tcp \
		"$vip" 80 --bytes 3000000 --seconds 4 --timeout 20
	sleep 1
	other_log=$(lab_log "agent-$(lab_hosts lb | grep -v "^$owner\$" | head -1)")
	seen=$(wc -l <"$other_log")
	lab_stop "agent-$owner" USR2
	check "$shape: the agent exits for a restart on SIGUSR2" \
		grep -q "SIGUSR2: exiting for a restart" "$(lab_log "agent-$owner")"
	if [[ ${LAB_ROLE[$owner]} == lb && $shape == tunnel ]]; then
		lab_agent "$owner" "${extra[@]}"
	else
		lab_agent "$owner"
	fi
	lab_poll 20 bash -c "! kill -0 $(cat "$LAB_WORK/pids/transfer") 2>/dev/null"
	check "$shape: the transfer across the restart arrived intact" \
		grep -q "sha256 ok" "$(lab_log transfer)"
	check "$shape: the restarted agent took the data plane over" \
		lab_poll 10 backends_are "$owner" web 3
	check "$shape: ... resumed the announcement, and the VIP never moved" \
		grep -q "resuming the announcement" "$(lab_log "agent-$owner")"
	check_fails "$shape: no other LB node took the VIP meanwhile" \
		grep -q "VIP $vip: this node takes it over" \
		<(tail -n +"$((seen + 1))" "$other_log")
	lab_down
}

snat flat
snat tunnel
exit 0
