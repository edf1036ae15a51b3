#!/usr/bin/env bash
# test_dsr.sh: DSR mode end to end (issue 6), flat pod network: real agents
# on every node, real TCP and UDP from a client behind the gateway.
#   - the pods see the client's own address and port, over TCP and UDP;
#   - the replies leave the workers straight for the client: a capture on
#     the owner LB node's interface sees none of them (one on a worker's
#     does), and a 1 MB download moves through the LB node only as ACKs;
#   - the LB node tracks no flow;
#   - an option forged by the client host is dropped by the worker, also
#     once the gateway planted its MAC for an LB node's address in the
#     worker's neighbour cache (a forged ARP request and gratuitous ARP);
#   - a datagram too big for the option brings an ICMP back, and the
#     client's next one, sized to it, is answered;
#   - a transfer survives restarting the workers' agents (pinned flows);
#   - an established connection survives the owner LB node's death (its
#     agent killed, its link down) and the takeover: the new owner's
#     Maglev table sends the flow to the same pod, with no state moved.
# The agents announce the VIP themselves (test_announce.sh tests that).
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
e2e_require tcpdump

CLIENT=203.0.113.10

# if_bytes HOST: bytes received and sent on HOST's eth0 so far.
if_bytes() {
	local rx tx
	rx=$(lab_exec "$1" cat /sys/class/net/eth0/statistics/rx_bytes)
	tx=$(lab_exec "$1" cat /sys/class/net/eth0/statistics/tx_bytes)
	echo $((rx + tx))
}

# capture NAME HOST FILTER: tcpdump on HOST's eth0 (frames for HOST only,
# not promiscuous) into $E2E_TMP/NAME.pcap, once it listens.
capture() {
	lab_spawn "$1" "$2" tcpdump -p -n -U --immediate-mode -i eth0 -w "$E2E_TMP/$1.pcap" "$3" &&
		lab_poll 5 grep -q "listening on" "$(lab_log "$1")"
}

# captured NAME: packets in the capture (after stopping it).
captured() {
	lab_stop "$1" INT
	tcpdump -r "$E2E_TMP/$1.pcap" -n 2>/dev/null | wc -l
}

# flows_are NODE N: the agent on NODE reports N tracked flows.
flows_are() {
	"$LAB_BMLB" status --state-dir "$LAB_WORK/$1/state" --json |
		"$LAB_PYTHON" -c '
import json, sys
f = json.load(sys.stdin)["flows"]
sys.exit(0 if f == int(sys.argv[1]) else "flows = %s" % f)' "$2"
}

# counter_of NODE NAME: the agent on NODE's counter NAME.
counter_of() {
	"$LAB_BMLB" status --state-dir "$LAB_WORK/$1/state" --json |
		"$LAB_PYTHON" -c '
import json, sys
print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$2"
}

# peers_known NODE N: NODE's agent believes the option from N LB nodes.
peers_known() {
	grep -q "believed from $2 of" "$(lab_log "agent-$1")"
}

lab_up --mode dsr --shape flat --lb 2 --workers 2 --pods 2 || {
	not_ok "the DSR lab comes up"
	exit 0
}
pods=(worker-1-pod-1 worker-1-pod-2 worker-2-pod-1 worker-2-pod-2)
for pod in "${pods[@]}"; do
	lab_serve "$pod" --tcp 8080 --udp 5353 --download 9000 ||
		{ not_ok "pod servers start"; exit 0; }
done
lab_service web tcp/80:8080,udp/53:5353,tcp/9000:9000 "${pods[@]}"
for n in $(lab_hosts cp lb worker); do
	lab_agent "$n"
done
vip=$(plan_field web vip) owner=$(plan_field web owner)
check "the plan gives web a VIP and an owner" \
	test -n "$vip" -a "$vip" != None -a -n "$owner"
check "the owner announces the VIP and serves it" \
	lab_poll 10 lab_ask client tcp "$vip" 80 --timeout 1
