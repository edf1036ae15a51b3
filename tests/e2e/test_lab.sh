#!/usr/bin/env bash
# test_lab.sh: the lab itself (lab/lab.sh, lab/lab): its nodes are set up
# as a distribution sets them up (SPEC.md §7: the sysctls, and neighbour
# tables cold after lab_up), both pod-network
# shapes carry real traffic where they should and not where they should
# not, the files it writes pass `bmlb validate`, and every way a run can
# end (teardown, failed step, TERM, INT, KILL then sweep) leaves nothing
# behind: no namespace, no mount, no process, and the root namespace as it
# was.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
e2e_require

# What the root namespace looks like; compared at the end.
root_snapshot() {
	ip -o link show | sed 's/ qdisc.*//'
	ip -o addr show
	ip route show table all
	ip rule show
	local k
	for k in ipv4/ip_forward ipv4/conf/all/rp_filter \
		ipv4/conf/default/rp_filter ipv4/conf/all/accept_local \
		ipv6/conf/all/disable_ipv6; do
		echo "$k $(</proc/sys/net/$k)"
	done
}
root_snapshot >"$E2E_TMP/root.before"

# nothing_left ID: no namespace, registry entry, mount or work dir of ID.
nothing_left() {
	local id=$1 f bad=""
	for f in /run/netns/"$id"-*; do [[ -e $f ]] && bad+=" ns:${f##*/}"; done
	[[ -e /run/bmlb-lab/$id ]] && bad+=" registry"
	grep -q "bmlb-lab-$id" /proc/self/mounts && bad+=" mount"
	[[ -e /tmp/bmlb-lab-$id ]] && bad+=" workdir"
	[[ -z $bad ]] || { echo "left:$bad"; return 1; }
}

# no_new_runs: no lab run exists but those there before this test.
no_new_runs() {
	local id bad=""
	for id in $(lab__ids); do
		[[ " $BEFORE " == *" $id "* ]] || bad+=" $id"
	done
	while read -r _ id _; do
		[[ $id =~ /bmlb-lab-(bl[a-z0-9]{6})/ ]] || continue
		[[ " $BEFORE " == *" ${BASH_REMATCH[1]} "* ]] || bad+=" mount:$id"
	done </proc/self/mounts
	[[ -z $bad ]] || { echo "left:$bad"; return 1; }
}

counter() {
	lab_exec "$1" cat "/sys/class/net/$2/statistics/$3"
}

# grows HOST DEV STAT BEFORE MIN: the counter rose by MIN at least.
grows() {
	local now
	now=$(counter "$1" "$2" "$3") || return 1
	((now - $4 >= $5)) || { echo "$1 $2 $3: $4 -> $now"; return 1; }
}

# sysctl_is HOST KEY VALUE...: KEY (under /proc/sys) is one of VALUEs.
sysctl_is() {
	local v
	v=$(lab_exec "$1" cat "/proc/sys/$2") || return 1
	[[ " ${*:3} " == *" $v "* ]] || { echo "$1 $2 = $v"; return 1; }
}

# distro_node NODE: NODE has the sysctls a distribution gives a node, and
# no more: ip_forward=1, rp_filter 1 or 2 (all, eth0), accept_local=0
# (all, default, eth0), SPEC.md §7.
distro_node() {
	local rc=0 k
	sysctl_is "$1" net/ipv4/ip_forward 1 || rc=1
	for k in all eth0; do
		sysctl_is "$1" "net/ipv4/conf/$k/rp_filter" 1 2 || rc=1
	done
	for k in all default eth0; do
		sysctl_is "$1" "net/ipv4/conf/$k/accept_local" 0 || rc=1
	done
	return $rc
}

# cold HOST: HOST's neighbour table holds nothing resolved (an entry
# being resolved, INCOMPLETE or FAILED, may remain).
cold() {
	local out
	out=$(lab_exec "$1" ip neigh show) || return 1
	! grep -E 'REACHABLE|STALE|DELAY|PROBE|PERMANENT|NOARP' <<<"$out"
}

lab_sweep 2>/dev/null
BEFORE=$(echo $(lab__ids))
[[ -z $BEFORE ]] || echo "# labs up before this test (left alone): $BEFORE"

