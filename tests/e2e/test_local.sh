#!/usr/bin/env bash
# test_local.sh: externalTrafficPolicy Local end to end (issue 8), in SNAT
# and in DSR mode: real agents on every node, pods on the LB nodes (placed
# there as a nodeSelector on baremetal.cluster.gke.io/lbnode would), real
# TCP, UDP and HTTP from the client behind the gateway.
#   - the pods see the client's own address and port; only pods on the
#     VIP's owner answer (none on another node, although a worker has an
#     endpoint); the owner is the LB node with the local endpoints;
#   - the owner's endpoints deleted: the VIP moves to the LB node that has
#     one; none left on any LB node: nobody announces it, and plan and
#     status say why;
#   - two Local Services sharing a VIP (same endpoints) are announced by
#     exactly one node;
#   - NodePort, from the client to every node's address: a NodePort
#     Service (Cluster) answered by any pod (translated: a pod elsewhere
#     sees the node's address, one on that node the client's), a
#     LoadBalancer Service's Local nodePort only on the nodes with an
#     endpoint, by their own pod seeing the client; the nodes' own traffic
#     (ping, the LB nodes' liveness messages) keeps flowing;
#   - SNAT mode, the ingress case of seed 001: HAProxy in HTTP mode with
#     `option forwardfor` in a pod on an LB node, its Service Local, in
#     front of an HTTP application on a worker whose log shows
#     X-Forwarded-For: the client's address.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
e2e_require haproxy

# status_of NODE EXPR: EXPR (Python, over the status object `st`) is true
# in NODE's agent's status.
status_of() {
	"$LAB_BMLB" status --state-dir "$LAB_WORK/$1/state" --json |
		"$LAB_PYTHON" -c '
import json, sys
st = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else json.dumps(st)[:2000])' "$2"
}

# announcers VIP: the LB nodes whose agent announces VIP, one line.
announcers() {
	local n out=""
	for n in $(lab_hosts lb); do
		status_of "$n" "'$1' in st['vipsOwned']" 2>/dev/null &&
			out+="$n "
	done
	echo "$out"
}

# announced_by VIP "NODES ": exactly these nodes announce VIP.
announced_by() { [[ $(announcers "$1") == "$2" ]]; }

# answered_by FILE PATTERN: every answer came from a pod matching PATTERN.
answered_by() {
	local pods
	pods=$(pods_in "$1")
	[[ -n $pods ]] && ! tr ' ' '\n' <<<"$pods" | grep . | grep -vq "$2"
}