check "the gateway sends the VIP's traffic to the owner" \
	lab_poll 10 lab_vip_at "$vip" "$owner"
check "the owner's agent programs the service" \
	lab_poll 10 backends_are "$owner" web 4
for w in worker-1 worker-2; do
	check "$w believes the option from both LB nodes" \
		lab_poll 10 peers_known "$w" 2
done

capture cap-lb "$owner" "ip and (src host $vip or src net 198.19.0.0/16)" ||
	not_ok "a capture runs on the owner"
capture cap-worker worker-1 "ip and src host $vip" ||
	not_ok "a capture runs on worker-1"

lab_ask client tcp "$vip" 80 --count 20 --timeout 2 --sport 30000 \
	>"$E2E_TMP/tcp" 2>&1
check "20 TCP connections to the VIP are answered, each pod seeing the client's own address and port" \
	saw_client "$E2E_TMP/tcp" 30000 20
check "TCP connections spread over the pods" \
	test "$(pods_in "$E2E_TMP/tcp" | wc -w)" -ge 3
lab_ask client udp "$vip" 53 --count 20 --timeout 2 --sport 31000 \
	>"$E2E_TMP/udp" 2>&1
check "20 UDP exchanges are answered, each pod seeing the client's own address and port" \
	saw_client "$E2E_TMP/udp" 31000 20

before=$(if_bytes "$owner")
lab_ask client tcp "$vip" 9000 --download 1000000 --timeout 10 \
	>"$E2E_TMP/download" 2>&1
after=$(if_bytes "$owner")
check "a 1 MB download through the VIP arrives intact" \
	grep -q "download ok" "$E2E_TMP/download"
check "... and moves less than 200 kB through the owner's interface (ACKs only: $((after - before)) bytes)" \
	test $((after - before)) -lt 200000

lb_replies=$(captured cap-lb)
worker_replies=$(captured cap-worker)
check "a capture on the owner LB node sees no reply packet ($lb_replies)" \
	test "$lb_replies" = 0
check "... while one on worker-1 sees replies leave from the VIP ($worker_replies)" \
	test "$worker_replies" -gt 0
check "the owner tracks no flow" flows_are "$owner" 0
check "the owner added the option (TCP SYNs, UDP)" \
	counter_min "$owner" dsr_opt 41
for w in worker-1 worker-2; do
	check "$w removed it before delivery" counter_min "$w" dsr_in 1
done
check "worker-1 rewrote the pods' replies to come from the VIP" \
	counter_min worker-1 dsr_out 10

pod=$(lab_addr worker-1-pod-1)
check "the client reaches a pod directly (no option)" \
	lab_ask client udp "$pod" 5353 --timeout 1
check_fails "a datagram with an option forged by the client is dropped" \
	lab_ask client udp "$pod" 5353 --timeout 1 --ip-option 9a0850000100000a
check "... and counted on the worker" counter_min worker-1 dsr_drop_forged 1

# The gateway (a host on the segment, no LB node) plants its MAC for an LB
# node's address in worker-1's neighbour cache: an ARP request claiming
# it, then a gratuitous ARP.  The option the client forges arrives with
# the gateway's MAC, naming a real VIP:port: still dropped, and the pod
# never answers as the VIP.
lb=$(lab_hosts lb | head -1)
gw_mac=$(lab_exec gw cat /sys/class/net/eth0/address)
poison() {
	lab_exec gw "$LAB_PYTHON" -c "
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
m = bytes.fromhex('$gw_mac'.replace(':', ''))
w = bytes.fromhex('$(lab_exec worker-1 cat /sys/class/net/eth0/address)'.replace(':', ''))
lb = socket.inet_aton('$(lab_addr "$lb")')
arp = w + m + bytes.fromhex('08060001080006040001')
s.send(arp + m + lb + bytes(6) + socket.inet_aton('$(lab_addr worker-1)'))
s.send(w + m + bytes.fromhex('08060001080006040002') + m + lb + b'\\xff' * 6 + lb)
"
}
poisoned() {
	lab_exec worker-1 ip neigh show "$(lab_addr "$lb")" dev eth0 |
		grep -qi "lladdr $gw_mac"
}
poison
check "the gateway's MAC is planted in worker-1's neighbour cache for $lb's address" \
	lab_poll 2 poisoned