# What `bmlb plan --json` must say of the Services the loop writes.
PLAN_CHECK='import json, sys
p = json.loads(sys.argv[1])
web = [s for s in p["services"] if s["name"] == "web"][0]
assert web["vip"] == "198.18.0.100", web
for port in web["ports"]:
    assert sorted(port["backends"]) == ["198.19.21.2", "198.19.22.2"], port
db = [s for s in p["services"] if s["name"] == "db"][0]
assert db["namespace"] == "team-a" and db["vip"] == "198.18.0.101", db
assert web["ports"][0]["nodePort"] == 30080, web'

for shape in flat tunnel; do
	if ! lab_up --shape "$shape"; then
		not_ok "$shape: lab_up"
		continue
	fi
	id=$LAB_ID
	ok "$shape: lab_up $id"
	echo "# $shape: up took ${LAB_UP_MS} ms"
	lab__namespaces "$LAB_ID"
	n=${#REPLY_NS[@]}
	[[ $n == "${#LAB_HOSTS[@]}" && $n == 13 ]] &&
		ok "$shape: 13 namespaces, all with the run's prefix" ||
		not_ok "$shape: $n namespaces for ${#LAB_HOSTS[@]} hosts"
	[[ $LAB_PREFIX =~ ^bl[a-z0-9]{6}-$ ]] && ok "$shape: prefix $LAB_PREFIX" ||
		not_ok "$shape: prefix '$LAB_PREFIX'"
	out=$(LAB_ID="" LAB_LOCK_WAIT=1 bash -c \
		'source lab/lab.sh; lab_up' 2>&1)
	[[ $? != 0 && $out == *"another lab still holds"* ]] &&
		ok "$shape: a second lab waits for this one (bounded)" ||
		not_ok "$shape: a second lab_up while one is up" "$out"

	# (before any packet of this test)
	for h in gw $(lab_hosts cp lb worker); do
		check "$shape: $h's neighbour table is cold after lab_up" cold "$h"
	done
	for h in $(lab_hosts cp lb worker); do
		check "$shape: $h has a distribution's sysctls" distro_node "$h"
	done

	check "$shape: the client pings the gateway" ping_ok client 198.18.0.1
	check "$shape: the client pings lb-1 through the gateway" \
		ping_ok client "$(lab_addr lb-1)"
	check "$shape: the client pings worker-2" ping_ok client 198.18.0.22
	check "$shape: lb-1 pings a pod on worker-2" \
		ping_ok lb-1 "$(lab_addr worker-2-pod-1)"
	check "$shape: worker-1 pings a pod on worker-2" \
		ping_ok worker-1 "$(lab_addr worker-2-pod-2)"
	check "$shape: a pod pings its own node's bridge" \
		ping_ok worker-1-pod-1 198.19.21.1

	check "$shape: the gateway routes, rp_filter off" \
		eval 'sysctl_is gw net/ipv4/ip_forward 1 &&
		sysctl_is gw net/ipv4/conf/all/rp_filter 0 &&
		sysctl_is gw net/ipv4/conf/eth1/rp_filter 0'
	check "$shape: the switch's bridge has a port per host but the client" \
		eval '[[ $(lab_exec switch ip -o link show master br0 |
		grep -c " p-") == 7 ]]'

	# Pod to pod over TCP, 200 kB echoed and checked.
	if [[ $shape == tunnel ]]; then
		tx=$(counter worker-1 vxlan0 tx_bytes)
		rx=$(counter worker-2 vxlan0 rx_bytes)
	fi
	# (lab_serve and lab_spawn run in this shell, not in check's subshell)
	lab_serve worker-2-pod-1 --tcp 8080 --udp 5353 &&
		ok "$shape: a pod serves TCP and UDP" ||
		not_ok "$shape: lab_serve" "$(cat "$(lab_log echo-worker-2-pod-1)")"
	out=$(lab_ask worker-1-pod-1 tcp "$(lab_addr worker-2-pod-1)" 8080 \
		--bytes 200000 2>&1)
	[[ $out == "worker-2-pod-1 198.19.21.2 "*" sha256 ok" ]] &&
		ok "$shape: pod to pod TCP, 200 kB intact, source not translated" ||
		not_ok "$shape: pod to pod TCP" "$out"
	out=$(lab_ask worker-1-pod-2 udp 198.19.22.2 5353 --count 3 2>&1)
	[[ $(grep -c '^worker-2-pod-1 198.19.21.3 ' <<<"$out") == 3 ]] &&
		ok "$shape: pod to pod UDP" || not_ok "$shape: pod to pod UDP" "$out"

	if [[ $shape == tunnel ]]; then
		# (bytes: GSO makes the packet counts small)
		check "tunnel: the 200 kB crossed worker-1's vxlan0" \
			grows worker-1 vxlan0 tx_bytes "$tx" 200000
		check "tunnel: and arrived on worker-2's vxlan0" \
			grows worker-2 vxlan0 rx_bytes "$rx" 200000
		check "tunnel: vxlan0 is VNI 42 on UDP 4789 from the node address" \
			eval 'lab_exec worker-2 ip -d link show vxlan0 |
			grep -q "vxlan id 42 local 198.18.0.22 dev eth0 .*dstport 4789"'
		check "tunnel: head-end replication to every other node" \
			eval '[[ $(lab_exec lb-3 bridge fdb show dev vxlan0 |
			grep -c "^00:00:00:00:00:00 dst 198.18.0") == 5 ]]'
		check_fails "tunnel: the gateway cannot reach a pod" \
			ping_ok gw 198.19.21.2
		check_fails "tunnel: the client cannot reach a pod" \
			lab_ask client udp 198.19.22.2 5353 --timeout 0.5
		check_fails "tunnel: the gateway has no pod route" \
			eval 'lab_exec gw ip route | grep -q 198.19.'
	else
		check_fails "flat: no tunnel device" \
			lab_exec worker-1 ip link show vxlan0
		check "flat: the gateway reaches a pod" ping_ok gw 198.19.21.3
		out=$(lab_ask client udp 198.19.22.2 5353 2>&1)
		[[ $out == "worker-2-pod-1 203.0.113.10 "* ]] &&
			ok "flat: the client reaches a pod, routed" ||
			not_ok "flat: the client reaches a pod" "$out"
	fi

	# The files: the cluster file and Node manifests, plus one Service.
	lab_service --not-ready worker-2-pod-2 web \
		tcp/80:8080@30080,udp/53:5353 \
		worker-1-pod-1 worker-2-pod-1 worker-2-pod-2
	lab_service --namespace team-a --share k --policy Local db tcp/5432:5432 \
		worker-1-pod-2
	check "$shape: bmlb validate accepts the cluster file and manifests" \
		"$BMLB" validate "$LAB_CLUSTER" --manifests "$LAB_MANIFESTS"
	grep -q "flatIPv4: $([[ $shape == flat ]] && echo true || echo false)" \
		"$LAB_CLUSTER" && ok "$shape: flatIPv4 follows the shape" ||
		not_ok "$shape: flatIPv4" "$(cat "$LAB_CLUSTER")"
	out=$("$BMLB" plan --config "$LAB_CLUSTER" --manifests "$LAB_MANIFESTS" \
		--json 2>&1)
	check "$shape: plan gives web a VIP and its two ready pods" \
		"$LAB_PYTHON" -c "$PLAN_CHECK" "$out"

	# bpffs: one mount, a directory per node, visible inside the nodes.
	check "$shape: one bpffs in the work directory" \
		eval '[[ $(stat -f -c %T "$LAB_BPFFS") == bpf_fs ]]'
	check "$shape: lb-2 sees its bpffs directory" \
		eval '[[ $(lab_exec lb-2 stat -f -c %T "$LAB_BPFFS/lb-2") == bpf_fs ]]'

	# lab_agent, with a stand-in for bmlb that shows where it runs.
	printf '%s\n' '#!/bin/sh' 'echo "$@"' 'ip -o -4 addr show eth0' \
		'exec sleep 300' >"$E2E_TMP/fake"
	chmod +x "$E2E_TMP/fake"
	LAB_BMLB=$E2E_TMP/fake lab_agent lb-2 --peer-port 7946
	lab_poll 5 grep -q 'inet 198.18.0.12/' "$(lab_log agent-lb-2)"
	args="agent --config $LAB_CLUSTER --manifests $LAB_MANIFESTS"
	args+=" --node lb-2 --state-dir $LAB_WORK/lb-2/state"
	args+=" --bpf-dir $LAB_BPFFS/lb-2 --key-file $LAB_KEY --peer-port 7946"
	check "$shape: lab_agent runs bmlb agent with the node's directories" \
		grep -qxF "$args" "$(lab_log agent-lb-2)"
	check "$shape: it is in lb-2's namespace" \
		grep -q 'eth0 *inet 198.18.0.12/24' "$(lab_log agent-lb-2)"
	check "$shape: the key has 64 hex digits" \
		grep -qxE '[0-9a-f]{64}' "$LAB_KEY"

	# Processes: one stopped by hand, the others at teardown.
	lab_spawn nap lb-1 sleep 300 && ok "$shape: spawn a process in a node" ||
		not_ok "$shape: lab_spawn"
	nap=$LAB_PID
	lab_spawn keep worker-1 sleep 300
	keep=$LAB_PID
	stray=$(lab_exec worker-2-pod-2 sh -c 'sleep 300 >/dev/null 2>&1 & echo $!')
	lab_stop nap
	rc=$?
	[[ $rc == 143 ]] && ! lab__alive "$nap" &&
		ok "$shape: lab_stop stops it and gives its status" ||
		not_ok "$shape: lab_stop: status $rc"
	lab_spawn nap lb-1 sh -c 'echo second' && wait "$LAB_PID"
	[[ $(cat "$(lab_log nap)") == second ]] &&
		ok "$shape: a stopped name can be spawned again" ||
		not_ok "$shape: respawn" "$(cat "$(lab_log nap)")"
	check "$shape: a sweep from elsewhere leaves a live run alone" \
		eval 'lab/lab sweep --detached && [[ -e /run/netns/${LAB_PREFIX}gw ]]'
	read -r echo_pid _ <"$LAB_WORK/pids/echo-worker-2-pod-1"
	read -r agent _ <"$LAB_WORK/pids/agent-lb-2"
	check "$shape: before lab_down, four processes run in the lab" \
		eval 'lab__alive $keep && lab__alive $echo_pid && lab__alive $stray &&
		lab__alive $agent'
	lab_down && ok "$shape: lab_down" || not_ok "$shape: lab_down"
	check "$shape: nothing of the run is left" nothing_left "$id"
	check "$shape: every process of the run is gone" \
		eval '! lab__alive $keep && ! lab__alive $echo_pid &&
		! lab__alive $stray && ! lab__alive $agent'
