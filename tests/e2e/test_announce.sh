#!/usr/bin/env bash
# test_announce.sh: ARP announcement, liveness and failover with real agents
# in the lab (SPEC.md §4): nobody configures a VIP; the owners answer ARP
# (arping from the gateway, a capture on the switch), a client streaming to
# a VIP gets answers again through the new owner after the owner's agent is
# killed and after its link goes down, a clean stop hands over at once,
# forged and replayed peer messages change nothing (a HELLO captured on its
# way to one LB node and replayed to another included), junk from a host
# that is no LB node never reaches an agent, a flood of junk from an LB
# node's address costs a few log lines, an agent that missed allocations
# takes the leader's, a partition heals into one table, and the owner
# defends its VIP against a forged gratuitous ARP, once per 10 s.
set -uo pipefail
source tests/e2e/lib.sh

[[ $(id -u) == 0 ]] || { skip_all "needs root (network namespaces)"; exit 0; }
FORGE=tests/e2e/peer_forge.py
PORT=7946

status_json() { # NODE
	lab_exec "$1" "$LAB_BMLB" status --state-dir "$LAB_WORK/$1/state" \
		--json
}

# jq-like field reads with python: status_py NODE EXPR (d is the object).
status_py() {
	status_json "$1" | $LAB_PYTHON -c "import json,sys
d=json.load(sys.stdin)
print($2)"
}

plan_owner() { # SERVICE -> its owner with every LB node alive
	"$LAB_BMLB" plan --config "$LAB_CLUSTER" --manifests "$LAB_MANIFESTS" \
		--json | $LAB_PYTHON -c "import json,sys
print([s['$2'] for s in json.load(sys.stdin)['services']
       if s['name']=='$1'][0])"
}

mac_of() { lab_exec "$1" cat /sys/class/net/eth0/address; }

neigh_is() { # VIP MAC: the gateway's neighbour entry
	lab_exec gw ip neigh show "$1" | grep -qi "$2"
}

vips_agree() { [[ $(vips_of lb-3) == "$(vips_of lb-1)" ]]; }

# The gateway's ARP answer for VIP comes from MAC (arping prints it).
arp_answer_is() { # VIP MAC
	local out
	out=$(lab_exec gw arping -c 1 -w 2 -I eth0 "$1" 2>&1)
	[[ ${out,,} == *"[${2,,}]"* ]] || { echo "$out"; return 1; }
}

defences() { # NODE VIP: the conflicts NODE defended VIP against
	status_py "$1" "[v['arpDefences'] for v in d['vips'] if v['vip']=='$2'][0]"
}

# forge_garp HOST VIP: HOST claims VIP with a gratuitous ARP from its own
# MAC, broadcast, in the request form (an ARP Announcement): the one Linux
# takes even within a neighbour entry's locktime (1 s) of its last update.
forge_garp() {
	lab_exec "$1" "$LAB_PYTHON" -c "
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
mac = open('/sys/class/net/eth0/address').read().strip()
m = bytes.fromhex(mac.replace(':', ''))
ip = socket.inet_aton('$2')
s.send(b'\\xff' * 6 + m + b'\\x08\\x06\\x00\\x01\\x08\\x00\\x06\\x04\\x00\\x01' + m + ip + bytes(6) + ip)
"
}

all_ready() {
	local n
	for n in lb-1 lb-2 lb-3; do
		[[ $(status_py "$n" "d['ready'] and all(p['ready'] for p in d['peers'])") == True ]] ||
			return 1
	done
}

owner_is() { # VIP NODE (as NODE's own status says)
	[[ $(status_py "$2" "'$1' in d['vipsOwned']") == True ]]
}

refused() { # NODE PEER REASON -> how many NODE refused from PEER for REASON
	status_py "$1" "[p['refused'].get('$3', 0) for p in d['peers'] if p['name']=='$2'][0]"
}

# grown NODE EXPR BEFORE N: the status field EXPR of NODE has grown from
# BEFORE by N at least.
grown() {
	[[ $(status_py "$1" "$2 - $3 >= $4") == True ]]
}

refusal_lines() { # NODE -> the refusal lines in its agent's log
	grep -c 'peers: refused' "$(lab_log "agent-$1")"
}

