# bmlb agent and bmlb status on the command line: help, usage errors,
# every reason not to start, and (as root, in a private network and mount
# namespace made with unshare) preflight failures, a worker's state
# directory, and an LB node's agent programming, reloading, refusing, exiting
# and taking over its data plane (also from an older maps layout, and
# switching between XDP and tc).  Nothing touches the root namespace.
source "$(dirname "$0")/lib.sh"
CFG=$EXAMPLES/cluster.yaml
MAN=$EXAMPLES/manifests

# A state directory with a good key; agents run with STATE and KEY.
STATE=$TMP/state
KEY=$TMP/key
mkdir -p "$STATE"
printf '%s\n' 0123456789abcdef0123456789abcdef0123456789abcdef >"$KEY"
chmod 600 "$KEY"
agent() {
	$BMLB agent --config "${AG_CFG:-$CFG}" --manifests "${AG_MAN:-$MAN}" \
		--state-dir "$STATE" --key-file "$KEY" "$@"
}

# start_agent LOG ARGS...: agent in the background, its pid in AGENT.
start_agent() {
	local log=$1
	shift
	$BMLB agent --config "${AG_CFG:-$CFG}" --manifests "${AG_MAN:-$MAN}" \
		--state-dir "$STATE" --key-file "$KEY" "$@" 2>"$log" &
	AGENT=$!
}