done

# A bigger and a smaller lab: the parameters.
if lab_up --shape tunnel --lb 2 --workers 3 --pods 1 --lb-pods 1; then
	[[ $(lab_hosts lb | wc -l) == 2 && $(lab_hosts worker | wc -l) == 3 &&
		$(lab_pods | wc -l) == 5 ]] &&
		ok "parameters: 2 LB nodes, 3 workers, a pod on each of them" ||
		not_ok "parameters" "$(lab_hosts)"
	check "parameters: a pod on worker-3 reaches a pod on lb-2" \
		ping_ok worker-3-pod-1 "$(lab_addr lb-2-pod-1)"
	check "parameters: the files are valid" \
		"$BMLB" validate "$LAB_CLUSTER" --manifests "$LAB_MANIFESTS"
	check "parameters: the Nodes carry the LB label" \
		eval '[[ $(grep -c "lbnode: \"true\"" "$LAB_MANIFESTS/nodes.yaml") == 2 ]]'
	id=$LAB_ID work=$LAB_WORK
	LAB_KEEP=1 lab_down
	check "LAB_KEEP=1: the work directory stays, with its logs" \
		test -f "$work/logs/setup-worker-3-pod-1.log"
	rm -rf "$work"
	check "parameters: nothing left" nothing_left "$id"