peer_state() { # NODE PEER -> "alive ready"
	status_py "$1" "[(p['alive'], p['ready']) for p in d['peers'] if p['name']=='$2'][0]"
}

# The VIPs of every Service as NODE's agent programs them, one line.
vips_of() {
	status_py "$1" "' '.join(sorted(set(p['namespace']+'/'+p['name']+'='+p['vip'] for p in d['programmed'])))"
}

# stream PROTO VIP PORT SECONDS OUT: a client stream in the background.
stream() {
	lab_exec client "$LAB_PYTHON" "$LAB_DIR/echo.py" stream "$1" "$2" "$3" \
		--interval 10 --seconds "$4" >"$5" 2>&1 &
	STREAM_PID=$!
}

# answered_after OUT T_MS NODE_IP: a reply after T_MS came through NODE_IP.
answered_after() {
	awk -v t="$2" -v ip="$3" '$1 > t && $3 == ip {f = 1} END {exit !f}' "$1"
}

now_ms() { date +%s%3N; }

failover() { # HOW: kill | linkdown
	local how=$1 vip owner owner_ip next t0
	vip=$(plan_owner web vip)
	owner=$(plan_owner web owner)
	owner_ip=$(lab_addr "$owner")
	stream udp "$vip" 53 3 "$E2E_TMP/udp-$how"
	local udp_pid=$STREAM_PID
	stream tcp "$vip" 80 3 "$E2E_TMP/tcp-$how"
	local tcp_pid=$STREAM_PID
	sleep 1
	t0=$(now_ms)
	if [[ $how == kill ]]; then
		lab_stop "agent-$owner" KILL
	else
		lab_exec "$owner" ip link set eth0 down
	fi
	wait "$udp_pid" "$tcp_pid"
	check "failover ($how): the client's UDP stream was answered through $owner before" \
		answered_after "$E2E_TMP/udp-$how" 0 "$owner_ip"
	next=$(awk -v t="$t0" '$1 > t {print $3}' "$E2E_TMP/udp-$how" | tail -1)
	check "failover ($how): the UDP stream is answered again, through another LB node ($next)" \
		test -n "$next" -a "$next" != "$owner_ip"
	check "failover ($how): the TCP stream is answered again after the owner died" \
		answered_after "$E2E_TMP/tcp-$how" "$t0" "$next"
	next=$(lab_hosts lb | while read -r n; do
		[[ $n != "$owner" ]] && owner_is "$vip" "$n" && echo "$n"; done)
	check "failover ($how): exactly one other node owns $vip ($next)" \
		test "$(echo "$next" | wc -w)" = 1
	check "failover ($how): the gateway's ARP answer for $vip is $next's" \
		arp_answer_is "$vip" "$(mac_of "$next")"
	check "failover ($how): status gives the takeover's reason" \
		test "$(status_py "$next" "[v['lastTakeover']['reason'] for v in d['vips'] if v['vip']=='$vip'][0]")" != ""
	# Bring the node back for the next case.
	if [[ $how == kill ]]; then
		lab_agent "$owner"
	else
		lab_exec "$owner" ip link set eth0 up
		lab_exec "$owner" ip route replace default via 198.18.0.1
	fi
	check "failover ($how): $owner is back and owns $vip again" \
		lab_poll 10 owner_is "$vip" "$owner"
	lab_poll 10 all_ready
}

