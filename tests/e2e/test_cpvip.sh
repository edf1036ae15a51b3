#!/usr/bin/env bash
# test_cpvip.sh: the control-plane VIP (issue 7) with the real daemons:
# agents on 3 LB nodes run keepalived and HAProxy; API server stand-ins
# (lab/apiserver.py, TLS) on the control-plane nodes.
#   - the rendered files pass keepalived -t and haproxy -c; VRRP is unicast
#     to the other LB nodes; one node holds the VIP;
#   - the client reaches https://VIP:443 and answers spread over the API
#     servers;
#   - a control-plane node added to the cluster file: HAProxy reloads, a
#     connection opened before still works, the new one gets requests;
#   - an API server stopped gets no more requests;
#   - HAProxy killed: the agent starts it again; HAProxy not answering:
#     the VIP leaves that node;
#   - the master's keepalived killed, then its node cut off: the VIP moves,
#     requests succeed, never two holders;
#   - a worker's agent runs no daemon; an agent that crashed has its
#     daemons adopted by the next one; a stopped agent stops them.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
e2e_require keepalived haproxy openssl curl

VIP=198.18.0.8
URL=https://$VIP:443/
LBS=(lb-1 lb-2 lb-3)

# holders: the LB nodes that have the VIP on eth0.
holders() {
	local n
	for n in "${LBS[@]}"; do
		lab_exec "$n" ip -o -4 addr show dev eth0 | grep -q " $VIP/" &&
			echo "$n"
	done
	return 0
}
one_holder() { [[ $(holders | wc -l) == 1 ]]; }
holder_is_not() { one_holder && [[ $(holders) != "$1" ]]; }

# child NODE NAME FIELD: a field of the agent's status for that child.
child() {
	"$LAB_BMLB" status --state-dir "$LAB_WORK/$1/state" --json |
		"$LAB_PYTHON" -c '
import json, sys
for c in json.load(sys.stdin)["children"]:
    if c["name"] == sys.argv[1]:
        print(c[sys.argv[2]])' "$2" "$3"
}
children() {
	"$LAB_BMLB" status --state-dir "$LAB_WORK/$1/state" --json |
		"$LAB_PYTHON" -c '
import json, sys
print(json.dumps(json.load(sys.stdin)["children"]))'
}
# top_level REGEX: how many processes match REGEX (pgrep -f) while their
# parent does not (a daemon's own children run its command line too).
top_level() {
	local -A match=()
	local p n=0
	for p in $(pgrep -f "$1"); do match[$p]=1; done
	for p in "${!match[@]}"; do
		[[ -n ${match[$(ps -o ppid= -p "$p" | tr -d ' ')]:-} ]] ||
			n=$((n + 1))
	done
	echo "$n"
}
last_exit_is() {
	local got
	got=$(child "$1" "$2" lastExit)
	[[ $got == "$3" ]] || { echo "lastExit: $got"; return 1; }
}
running() { [[ $(child "$1" "$2" pid) =~ ^[1-9][0-9]*$ ]]; }
restarted() { (($(child "$1" "$2" restarts) >= $3)) && running "$1" "$2"; }

# ask N: N requests through the VIP, one node name per line; fails when
# any failed.
ask() { lab_api client ask "$URL" --count "$1"; }
ask_ok() { ask 1 >/dev/null; }
# spread N NODE...: N requests all succeed, and reach exactly these nodes.
spread() {
	local n=$1 out got
	shift
	out=$(ask "$n") || { echo "$out"; return 1; }
	got=$(sort -u <<<"$out" | tr '\n' ' ')
	[[ $got == "$(printf '%s ' "$@")" ]] || { echo "got: $got"; return 1; }
}

# cp_nodes FILE N: the cluster file is FILE with cp-1..N as control-plane
# nodes (cp-1 is there already).
cp_nodes() {
	local add="" i
	for ((i = 2; i <= $2; i++)); do
		add+="\\n      - address: 198.18.0.3$i"
	done
	sed "s/^      - address: 198.18.0.10\$/&$add/" "$1" >"$LAB_CLUSTER.tmp" &&
		mv -f "$LAB_CLUSTER.tmp" "$LAB_CLUSTER"
}

# all_running: every LB node's agent runs both daemons.
all_running() {
	local n
	for n in "${LBS[@]}"; do
		running "$n" haproxy && running "$n" keepalived || return 1
	done
}

# peers_of FILE: keepalived.conf's source address and unicast peers.
peers_of() {
	grep -A3 unicast_src_ip "$1" | tr -d '\t' | paste -sd' '
}
unicast_from_lb1() {
	[[ $(peers_of "$1") == "unicast_src_ip 198.18.0.11 unicast_peer {"* ]] &&
		[[ $(peers_of "$1") == *" 198.18.0.12 198.18.0.13" ]]
}

lab_up --lb 3 --cp 3 --workers 2 --pods 0 ||
	{ not_ok "the lab comes up"; exit 0; }
# The lab lists every cp node; this run starts with cp-1 and cp-2.
grep -v '^      - address: 198.18.0.3[23]$' "$LAB_CLUSTER" >"$E2E_TMP/base.yaml"
cp_nodes "$E2E_TMP/base.yaml" 2
for n in cp-1 cp-2 cp-3; do
	lab_apiserver "$n" || { not_ok "API server stand-ins start"; exit 0; }