else
	not_ok "parameters: lab_up"
fi
check_fails "parameters: 4 LB nodes are refused" lab_up --lb 4
check_fails "parameters: an unknown shape is refused" lab_up --shape ring
check "a refused lab_up creates nothing" no_new_runs

# A step failing in the middle of lab_up leaves nothing behind.
for step in dirs netns config host:worker-2-pod-1 host:switch files check \
	cold; do
	err=$( (LAB_FAIL_AT=$step lab_up --shape tunnel) 2>&1) &&
		not_ok "failing step $step: lab_up succeeded" ||
		ok "failing step $step: lab_up fails"
	id=$(sed -n 's/^lab: \(bl[a-z0-9]*\): step .*/\1/p' <<<"$err" | head -1)
	[[ -n $id ]] && check "failing step $step: nothing of $id is left" \
		nothing_left "$id" || not_ok "failing step $step: which run?" "$err"
done

# A run ended by a signal tears down in its trap (and still runs the
# caller's own EXIT trap, once); a killed run is swept.
cat >"$E2E_TMP/child.sh" <<'EOF'
set -u
source lab/lab.sh
trap 'echo exit-trap >>"$E2E_TMP/mark"' EXIT
lab_up --pods 1 || exit 1
lab_spawn nap worker-1-pod-1 sleep 300
sleep 30 &
echo "$LAB_ID $LAB_PID $!" >"$E2E_TMP/ready"
wait
EOF
export E2E_TMP
for sig in TERM INT KILL; do
	rm -f "$E2E_TMP/ready" "$E2E_TMP/mark"
	# A background child ignores SIGINT unless job control is on.
	[[ $sig == INT ]] && set -m
	bash "$E2E_TMP/child.sh" >"$E2E_TMP/child.log" 2>&1 &
	child=$!
	set +m
	if ! lab_poll 10 test -s "$E2E_TMP/ready"; then
		not_ok "$sig: the child run came up" "$(cat "$E2E_TMP/child.log")"
		kill -KILL "$child"
		continue
	fi
	read -r id nap waiter <"$E2E_TMP/ready"
	check "$sig: the child's lab is up" test -e "/run/netns/$id-gw"
	kill "-$sig" "$child"
	{
		lab_poll 10 lab__gone "$child"
		wait "$child"
	} 2>/dev/null
	kill "$waiter" 2>/dev/null
	if [[ $sig == KILL ]]; then
		check "KILL: the dead run is still there" test -e "/run/netns/$id-gw"
		check "KILL: lab/lab sweep removes it" lab/lab sweep
	else
		check "$sig: the trap ran the caller's EXIT trap once" \
			eval '[[ $(cat "$E2E_TMP/mark") == exit-trap ]]'
	fi
	check "$sig: nothing is left" nothing_left "$id"
	check "$sig: the run's process is gone" eval '! lab__alive $nap'