# local_checks MODE: the Local checks of one lab.
local_checks() {
	local mode=$1 vip owner shared reason
	lab_service --policy Local loc tcp/80:8080,udp/53:5353 \
		lb-1-pod-1 lb-1-pod-2 worker-1-pod-1
	lab_poll 10 backends_are lb-1 loc 2
	vip=$(plan_field loc vip) owner=$(plan_field loc owner)
	check "[$mode] the Local VIP is owned by lb-1, the LB node with its endpoints" \
		test "$owner" = lb-1
	check "[$mode] lb-1 programs its 2 local endpoints, lb-2 none" \
		lab_poll 10 backends_are lb-2 loc 0
	check "[$mode] only lb-1 announces the VIP" \
		lab_poll 10 announced_by "$vip" "lb-1 "
	check "[$mode] the VIP answers" \
		lab_poll 10 lab_ask client udp "$vip" 53 --timeout 1
	check "[$mode] the gateway sends the VIP's traffic to lb-1" \
		lab_poll 10 lab_vip_at "$vip" lb-1

	lab_ask client tcp "$vip" 80 --count 20 --timeout 2 --sport 30000 \
		>"$E2E_TMP/$mode-tcp" 2>&1
	check "[$mode] 20 TCP connections answered, each pod seeing the client's own address and port" \
		saw_client "$E2E_TMP/$mode-tcp" 30000 20
	check "[$mode] ... all by lb-1's pods (none by the worker's endpoint)" \
		answered_by "$E2E_TMP/$mode-tcp" "^lb-1-pod-"
	check "[$mode] ... spread over both" \
		test "$(pods_in "$E2E_TMP/$mode-tcp" | wc -w)" = 2
	lab_ask client udp "$vip" 53 --count 10 --timeout 2 --sport 31000 \
		>"$E2E_TMP/$mode-udp" 2>&1
	check "[$mode] 10 UDP exchanges answered, the client's address kept" \
		saw_client "$E2E_TMP/$mode-udp" 31000 10
	check "[$mode] ... by lb-1's pods only" \
		answered_by "$E2E_TMP/$mode-udp" "^lb-1-pod-"
	check "[$mode] lb-1 delivered them locally" counter_min lb-1 local 30
	check "[$mode] ... and rewrote the pods' replies to come from the VIP" \
		counter_min lb-1 dsr_out 30
	check "[$mode] ... translating no source (no SNAT flow, no option)" \
		status_of lb-1 "st['counters']['fwd_new'] == 0 and st['counters']['dsr_opt'] == 0"

	# lb-1's endpoints go: lb-2 has one now, it takes the VIP.
	lab_service --policy Local loc tcp/80:8080,udp/53:5353 \
		lb-2-pod-1 worker-1-pod-1
	check "[$mode] lb-1's endpoints deleted: the VIP moves to lb-2" \
		lab_poll 10 announced_by "$vip" "lb-2 "
	check "[$mode] ... the plan says lb-2" test "$(plan_field loc owner)" = lb-2
	lab_poll 10 lab_vip_at "$vip" lb-2
	lab_ask client tcp "$vip" 80 --count 5 --timeout 2 --sport 32000 \
		>"$E2E_TMP/$mode-moved" 2>&1
	check "[$mode] ... which serves it from its own pod, the client's address kept" \
		saw_client "$E2E_TMP/$mode-moved" 32000 5
	check "[$mode] ... lb-2-pod-1 only" \
		answered_by "$E2E_TMP/$mode-moved" "^lb-2-pod-1$"

	# No LB node has an endpoint: nobody announces, and both say why.
	lab_service --policy Local loc tcp/80:8080,udp/53:5353 worker-1-pod-1
	reason="externalTrafficPolicy is Local and no alive LB node has a ready endpoint of it"
	check "[$mode] no endpoint on any LB node: nobody announces the VIP" \
		lab_poll 10 announced_by "$vip" ""
	check "[$mode] ... plan says why" test "$(plan_field loc reason)" = "$reason"
	check "[$mode] ... status says why" status_of lb-1 \
		"any(p['name'] == 'loc' and p['owner'] is None and p['reason'] == '$reason' for p in st['programmed'])"
	check_fails "[$mode] ... and the VIP does not answer" \
		lab_ask client tcp "$vip" 80 --timeout 1
	lab_service_rm loc

	# Two Local Services with the same endpoints share a VIP: one owner.
	shared=198.18.0.120
	lab_service --policy Local --share s --ip $shared s-web tcp/80:8080 \
		lb-2-pod-1 lb-1-pod-1
	lab_service --policy Local --share s --ip $shared s-dns udp/53:5353 \
		lb-2-pod-1 lb-1-pod-1
	check "[$mode] two Local Services share $shared" \
		test "$(plan_field s-dns vip)" = $shared -a \
		"$(plan_field s-web vip)" = $shared
	owner=$(plan_field s-web owner)
	check "[$mode] ... with one owner" test "$(plan_field s-dns owner)" = "$owner"
	check "[$mode] ... and exactly one node announces it ($owner)" \
		lab_poll 10 announced_by $shared "$owner "
	lab_poll 10 lab_vip_at $shared "$owner"
	lab_ask client tcp $shared 80 --timeout 2 >"$E2E_TMP/$mode-s" 2>&1 &&
		lab_ask client udp $shared 53 --timeout 2 >>"$E2E_TMP/$mode-s" 2>&1
	check "[$mode] ... both ports answered by $owner's pod" \
		answered_by "$E2E_TMP/$mode-s" "^$owner-pod-1$"
	check "[$mode] ... stays with one announcer" \
		announced_by $shared "$owner "
	lab_service_rm s-web
	lab_service_rm s-dns
}