# poll SECONDS CMD...: runs CMD every 50 ms until it succeeds (bounded).
poll() {
	local n=$(($1 * 20))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# status_has PYTHON_EXPR: bmlb status --json satisfies the expression
# (over the object s).
status_has() {
	$BMLB status --state-dir "$STATE" --json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1"
}

outside() {
run $BMLB agent --help
expect_rc "agent --help" 0
expect_out "--help names the default key file" "default STATE_DIR/key"
expect_out "--help says the data plane outlives the agent" \
	"leaves the data plane attached and its maps pinned"
expect_out "--help gives an example" "Example:"
run $BMLB status --help
expect_rc "status --help" 0
expect_out "status --help gives an example" "bmlb status --state-dir"

run $BMLB agent --frobnicate
expect_rc "an unknown flag is a usage error" 2
run $BMLB agent --config $CFG --manifests $MAN
expect_rc "a missing --node is a usage error" 2
expect_err "it names the required flags" "--config, --manifests and --node are required"
run agent --node lb-1 --hook ebpf
expect_rc "--hook other than xdp|tc is a usage error" 2
for bad in 70000-80000 5000-4000 61000 abc-def 100-200; do
	run agent --node lb-1 --snat-ports $bad
	expect_rc "--snat-ports $bad is a usage error" 2
done
for bad in 16384-32767 30000-30000 32767-40000; do
	run agent --node lb-1 --snat-ports $bad
	expect_rc "--snat-ports $bad (NodePort ports) is a usage error" 2
	expect_err "... saying why" "overlaps the NodePort range 30000-32767"
done
run agent --node lb-1 --peer-port 0
expect_rc "--peer-port 0 is a usage error" 2
for bad in 0 4 10001 abc; do
	run agent --node lb-1 --peer-interval $bad
	expect_rc "--peer-interval $bad is a usage error" 2
done
run agent --node lb-1 --peer-timeout 99999
expect_rc "--peer-timeout 99999 is a usage error" 2
run agent --node lb-1 --peer-interval 50 --peer-timeout 90
expect_rc "a timeout under twice the interval is a usage error" 2
expect_err "it says why" "one lost message would kill a node"
run $BMLB agent --config "$TMP/nope.yaml" --manifests $MAN --node lb-1
expect_rc "an unreadable cluster file is a usage error" 2
run agent --node lb-1 extra
expect_rc "an extra argument is a usage error" 2

run $BMLB agent --config $CFG --manifests $MAN --node lb-1 --state-dir "$STATE"
expect_rc "no key file at the default place" 1
expect_err "it names where it looked, and why there" \
	"$STATE/key: No such file or directory"
expect_err "... because --key-file was not given" \
	"(looked there because --key-file was not given)"
echo short >"$TMP/short.key"
run agent --node lb-1 --key-file "$TMP/short.key"
expect_rc "a short key" 1
expect_err "it says how long a key must be" \
	"the key (first line) is 5 characters long; it must be at least 32"

sed -e 's/mode: bundled/mode: manual/' \
    -e 's/controlPlaneLBPort: 443/controlPlaneLBPort: 70000/' \
    $CFG >"$TMP/broken.yaml"
AG_CFG=$TMP/broken.yaml run agent --node lb-1
expect_rc "an invalid cluster file" 1
expect_err "every problem, at its line" "broken.yaml:29:11: spec.loadBalancer.mode:"
expect_err "... the second one too" "spec.loadBalancer.ports.controlPlaneLBPort:"
expect_err "and that the agent did not start" \
	"bmlb agent: 2 problems found; the agent did not start"

run agent --node lb-9
expect_rc "a node that is not in the manifests" 1
expect_err "it lists the Nodes" "no Node named 'lb-9' in the manifests of $MAN; --node takes a Node's metadata.name (Nodes: cp-1, lb-1, lb-2, lb-3, worker-1, worker-2)"

run $BMLB status --state-dir "$TMP/no-agent"
expect_rc "status with no agent" 1
expect_err "it names the socket" "no agent answers on $TMP/no-agent/status.sock"
}

# The rest needs root and runs in namespaces of its own (see the end).
inside() {
	mount --make-rprivate /
	ip link set lo up
	mkdir -p "$TMP/bpffs" && mount -t bpf bpf "$TMP/bpffs"
	trap 'kill_agent; umount "$TMP/bpffs"; rm -rf "$TMP"' EXIT

run agent --node lb-1
expect_rc "no interface holds the node's address" 1
expect_err "the preflight says which address" \
	"no interface of this machine holds 198.18.0.11, the InternalIP of Node lb-1"
expect_err "and that the agent did not start" "in the preflight; the agent did not start"

ip link add eth0 type veth peer name peer0
ip addr add 198.18.0.11/28 dev eth0
run agent --node lb-1
expect_rc "the interface is down" 1
expect_err "the preflight says so" \
	"interface eth0, which holds 198.18.0.11 (Node lb-1), is down; bring it up"
expect_err "and that the pools are not on its subnet" \
	"spec.loadBalancer.addressPools[0].addresses: addresses 198.18.0.100-198.18.0.127 of pool \"pool1\" are not all in 198.18.0.0/28, the subnet of eth0 on lb-1"
expect_err "nor the manual pool" "of pool \"reserved\" are not all in"

ip link set eth0 up && ip link set peer0 up
ip addr flush dev eth0 && ip addr add 198.18.0.11/24 dev eth0
ip link add w0 type veth peer name w1 && ip addr add 198.18.0.21/24 dev w0
ip link set w0 up && ip link set w1 up

# A worker in snat mode: a data plane for NodePorts (XDP, and the reply
# rewriter on tc egress); state is kept and status answers.
start_agent "$TMP/worker.log" --node worker-1 \
	--bpf-dir "$TMP/bpffs/worker-1-snat"
if poll 10 status_has 's["role"] == "worker"'; then
	ok "a worker's agent starts and answers status"
else
	not_ok "a worker's agent starts and answers status" "$(cat "$TMP/worker.log")"
fi
if status_has 's["dataplane"] and s["counters"]["packets"] >= 0 and s["hook"] == "xdp" and s["interface"] == "w0" and s["mode"] == "snat" and [(p["vip"], p["port"]) for p in s["programmed"]] == [("198.18.0.21", 30080), ("198.18.0.21", 30910)]'; then
	ok "a worker has a data plane in snat mode (the nodePorts, a NodePort Service's too)"
else
	not_ok "a worker has a data plane in snat mode (the nodePorts, a NodePort Service's too)" "$($BMLB status --state-dir "$STATE" --json)"
fi
if ip -d link show w0 | grep -q 'prog/xdp' &&
	tc filter show dev w0 egress | grep -q dsr_out; then
	ok "its programs are XDP and w0's tc egress"
else
	not_ok "its programs are XDP and w0's tc egress" "$(ip -d link show w0; tc filter show dev w0 egress)"
fi
run $BMLB status --state-dir "$STATE"
expect_out "status prints a table" "node        worker-1 (worker), w0 198.18.0.21"
run agent --node worker-1
expect_rc "a second agent on the same state directory" 1
expect_err "it says another agent runs" "another agent (pid $AGENT) is running with the state directory $STATE"
stop_agent "SIGTERM stops the worker's agent"
grep -q 'bmlb\[worker-1\]: started: node worker-1, interface w0 (198.18.0.21/24), role worker, mode snat, hook xdp' "$TMP/worker.log" &&
	ok "the start is logged" || not_ok "the start is logged" "$(cat "$TMP/worker.log")"
if [ -f "$STATE/plan.json" ] && [ -f "$STATE/cluster.yaml" ] && [ ! -e "$STATE/status.sock" ]; then
	ok "the state directory keeps the plan and the cluster file"
else
	not_ok "the state directory keeps the plan and the cluster file" "$(ls -la "$STATE")"
fi

sed 's/forwardMode: snat/forwardMode: dsr/' $CFG >"$TMP/dsr.yaml"
cp "$STATE/cluster.yaml" "$TMP/recorded.yaml"
AG_CFG=$TMP/dsr.yaml run agent --node worker-1
expect_rc "a forwarding mode other than the recorded one" 1
expect_err "it says the mode is fixed" "the forwarding mode is fixed when the cluster is created: was snat, now dsr"
expect_err "and that nothing was changed" "nothing was changed"
cmp -s "$STATE/cluster.yaml" "$TMP/recorded.yaml" &&
	ok "the recorded cluster file is unchanged" ||
	not_ok "the recorded cluster file is unchanged"

# DSR: a worker's agent also reads the option (tc ingress), and the mode
# it was created with is fixed the other way round too.  The snat
# worker's XDP link goes first (its pin held it).
rm -f "$TMP"/bpffs/worker-1-snat/v*/xdp_w0
STATE=$TMP/dsr-state
mkdir -p "$STATE"
AG_CFG=$TMP/dsr.yaml start_agent "$TMP/dsr.log" --node worker-1 \
	--bpf-dir "$TMP/bpffs/worker-1"
if poll 10 status_has 's["mode"] == "dsr" and s["hook"] == "xdp" and s["dataplane"] and s["counters"]["dsr_in"] == 0 and [p["port"] for p in s["programmed"]] == [30080, 30910] and s["flows"] == 0'; then
	ok "a DSR worker's agent opens the worker's data plane"
else
	not_ok "a DSR worker's agent opens the worker's data plane" "$(cat "$TMP/dsr.log")"
fi
if ip -d link show w0 | grep -q 'prog/xdp' &&
	tc filter show dev w0 ingress | grep -q lb_tc &&
	tc filter show dev w0 egress | grep -q dsr_out; then
	ok "its programs are XDP, and w0's tc ingress and egress"
else
	not_ok "its programs are XDP, and w0's tc ingress and egress" "$(ip -d link show w0; tc filter show dev w0 ingress; tc filter show dev w0 egress)"
fi
grep -q 'role worker, mode dsr, hook xdp' "$TMP/dsr.log" &&
	ok "the DSR worker's start is logged" ||
	not_ok "the DSR worker's start is logged" "$(cat "$TMP/dsr.log")"
stop_agent "SIGTERM stops the DSR worker's agent"
tc filter show dev w0 egress | grep -q dsr_out &&
	ok "its programs stay after it exits" ||
	not_ok "its programs stay after it exits"
cp "$STATE/cluster.yaml" "$TMP/recorded.yaml"
run agent --node worker-1 --bpf-dir "$TMP/bpffs/worker-1"
expect_rc "snat on a state directory created in dsr mode" 1
expect_err "it says the mode is fixed" "the forwarding mode is fixed when the cluster is created: was dsr, now snat"
expect_err "and that nothing was changed" "nothing was changed"
cmp -s "$STATE/cluster.yaml" "$TMP/recorded.yaml" &&
	ok "the recorded dsr cluster file is unchanged" ||
	not_ok "the recorded dsr cluster file is unchanged"
STATE=$TMP/state

# An LB node: the data plane, reloads, refusals, exit and take-over.
run agent --node lb-1 --bpf-dir "$TMP/not-bpffs"
expect_rc "a --bpf-dir that is not on a bpffs" 1
expect_err "it says so" "--bpf-dir $TMP/not-bpffs is not on a bpffs"

mkdir -p "$TMP/man"
cp $MAN/*.yaml "$TMP/man/"
STATE=$TMP/lb
export AG_MAN=$TMP/man
start_agent "$TMP/lb.log" --node lb-1 --bpf-dir "$TMP/bpffs/lb-1"
if poll 10 status_has 'len(s["programmed"]) == 7'; then
	ok "an LB node's agent programs every VIP's service ports, and the nodePorts"
else
	not_ok "an LB node's agent programs every VIP's service ports, and the nodePorts" "$(cat "$TMP/lb.log")"
fi
# Alone (lb-2 and lb-3 run no agent here), lb-1 joins and owns every VIP
# but the Local one, whose endpoints are on lb-2 and lb-3.
if poll 5 status_has 's["ready"]' && status_has 's["role"] == "lb" and s["hook"] == "xdp" and s["dataplane"] and s["vipsOwned"] == ["198.18.0.101", "198.18.0.102", "198.18.0.130"] and [p["alive"] for p in s["peers"]] == [False, False] and s["leader"] == "lb-1" and s["counters"]["packets"] >= 0 and s["flows"] == 0 and s["lastReload"] is None'; then
	ok "status has the role, hook, owned VIPs (all: its peers are silent), peers, counters and flows"
else
	not_ok "status has the role, hook, owned VIPs, peers, counters and flows" "$($BMLB status --state-dir "$STATE" --json)"
fi
if ip -d link show eth0 | grep -q 'prog/xdp' && compgen -G "$TMP/bpffs/lb-1/v*/lb_services" >/dev/null; then
	ok "XDP is attached and the maps pinned"
else
	not_ok "XDP is attached and the maps pinned" "$(ip -d link show eth0; ls -R "$TMP/bpffs")"
fi
if grep -q 'libbpf' "$TMP/lb.log"; then
	not_ok "a first start logs no libbpf warning" "$(grep libbpf "$TMP/lb.log")"
else
	ok "a first start logs no libbpf warning"
fi

# A backend leaves the EndpointSlice: applied within a second.
python3 - "$TMP/man/endpointslices.yaml" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
s = s.replace("- addresses: [198.19.22.5]\n  conditions: {ready: true}",
              "- addresses: [198.19.22.5]\n  conditions: {ready: false}", 1)
open(p + ".tmp", "w").write(s)
PY
mv "$TMP/man/endpointslices.yaml.tmp" "$TMP/man/endpointslices.yaml"
WEB='[p for p in s["programmed"] if p["name"] == "web"][0]["backends"]'
if poll 1 status_has "$WEB == [\"198.19.21.5:8080\"]"; then
	ok "a changed EndpointSlice is applied within a second"
else
	not_ok "a changed EndpointSlice is applied within a second" "$(cat "$TMP/lb.log")"
fi
grep -q 'service default/web 198.18.0.101:80/TCP: changed, 1 backend (was 2)' "$TMP/lb.log" &&
	ok "the change is logged" || not_ok "the change is logged" "$(cat "$TMP/lb.log")"

# An invalid edit of the cluster file: refused, the last state kept.
sed 's/controlPlaneLBPort: 443/controlPlaneLBPort: 0/' $CFG >"$TMP/cfg.tmp"
cp $CFG "$TMP/cluster.yaml"
export AG_CFG=$TMP/cluster.yaml
kill_agent
start_agent "$TMP/lb.log" --node lb-1 --bpf-dir "$TMP/bpffs/lb-1"
poll 10 status_has 'len(s["programmed"]) == 7'
grep -q 'took over the pinned data plane' "$TMP/lb.log" &&
	ok "a restarted agent takes the pinned data plane over" ||
	not_ok "a restarted agent takes the pinned data plane over" "$(cat "$TMP/lb.log")"
mv "$TMP/cfg.tmp" "$TMP/cluster.yaml"
if poll 1 status_has 's["lastReload"] and not s["lastReload"]["ok"] and "controlPlaneLBPort" in s["lastReload"]["error"] and len(s["programmed"]) == 7'; then
	ok "an invalid cluster file is refused, the last good state kept"
else
	not_ok "an invalid cluster file is refused, the last good state kept" "$(cat "$TMP/lb.log")"
fi
grep -q 'reload (cluster file) refused, keeping the last good state' "$TMP/lb.log" &&
	ok "the refusal is logged" || not_ok "the refusal is logged" "$(cat "$TMP/lb.log")"

# A new syntax error in a manifest is refused too; SIGHUP forces it.
cp $CFG "$TMP/cluster.yaml"
poll 1 status_has 's["lastReload"]["ok"]'
printf 'kind: Service\nmetadata: [\n' >"$TMP/man/zz-broken.yaml"
if poll 1 status_has 's["lastReload"]["trigger"] == "manifests" and not s["lastReload"]["ok"] and "zz-broken.yaml" in s["lastReload"]["error"]'; then
	ok "a manifest with a new problem is refused"
else
	not_ok "a manifest with a new problem is refused" "$(cat "$TMP/lb.log")"
fi
kill -HUP "$AGENT"
if poll 1 status_has 's["lastReload"]["trigger"] == "SIGHUP" and s["lastReload"]["ok"]'; then
	ok "SIGHUP applies the manifests without the object in error"
else
	not_ok "SIGHUP applies the manifests without the object in error" "$(cat "$TMP/lb.log")"
fi
rm "$TMP/man/zz-broken.yaml"

# A Service goes: its port is removed.
python3 - "$TMP/man/services.yaml" <<'PY'
import sys
p = sys.argv[1]
docs = open(p).read().split("\n---\n")
open(p, "w").write("\n---\n".join(d for d in docs if "name: dns-tcp" not in d))
PY
if poll 1 status_has 'len(s["programmed"]) == 6'; then
	ok "a removed Service's port is removed"
else
	not_ok "a removed Service's port is removed" "$(cat "$TMP/lb.log")"
fi

# A client that never reads does not stall the agent.
python3 - "$STATE/status.sock" "$BMLB" "$STATE" <<'PY' && ok "clients that never read do not stall status" || not_ok "clients that never read do not stall status"
import socket, subprocess, sys
held = []
for _ in range(20):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.connect(sys.argv[1])
    held.append(s)
r = subprocess.run([sys.argv[2], "status", "--state-dir", sys.argv[3], "--json"],
                   capture_output=True, timeout=5)
sys.exit(r.returncode)
PY

stop_agent "SIGTERM stops the LB node's agent"
if ip -d link show eth0 | grep -q 'prog/xdp' && compgen -G "$TMP/bpffs/lb-1/v*/lb_services" >/dev/null; then
	ok "the data plane stays attached and pinned after exit"
else
	not_ok "the data plane stays attached and pinned after exit" "$(ip -d link show eth0)"
fi
grep -q 'exiting; the data plane stays attached to eth0' "$TMP/lb.log" &&
	ok "the exit is logged" || not_ok "the exit is logged" "$(cat "$TMP/lb.log")"

# Switching --hook between runs leaves XDP with tc behind it (which
# forwards what XDP hands it), or tc alone; an XDP
# link pinned by an agent of an older maps layout is taken over (the same
# link, its program swapped), or removed when tc takes over.
expect_hooks "XDP, and tc behind it, are attached after the XDP runs" xdp+tc
PIN=$(compgen -G "$TMP/bpffs/lb-1/v*/xdp_eth0")
CUR=${PIN%/xdp_eth0}
OLD=${CUR%/v*}/v$((${CUR##*/v} - 1))
lb_run tc "XDP to tc"
expect_hooks "tc alone is attached after switching to tc" tc
lb_run tc "tc again"
expect_hooks "tc alone is attached after a second tc run" tc
lb_run xdp "tc to XDP"
expect_hooks "XDP and tc behind it after switching back to XDP" xdp+tc
link=$(link_id "$PIN")
mv "$CUR" "$OLD" # what an agent of the previous maps layout leaves
lb_run xdp "an older layout's XDP link"
expect_hooks "XDP and tc behind it after taking over an older link" xdp+tc
if [ -n "$link" ] && [ "$(link_id "$PIN")" = "$link" ] &&
	[ ! -e "$OLD/xdp_eth0" ]; then
	ok "the older link is taken over, never detached, and moved up"
else
	not_ok "the older link is taken over, never detached, and moved up" \
		"link $link; now $(link_id "$PIN"); $(ls -R "$TMP/bpffs")"
fi
if [ ! -e "$OLD" ]; then
	ok "the older layout's maps are unpinned once the new one runs"
else
	not_ok "the older layout's maps are unpinned once the new one runs" \
		"$(ls -R "$OLD")"
fi
mkdir -p "$OLD"
mv "$PIN" "$OLD/xdp_eth0"
lb_run tc "tc over an older layout's XDP link"
expect_hooks "tc alone is attached, the older XDP link removed" tc
if compgen -G "$TMP/bpffs/lb-1/v*/xdp_eth0" >/dev/null; then
	not_ok "no XDP link stays pinned under tc" "$(ls -R "$TMP/bpffs")"
else
	ok "no XDP link stays pinned under tc"
fi
lb_run xdp "back to XDP"
link=$(link_id "$PIN")
ip link del eth0
ip link add eth0 type veth peer name peer0
ip addr add 198.18.0.11/24 dev eth0
ip link set eth0 up && ip link set peer0 up
lb_run xdp "a link left by a deleted interface"
if [ "$(hooks)" = xdp+tc ] && [ -n "$(link_id "$PIN")" ] &&
	[ "$(link_id "$PIN")" != "$link" ]; then
	ok "the stale link is replaced by a new one on the new interface"
else
	not_ok "the stale link is replaced by a new one on the new interface" \
		"$(hooks); link $link, now $(link_id "$PIN")"
fi

# (with the sanitized build, a leak or an error would be in a log)
if grep -q Sanitizer "$TMP"/*.log; then
	not_ok "the agents ran clean" "$(grep -h -A5 Sanitizer "$TMP"/*.log)"
else
	ok "the agents ran clean"
fi
}

# hooks: what eth0 runs: xdp, tc (bmlb's filter), xdp+tc or none.
hooks() {
	local h=
	ip -d link show eth0 | grep -q 'prog/xdp' && h=xdp
	tc filter show dev eth0 ingress | grep -q 'handle 0xb1b' && h=${h:+$h+}tc
	echo "${h:-none}"
}

# expect_hooks WHAT HOOKS
expect_hooks() {
	local now
	now=$(hooks)
	if [ "$now" = "$2" ]; then ok "$1"; else
		not_ok "$1: eth0 runs $now" "$(ip -d link show eth0; tc filter show dev eth0 ingress)"; fi
}

# link_id PIN: the id of the BPF link pinned there, or nothing.
link_id() {
	bpftool link show pinned "$1" 2>/dev/null | sed -n 's/^\([0-9]*\):.*/\1/p'
}

# lb_run HOOK WHAT: lb-1's agent with --hook HOOK until it has programmed,
# then stopped (exit 0); it must log no libbpf warning.
RUNS=0
lb_run() {
	local log=$TMP/run$((RUNS += 1)).log
	start_agent "$log" --node lb-1 --bpf-dir "$TMP/bpffs/lb-1" --hook "$1"
	poll 10 status_has "s['hook'] == '$1' and len(s['programmed']) == 5"
	stop_agent "$2: the agent with --hook $1 programs and stops"
	if grep -q libbpf "$log"; then
		not_ok "$2: no libbpf warning" "$(cat "$log")"
	else
		ok "$2: no libbpf warning"
	fi
}

kill_agent() {
	if [ -n "${AGENT:-}" ]; then
		kill "$AGENT" 2>/dev/null
		wait "$AGENT" 2>/dev/null
		AGENT=
	fi
}

# stop_agent WHAT: SIGTERM, and the agent exits 0 within 5 s.
stop_agent() {
	local rc n=100
	kill -TERM "$AGENT"
	while kill -0 "$AGENT" 2>/dev/null && [ $n -gt 0 ]; do
		sleep 0.05
		n=$((n - 1))
	done
	wait "$AGENT"
	rc=$?
	AGENT=
	if [ "$rc" -eq 0 ]; then ok "$1 (exit 0)"; else not_ok "$1: exit $rc"; fi
}

if [ "${1:-}" = --inside ]; then
	TAP_N=$2
	inside
	exit 0
fi
outside
if [ "$(id -u)" -ne 0 ] || ! unshare -n -m true 2>/dev/null; then
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - # SKIP namespaces need root: preflight and running agents not tested"
	exit 0
fi
unshare -n -m bash "$0" --inside "$TAP_N"