done

# The command line: up (detached), exec, status, a sweep keeps it, down.
out=$(lab/lab up --shape flat --pods 1 2>&1)
id=$(sed -n 's/^lab \(bl[a-z0-9]*\) up .*/\1/p' <<<"$out")
if [[ -n $id ]]; then
	ok "cli: lab up $id"
	check "cli: lab exec" lab/lab exec "$id" client ping -c1 -W2 198.18.0.21
	check "cli: lab status lists it as detached" \
		eval 'lab/lab status | grep -q "^$id detached 11 namespaces"'
	check "cli: lab status ID shows the hosts" \
		eval 'lab/lab status $id | grep -q "worker-2-pod-1 *pod *198.19.22.2"'
	check "cli: lab spawn" lab/lab spawn "$id" nap worker-1 sleep 300
	check "cli: a plain sweep keeps a detached run" \
		eval 'lab/lab sweep && test -e /run/netns/$id-gw'
	check "cli: lab down" lab/lab down "$id"
	check "cli: nothing is left" nothing_left "$id"
else
	not_ok "cli: lab up" "$out"
fi

check "no lab run is left at the end" no_new_runs
root_snapshot >"$E2E_TMP/root.after"
check "the root namespace is as it was" \
	diff "$E2E_TMP/root.before" "$E2E_TMP/root.after"