# nodeport_checks MODE: Cluster and Local NodePorts on every node.
nodeport_checks() {
	local mode=$1 n addr i=0 sport
	# A NodePort Service (no VIP) and a LoadBalancer one's nodePort.
	lab_service --type NodePort np tcp/80:8080@30080 worker-1-pod-1 \
		lb-1-pod-1
	lab_service --policy Local npl tcp/81:8080@30081 worker-1-pod-1 \
		lb-2-pod-1
	for n in $(lab_hosts cp lb worker); do
		lab_poll 10 status_of "$n" \
			"len([p for p in st['programmed'] if p['port'] in (30080, 30081)]) == 2" \
			>/dev/null 2>&1
	done
	for n in $(lab_hosts cp lb worker); do
		addr=${LAB_ADDR[$n]} i=$((i + 1)) sport=$((33000 + 20 * i))
		lab_ask client tcp "$addr" 30080 --count 6 --timeout 2 \
			--sport $sport >"$E2E_TMP/$mode-np-$n" 2>&1
		check "[$mode] NodePort Service, Cluster, on $n ($addr:30080) answered 6 times" \
			test "$(wc -l <"$E2E_TMP/$mode-np-$n")" = 6
		check "[$mode] ... a pod on another node sees $n's address, one on $n the client's" \
			"$LAB_PYTHON" - "$E2E_TMP/$mode-np-$n" "$n" "$addr" \
			"${LAB_ADDR[client]}" <<'PY'
import sys
path, node, addr, client = sys.argv[1:]
for l in open(path):
    pod, peer = l.split()[:2]
    want = client if pod.startswith(node + "-pod-") else addr
    assert peer == want, l
PY
		lab_ask client tcp "$addr" 30081 --count 3 --timeout 2 \
			--sport $((sport + 10)) >"$E2E_TMP/$mode-npl-$n" 2>&1
		case $n in
		worker-1 | lb-2)
			check "[$mode] NodePort Local on $n: its own pod answers, seeing the client" \
				saw_client "$E2E_TMP/$mode-npl-$n" $((sport + 10)) 3
			check "[$mode] ... only $n's pod" \
				answered_by "$E2E_TMP/$mode-npl-$n" "^$n-pod-1$"
			;;
		*)
			check "[$mode] NodePort Local on $n (no endpoint there): no answer" \
				test ! -s "$E2E_TMP/$mode-npl-$n" -o \
				"$(grep -c pod "$E2E_TMP/$mode-npl-$n")" = 0
			;;
		esac
	done
	check "[$mode] the nodes' own traffic is untouched: ping to a worker answered" \
		ping_ok client "${LAB_ADDR[worker-2]}"
	check "[$mode] ... and the LB nodes' liveness messages still flow (both alive)" \
		status_of lb-1 "all(p['alive'] for p in st['peers'])"
	lab_service_rm np
	lab_service_rm npl
}

# ingress_check: seed 001's ingress, HAProxy in lb-2-pod-2 -> app on
# worker-2-pod-1.
ingress_check() {
	local vip app cfg=$E2E_TMP/haproxy.cfg
	app=$(lab_addr worker-2-pod-1)
	cat >"$cfg" <<EOF
global
	maxconn 100
defaults
	mode http
	option forwardfor
	timeout connect 2s
	timeout client 5s
	timeout server 5s
frontend ingress
	bind :8080
	default_backend app
backend app
	server app $app:8080
EOF
	lab_spawn app worker-2-pod-1 "$LAB_PYTHON" "$LAB_DIR/echo.py" http \
		app 8080 && lab_wait_listen worker-2-pod-1 tcp 8080 ||
		not_ok "the HTTP application starts"
	lab_spawn ingress lb-2-pod-2 haproxy -db -f "$cfg" &&
		lab_wait_listen lb-2-pod-2 tcp 8080 ||
		not_ok "HAProxy starts in lb-2-pod-2"
	lab_service --policy Local ingress tcp/80:8080 lb-2-pod-2
	vip=$(plan_field ingress vip)
	check "the ingress VIP is owned by lb-2, where the ingress pod runs" \
		test "$(plan_field ingress owner)" = lb-2
	lab_poll 10 announced_by "$vip" "lb-2 "
	lab_poll 10 lab_vip_at "$vip" lb-2
	check "the client's HTTP GET through the ingress VIP is answered" \
		lab_poll 10 lab_exec client "$LAB_PYTHON" -c "
import urllib.request
urllib.request.urlopen('http://$vip/', timeout=2).read()"
	check "the application's log shows X-Forwarded-For: the client's address" \
		grep -qx "app $(lab_addr lb-2-pod-2) xff=${LAB_ADDR[client]}" \
		"$(lab_log app)"
}

for mode in snat dsr; do
	lab_up --mode "$mode" --shape flat --lb 2 --workers 2 --pods 1 \
		--lb-pods 2 || {
		not_ok "the $mode lab comes up"
		continue
	}
	for pod in $(lab_hosts pod); do
		[[ $pod == lb-2-pod-2 || $pod == worker-2-pod-1 ]] && continue
		lab_serve "$pod" --tcp 8080 --udp 5353 ||
			not_ok "$pod's server starts"
	done
	for n in $(lab_hosts cp lb worker); do
		lab_agent "$n"
	done
	local_checks "$mode"
	nodeport_checks "$mode"
	[[ $mode == snat ]] && ingress_check
	lab_down
done
exit 0