check "worker-1's agent logs the claim and believes it not" \
	lab_poll 2 grep -q "DSR: $gw_mac claims LB node $(lab_addr "$lb")'s address.*not believed" \
	"$(lab_log agent-worker-1)"
sleep 6 # longer than the agent's 5 s tick, which read the cache once
poison
check "... still planted" lab_poll 2 poisoned
# The option naming VIP:53 (UDP), its address byte-swapped.
opt=9a083500$(printf '%02x' $(echo "$vip" | tr . ' ' | awk '{print $4, $3, $2, $1}'))
capture cap-forged gw "udp and src host $vip" ||
	not_ok "a capture runs on the gateway"
forged_before=$(counter_of worker-1 dsr_drop_forged)
for i in 1 2 3; do
	lab_ask client udp "$pod" 5353 --timeout 1 --ip-option "$opt" \
		>/dev/null 2>&1
done
check "three options forged by the client, naming $vip:53, arriving with the planted MAC, are dropped as forged" \
	counter_min worker-1 dsr_drop_forged $((forged_before + 3))
forged_replies=$(captured cap-forged)
check "... and the pod never answers as the VIP ($forged_replies packets from $vip)" \
	test "$forged_replies" = 0
check "the VIP's real traffic is still answered" \
	lab_ask client udp "$vip" 53 --count 5 --timeout 2
lab_exec worker-1 ip neigh del "$(lab_addr "$lb")" dev eth0

lab_ask client udp "$vip" 53 --size 1472 --pmtu --timeout 2 \
	>"$E2E_TMP/pmtu" 2>&1
check "a 1500-byte datagram brings an ICMP fragmentation-needed with MTU 1492" \
	grep -qx "mtu 1492" "$E2E_TMP/pmtu"
check "... sent by the owner" counter_min "$owner" dsr_too_big 1
check "the client's next datagram, sized to it, is answered" \
	grep -q "^worker-.* $CLIENT " "$E2E_TMP/pmtu"

# The workers' flows are pinned: a transfer outlives their agents.
lab_spawn transfer client "$LAB_PYTHON" "$LAB_DIR/echo.py" ask tcp \
	"$vip" 80 --bytes 2000000 --seconds 3 --timeout 20
sleep 1
for w in worker-1 worker-2; do
	lab_stop "agent-$w" TERM
	lab_agent "$w"
done
lab_poll 20 bash -c "! kill -0 $(cat "$LAB_WORK/pids/transfer") 2>/dev/null"
check "a transfer across restarts of the workers' agents arrived intact" \
	grep -q "sha256 ok" "$(lab_log transfer)"

# The owner dies in the middle of an established connection: the other LB
# node takes the VIP over and sends the flow to the same pod.
next=$(lab_hosts lb | grep -v "^$owner\$" | head -1)
lab_spawn survivor client "$LAB_PYTHON" "$LAB_DIR/echo.py" ask tcp \
	"$vip" 80 --bytes 3000000 --seconds 8 --timeout 40
sleep 1
lab_stop "agent-$owner" KILL
lab_exec "$owner" ip link set eth0 down
check "$next takes the VIP over" \
	lab_poll 10 grep -q "VIP $vip: this node takes it over" \
	"$(lab_log "agent-$next")"
lab_poll 40 bash -c "! kill -0 $(cat "$LAB_WORK/pids/survivor") 2>/dev/null"
check "the established DSR connection survived the owner's death, its payload intact" \
	grep -q "sha256 ok" "$(lab_log survivor)"
check "... carried on by $next" counter_min "$next" dsr_fwd 100
check "... which tracks no flow either" flows_are "$next" 0
lab_down
exit 0