main() {
	local n vip owner other pods=(worker-1-pod-1 worker-2-pod-1)
	lab_up --shape flat --lb 3 --workers 2 --pods 1 ||
		{ not_ok "the lab comes up"; return; }
	for n in "${pods[@]}"; do lab_serve "$n" --tcp 8080 --udp 5353; done
	lab_service web tcp/80:8080,udp/53:5353 "${pods[@]}"
	lab_service api tcp/443:8080 "${pods[@]}"
	lab_service db tcp/5432:8080 "${pods[@]}"
	for n in $(lab_hosts lb worker); do lab_agent "$n"; done
	check "the three LB agents join and see each other ready" \
		lab_poll 10 all_ready

	# Every VIP is announced by its planned owner only.
	for s in web api db; do
		vip=$(plan_owner "$s" vip) owner=$(plan_owner "$s" owner)
		check "$s: $owner owns $vip, as the plan says" owner_is "$vip" "$owner"
		for n in $(lab_hosts lb); do
			[[ $n == "$owner" ]] && continue
			check_fails "$s: $n does not announce $vip" owner_is "$vip" "$n"
		done
		check "$s: the gateway's ARP request for $vip is answered with $owner's MAC" \
			arp_answer_is "$vip" "$(mac_of "$owner")"
		check "$s: no VIP is an interface address on $owner" \
			test -z "$(lab_exec "$owner" ip -o addr show to "$vip")"
	done
	vip=$(plan_owner web vip) owner=$(plan_owner web owner)
	# A capture on the switch: one answer per request, from the owner.
	lab_exec switch timeout 5 tcpdump -l -n -e -i br0 -c 3 \
		"arp and arp[6:2] = 2 and arp[14:4] = 0x$(printf '%02x' ${vip//./ })" \
		>"$E2E_TMP/arp.cap" 2>/dev/null &
	local cap=$!
	sleep 0.5
	lab_exec gw arping -c 3 -w 4 -I eth0 "$vip" >/dev/null 2>&1
	wait "$cap"
	check "web: 3 ARP replies on the segment, all from $owner" \
		test "$(grep -c "$(mac_of "$owner")" "$E2E_TMP/arp.cap")" = 3
	check "TCP through the VIP with no address configured anywhere" \
		lab_ask client tcp "$vip" 80 --count 5 --timeout 1
	check "UDP through the VIP" lab_ask client udp "$vip" 53 --count 5 --timeout 1
	check "the gateway's neighbour table points $vip at $owner" \
		lab_poll 3 neigh_is "$vip" "$(mac_of "$owner")"
	check "status: garpsSent counted on the owner" \
		test "$(status_py "$owner" "[v['garpsSent'] for v in d['vips'] if v['vip']=='$vip'][0] > 0")" = True

	failover kill
	failover linkdown

	# A clean stop hands over at once.
	other=$([[ $owner == lb-1 ]] && echo lb-2 || echo lb-1)
	lab_stop "agent-$owner" TERM
	check "SIGTERM: $owner's peers hear its BYE (stopped, not missed)" \
		test "$(status_py "$other" "[p['state'] for p in d['peers'] if p['name']=='$owner'][0]")" = stopped
	lab_agent "$owner"
	lab_poll 10 all_ready

	# Forged and replayed messages change nothing.
	local victim=lb-2
	other=lb-1
	lab_exec switch timeout 3 tcpdump -n -i br0 -w "$E2E_TMP/peers.pcap" \
		"udp dst port $PORT and src host $(lab_addr lb-3)" \
		>/dev/null 2>&1 &
	cap=$!
	sleep 1
	lab_stop agent-lb-3 TERM
	wait "$cap"
	lab_agent lb-3
	lab_poll 10 all_ready
	lab_exec lb-3 "$LAB_PYTHON" "$FORGE" replay "$E2E_TMP/peers.pcap" \
		"$(lab_addr "$other")" "$PORT" >/dev/null
	sleep 0.3
	check "replay: lb-3's captured HELLOs and BYE, sent again from its address, are refused" \
		test "$(status_py "$other" "[p['refused'].get('replay', 0) for p in d['peers'] if p['name']=='lb-3'][0] > 0")" = True
	check "replay: lb-3 is still alive and ready for $other" \
		test "$(peer_state "$other" lb-3)" = "(True, True)"
	lab_exec "$victim" "$LAB_PYTHON" "$FORGE" seal - "$victim" bye \
		"$(lab_addr "$other")" "$PORT" >/dev/null
	sleep 0.3
	check "forgery: a BYE sealed with another key is refused (auth)" \
		test "$(status_py "$other" "[p['refused'].get('auth', 0) for p in d['peers'] if p['name']=='$victim'][0] > 0")" = True
	check "forgery: $victim is still alive" \
		test "$(peer_state "$other" "$victim")" = "(True, True)"
	lab_exec lb-3 "$LAB_PYTHON" "$FORGE" seal "$LAB_KEY" "$victim" bye \
		"$(lab_addr "$other")" "$PORT" >/dev/null
	sleep 0.3
	check "forgery: a BYE with the key but from another LB node's address is refused (source)" \
		test "$(status_py "$other" "[p['refused'].get('source', 0) for p in d['peers'] if p['name']=='$victim'][0] > 0")" = True
	local dropped
	dropped=$(status_py "$other" "d['droppedInKernel']")
	lab_exec client "$LAB_PYTHON" "$FORGE" seal "$LAB_KEY" "$victim" bye \
		"$(lab_addr "$other")" "$PORT" >/dev/null
	sleep 0.3
	check "forgery: the same BYE from a host that is no LB node is dropped by the kernel, before the agent" \
		test "$(status_py "$other" "d['droppedInKernel'] - $dropped")" = 1
	lab_exec "$victim" "$LAB_PYTHON" "$FORGE" seal "$LAB_KEY" "$victim" bye \
		"$(lab_addr "$other")" "$PORT" --age 60 >/dev/null
	sleep 0.3
	check "forgery: a BYE stamped a minute ago is refused" \
		test "$(status_py "$other" "[p['refused'].get('replay', 0) + p['refused'].get('skew', 0) for p in d['peers'] if p['name']=='$victim'][0] > 0")" = True
	check "forgery: $victim is still alive after all of it" \
		test "$(peer_state "$other" "$victim")" = "(True, True)"
	check "forgery: nothing moved: $owner still owns $vip" owner_is "$vip" "$owner"

	# A HELLO captured on its way from lb-3 to lb-1, replayed to lb-2 from
	# lb-3's own address: sealed for lb-1, refused by lb-2.
	lab_exec switch timeout 3 tcpdump -n -U -c 10 -i br0 -w "$E2E_TMP/to-lb-1.pcap" \
		"udp dst port $PORT and src host $(lab_addr lb-3) and dst host $(lab_addr lb-1)" \
		>/dev/null 2>&1
	local sent before
	before=$(refused lb-2 lb-3 receiver)
	sent=$(lab_exec lb-3 "$LAB_PYTHON" "$FORGE" replay "$E2E_TMP/to-lb-1.pcap" \
		"$(lab_addr lb-2)" "$PORT")
	sleep 0.3
	check "receiver: lb-3's HELLOs to lb-1 ($sent), replayed to lb-2, are refused by lb-2 as sealed for another node" \
		test "$(( $(refused lb-2 lb-3 receiver) - before ))" = "$sent"
	check "receiver: lb-3 is still alive and ready for lb-2" \
		test "$(peer_state lb-2 lb-3)" = "(True, True)"
	check "receiver: nothing moved: $owner still owns $vip" owner_is "$vip" "$owner"

	# Junk: from a host that is no LB node, dropped before the socket; from
	# an LB node's address (an attacker on the segment can forge one),
	# refused, and logged in a line or two however many come.
	local lines
	dropped=$(status_py lb-1 "d['droppedInKernel']")
	lines=$(refusal_lines lb-1)
	lab_exec client "$LAB_PYTHON" "$FORGE" junk "$(lab_addr lb-1)" "$PORT" 2000 \
		>/dev/null
	check "junk: 2000 datagrams from the client are dropped in the kernel" \
		lab_poll 3 grown lb-1 "d['droppedInKernel']" "$dropped" 2000
	check "junk: ... and not one is logged" \
		test "$(refusal_lines lb-1)" = "$lines"
	before=$(status_py lb-1 "d['refusedUnattributed'].get('malformed', 0)")
	lab_exec lb-3 "$LAB_PYTHON" "$FORGE" junk "$(lab_addr lb-1)" "$PORT" 2000 \
		>/dev/null
	check "junk: 2000 datagrams from lb-3's address reach lb-1's agent and are refused (most as malformed)" \
		lab_poll 3 grown lb-1 "d['refusedUnattributed'].get('malformed', 0)" "$before" 1000
	check "junk: ... and logged in one summary line within 10 s" \
		lab_poll 12 grep -q 'peers: refused [0-9]* messages in the last 10 s: malformed' "$(lab_log agent-lb-1)"
	check "junk: ... the whole flood in 3 log lines at most" \
		test "$(( $(refusal_lines lb-1) - lines ))" -le 3
	check "junk: every LB node is still ready" all_ready
	check "junk: nothing moved: $owner still owns $vip" owner_is "$vip" "$owner"

	# Agreement: lb-3 misses changes; it takes the leader's allocation.
	lab_stop agent-lb-3 TERM
	lab_service_rm api
	lab_service cache tcp/6379:8080 "${pods[@]}"
	sleep 1.2
	lab_service api tcp/443:8080 "${pods[@]}"
	sleep 1.2
	lab_agent lb-3
	lab_poll 10 all_ready
	check "agreement: lb-3, down while Services came and went, programs the leader's addresses" \
		lab_poll 5 vips_agree
	local fresh
	fresh=$("$LAB_BMLB" plan --config "$LAB_CLUSTER" --manifests "$LAB_MANIFESTS" \
		--json | $LAB_PYTHON -c "import json,sys
print(' '.join(sorted(s['namespace']+'/'+s['name']+'='+s['vip'] for s in json.load(sys.stdin)['services'])))")
	check "agreement: ... which differ from a fresh plan (the test means something)" \
		test "$fresh" != "$(vips_of lb-1)"

	# Partition: lb-3 alone while a Service is added, then healed.
	lab_exec lb-3 ip link set eth0 down
	sleep 0.5
	lab_service extra tcp/8443:8080 "${pods[@]}"
	sleep 1.5
	lab_exec lb-3 ip link set eth0 up
	lab_exec lb-3 ip route replace default via 198.18.0.1
	check "partition: healed, all ready again" lab_poll 10 all_ready
	check "partition: healed, lb-3 and lb-1 agree on every address" \
		lab_poll 10 vips_agree
	for s in web api db cache extra; do
		vip=$(plan_owner "$s" vip) owner=$(plan_owner "$s" owner)
		check "partition: $s's VIP $vip is announced by $owner only" \
			arp_answer_is "$vip" "$(mac_of "$owner")"
	done

	# A conflict: a rogue host on the segment claims an owned VIP with a
	# forged gratuitous ARP; the owner defends it (RFC 5227 2.4 (c)): one
	# gratuitous ARP, within a second, at most once per 10 s.
	vip=$(plan_owner web vip) owner=$(plan_owner web owner)
	local rogue=worker-1 log t0 wait_ms d0
	log=$(lab_log "agent-$owner")
	# lb-3, healed, announced every VIP before it heard the others: a
	# conflict $owner defended, maybe less than 10 s ago.
	sleep 10
	d0=$(defences "$owner" "$vip")
	lab_ask client udp "$vip" 53 --timeout 1 >/dev/null 2>&1
	check "conflict: the gateway's entry for $vip is $owner's" \
		lab_poll 3 neigh_is "$vip" "$(mac_of "$owner")"
	forge_garp "$rogue" "$vip"
	t0=$(now_ms) # the forgery is out; the defence follows within 50 ms
	check "conflict: $owner counts and logs $rogue's MAC claiming $vip, and defends it" \
		lab_poll 2 grep -q "VIP $vip: conflict: $(mac_of "$rogue") also claims it.*defending it" "$log"
	check "conflict: the gateway's entry for $vip is back at $owner's MAC within a second" \
		lab_poll 1 neigh_is "$vip" "$(mac_of "$owner")"
	sleep 0.5
	forge_garp "$rogue" "$vip"
	check "conflict: a second forgery within 10 s is logged, not defended" \
		lab_poll 2 grep -q "VIP $vip: conflict: .*defended less than 10 s ago" "$log"
	check "... so the gateway follows the rogue (the forged ARP works: the defence above did something)" \
		lab_poll 2 neigh_is "$vip" "$(mac_of "$rogue")"
	sleep 1
	check "... and stays there: one defence in 10 s" \
		neigh_is "$vip" "$(mac_of "$rogue")"
	check "conflict: status counts one defence more" \
		test "$(defences "$owner" "$vip")" = $((d0 + 1))
	check "conflict: $owner still answers ARP for $vip" \
		arp_answer_is "$vip" "$(mac_of "$owner")"
	wait_ms=$((t0 + 10300 - $(now_ms)))
	((wait_ms > 0)) && sleep "$((wait_ms / 1000)).$(printf %03d $((wait_ms % 1000)))"
	forge_garp "$rogue" "$vip"
	check "conflict: 10 s after the first defence, the next forgery is defended again" \
		lab_poll 1 neigh_is "$vip" "$(mac_of "$owner")"
	check "... and counted" test "$(defences "$owner" "$vip")" = $((d0 + 2))
	lab_down
}

main
echo "# announce: done"