done
for n in "${LBS[@]}"; do lab_agent "$n"; done
lab_agent worker-1

check "every LB node's agent runs haproxy and keepalived" \
	lab_poll 10 all_running
check "a worker's agent runs no daemon" \
	lab_poll 5 eval '[[ $(children worker-1) == "[]" ]]'
st=$LAB_WORK/lb-1/state
check "keepalived -t accepts the rendered keepalived.conf" \
	keepalived -t -f "$st/keepalived.conf" -l -n
check "haproxy -c accepts the rendered haproxy.cfg" \
	haproxy -c -q -f "$st/haproxy.cfg"
check "VRRP is unicast from lb-1 to the two other LB nodes" \
	unicast_from_lb1 "$st/keepalived.conf"
check "each agent wrote its own files (lb-2's names itself)" \
	grep -q 'unicast_src_ip 198.18.0.12$' "$LAB_WORK/lb-2/state/keepalived.conf"

check "one LB node holds the VIP" lab_poll 10 one_holder
check "the client reaches https://VIP and answers spread over cp-1, cp-2" \
	lab_poll 10 spread 8 cp-1 cp-2

# A connection held open across a reload.
rm -f "$E2E_TMP/go"
lab_api client hold "$URL" --until "$E2E_TMP/go" --seconds 60 \
	>"$E2E_TMP/hold" 2>&1 &
hold=$!
lab_poll 5 test -s "$E2E_TMP/hold"
hpid=$(child "$(holders)" haproxy pid)
cp_nodes "$E2E_TMP/base.yaml" 3
check "cp-3 added to the cluster file: HAProxy reloads" \
	lab_poll 5 grep -q "haproxy (pid $hpid): reloading" \
	"$(lab_log "agent-$(holders)")"
check "the new API server gets requests" lab_poll 10 spread 12 cp-1 cp-2 cp-3
check "HAProxy's master stayed (a reload, not a restart)" \
	eval "[[ $(child "$(holders)" haproxy pid) == $hpid ]]"
touch "$E2E_TMP/go"
wait "$hold"
hold_rc=$?
if ((hold_rc == 0)) && (($(grep -c '^cp-' "$E2E_TMP/hold") == 2)); then
	ok "a connection opened before the reload still works after it"
else
	not_ok "a connection opened before the reload still works after it" \
		"$(cat "$E2E_TMP/hold")"
fi

lab_stop apiserver-cp-1
check "an API server stopped: HAProxy stops sending to it" \
	lab_poll 10 spread 12 cp-2 cp-3

m=$(holders)
hpid=$(child "$m" haproxy pid)
kill -KILL "$hpid"
check "HAProxy killed: the agent starts it again" \
	lab_poll 10 restarted "$m" haproxy 1
check "its last exit says how it ended" last_exit_is "$m" haproxy "signal KILL"
check "requests succeed again" lab_poll 10 ask_ok
check "no worker of the killed HAProxy is left (one master, one worker)" \
	lab_poll 10 eval "[[ \$(pgrep -fc 'haproxy -W -db -f $LAB_WORK/$m/') \
		== 2 ]]"

pids=$(pgrep -f "haproxy -W -db -f $LAB_WORK/$m/state/" | paste -sd' ')
kill -STOP $pids
check "HAProxy not answering on $m: the VIP leaves it" \
	lab_poll 10 holder_is_not "$m"
kill -CONT $pids
check "requests succeed through the new holder" lab_poll 10 ask_ok

m=$(holders)
kpid=$(child "$m" keepalived pid)
kill -KILL -- "-$kpid" # keepalived and its VRRP process
check "the master's keepalived killed: the VIP moves" \
	lab_poll 10 holder_is_not "$m"
check "requests succeed again" lab_poll 10 ask_ok
check "the agent starts keepalived again" \
	lab_poll 10 restarted "$m" keepalived 1
sleep 1
check "still one holder once it runs again (nopreempt)" one_holder

m=$(holders)
lab_exec switch ip link set "p-$m" down
check "the master's node cut off: the VIP moves" \
	lab_poll 10 eval "holders | grep -qv '^$m\$'"
check "requests succeed again" lab_poll 10 ask_ok
lab_exec switch ip link set "p-$m" up
check "the node back: still one holder" lab_poll 10 one_holder

# An agent that crashed: its daemons keep running and are adopted.
n=lb-1
hpid=$(child $n haproxy pid) kpid=$(child $n keepalived pid)
lab_stop agent-$n KILL
lab_agent $n
check "a crashed agent's daemons are adopted by the next one" \
	lab_poll 10 eval "[[ \$(child $n haproxy pid) == $hpid &&
		\$(child $n keepalived pid) == $kpid &&
		\$(child $n haproxy adopted) == True ]]"
check "never two of one: one haproxy, one keepalived on $n" \
	eval "[[ \$(top_level 'haproxy -W -db -f $LAB_WORK/$n/') == 1 &&
		\$(top_level 'keepalived -n .* $LAB_WORK/$n/') == 1 ]]"
lab_stop agent-$n
check "a stopped agent stops its daemons" lab_poll 5 lab__gone "$hpid" "$kpid"
check "requests still succeed through the other LB nodes" \
	lab_poll 10 ask_ok

lab_down
exit 0
