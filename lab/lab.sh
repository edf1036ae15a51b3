# lab.sh: the bmlb lab, a bare-metal cluster made of network namespaces.
# Sourced by the e2e tests, the demo and bench/ (lab/lab is its command
# line).  It builds the cluster, writes the cluster file and manifests the
# agents read, runs processes inside hosts, and always tears it all down.
#
#   client 203.0.113.10 ── gw (router) ── switch: bridge br0, one port a host
#   203.0.113.1 eth1        198.18.0.1 eth0      ├─ cp-1..3   198.18.0.10, .32-33
#                                                ├─ lb-1..3   198.18.0.11-13
#                                                └─ worker-1..3 198.18.0.21-23
#   node N (last octet of its address): eth0 on the segment, default route
#   via the gateway, bridge cni0 198.19.N.1/24, pods NODE-pod-K at
#   198.19.N.(K+1) (eth0, default via 198.19.N.1).
#   flat:   every node and the gateway route 198.19.M.0/24 via 198.18.0.M.
#   tunnel: vxlan0 on every node (VNI 42, UDP 4789, 198.18.255.N/24, all-zero
#           FDB entries to every other node); 198.19.M.0/24 via 198.18.255.M;
#           the gateway has no pod routes; pod MTU 1450.
#   sysctls (inside): nodes as a distribution sets them up, ip_forward=1
#   and rp_filter=2 (all, default, eth0: systemd's 50-default.conf), the
#   rest (accept_local=0 among them) the kernel's defaults, nothing set on
#   bmlb's behalf; the gateway, a router, ip_forward=1 and rp_filter=0
#   (all, default, eth0, eth1); IPv6 off everywhere (no ND/MLD noise);
#   the switch does not pass bridged frames to netfilter.
#   Neighbour tables: flushed on every host at the end of lab_up, so that
#   the first packet meets cold ones, as on a node just booted; no step
#   of the lab resolves a neighbour on the nodes.
#
# Safety: namespaces are named PREFIX+host with a per-run PREFIX
# "bl" + 6 [a-z0-9] + "-"; the run is registered in /run/bmlb-lab/ID
# ("OWNER_PID OWNER_START WORK") before anything is created, so that
# lab_sweep can tell dead runs from live ones.  Nothing is ever added to the
# root namespace: veths are created directly inside their namespaces, and
# sysctls are written from inside.  Only 198.18.0.0/15 and the TEST-NETs are
# used.  Every wait is bounded.  Teardown (trap on EXIT INT TERM HUP, or
# lab_down, or lab_sweep for a crashed run) stops the recorded processes,
# kills anything else left inside the namespaces, deletes them, unmounts the
# bpffs and removes the work directory (kept with LAB_KEEP=1).
#
# After lab_up, the caller's shell has LAB_PREFIX, LAB_ID, LAB_WORK,
# LAB_CLUSTER, LAB_MANIFESTS, LAB_BPFFS, LAB_KEY, LAB_SHAPE, LAB_MODE, and
# LAB_HOSTS (all host names) with LAB_ADDR/LAB_ROLE/LAB_NODE[host].
# Work directory ($LAB_WORK = ${LAB_TMPDIR:-/tmp}/bmlb-lab-ID):
#   cluster.yaml, manifests/nodes.yaml, manifests/svc-NS-NAME.yaml, key,
#   bpffs/NODE/ (one bpffs mount), NODE/state/, logs/NAME.log, pids/NAME,
#   hosts ("name role address node"), lab.env.
# Roles: client gateway switch cp lb worker pod.
#
# Functions (each documented where it is defined):
#   lab_up [opts] / lab_down [ID] / lab_sweep [--detached] /
#   lab_attach ID / lab_detach                         the run
#   lab_exec HOST CMD... / lab_ns HOST / lab_addr HOST /
#   lab_hosts [ROLE...] / lab_pods [NODE]              hosts
#   lab_spawn NAME HOST CMD... / lab_stop NAME [SIG] / lab_running NAME /
#   lab_log NAME / lab_agent NODE [ARGS...]            background processes
#   lab_serve POD [--tcp P] [--udp P] [--download P] /
#   lab_ask HOST tcp|udp ADDR PORT
#                                                      traffic (lab/echo.py)
#   lab_apiserver NODE / lab_api HOST ask|hold URL...  API server stand-ins
#                                                      (lab/apiserver.py)
#   lab_service [opts] NAME PORTS [POD...] / lab_service_rm NAME [NS]
#                                                      Services
#   lab_poll SECONDS CMD... / lab_wait_listen HOST tcp|udp PORT [SECONDS]
#   lab_vip_at VIP NODE                                the gateway's choice
# The functions work under the caller's set -euo pipefail or without it:
# those with several steps say "local -; set +e" and check each step.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_REGISTRY=/run/bmlb-lab
LAB_NETNS_DIR=/run/netns
LAB_ID_RE='^bl[a-z0-9]{6}$'
if [[ -z ${LAB_PYTHON:-} ]]; then
	LAB_PYTHON=python3
	[[ -x /usr/bin/python3 ]] && LAB_PYTHON=/usr/bin/python3
fi
LAB_BMLB=${LAB_BMLB:-$LAB_DIR/../build/bmlb}
# The XDP_PASS program for the switch ports (make builds it).
LAB_PASS_OBJ=${LAB_PASS_OBJ:-$LAB_DIR/../build/bpf/pass.bpf.o}
declare -gA LAB_ADDR=() LAB_ROLE=() LAB_NODE=()
declare -ga LAB_HOSTS=() LAB_NODES=()

lab__err() { echo "lab: $*" >&2; }

# lab__now_ms: monotonic-enough milliseconds for bounded polls.
lab__now_ms() {
	local t=${EPOCHREALTIME/./}
	REPLY=$((t / 1000))
}

# lab_poll SECONDS CMD...: runs CMD every 50 ms until it succeeds; fails
# after SECONDS (and after at most SECONDS*20+1 tries).
lab_poll() {
	local -
	set +e
	local secs=$1 i max end
	shift
	lab__now_ms
	end=$((REPLY + ${secs%.*} * 1000))
	max=$((${secs%.*} * 20 + 1))
	for ((i = 0; i < max; i++)); do
		"$@" && return 0
		lab__now_ms
		((REPLY < end)) || return 1
		sleep 0.05
	done
	return 1
}

# lab__starttime PID: the process's start time (clock ticks since boot),
# so that a recycled pid is not taken for the run's owner.
lab__starttime() {
	local s
	{ s=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	REPLY=${20}
}

# lab__alive PID: a live process (zombies count as dead).
lab__alive() {
	local s
	{ s=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
	s=${s##*) }
	[[ ${s:0:1} != Z ]]
}

# lab__recorded FILE: REPLY is the pid recorded in FILE ("PID START") when
# that very process still runs (not a recycled pid).
lab__recorded() {
	local pid start
	read -r pid start 2>/dev/null <"$1" && [[ $pid =~ ^[0-9]+$ ]] &&
		lab__alive "$pid" && lab__starttime "$pid" &&
		[[ $REPLY == "$start" ]] || return 1
	REPLY=$pid
}

# lab__gone PID...: none of them is alive.
lab__gone() {
	local p
	for p in "$@"; do lab__alive "$p" && return 1; done
	return 0
}

# lab__run_state ID: live, detached or dead, from the registry.
lab__run_state() {
	local pid start work
	if ! read -r pid start work 2>/dev/null <"$LAB_REGISTRY/$1"; then
		REPLY=dead
	elif [[ $pid == 0 ]]; then
		REPLY=detached
	elif lab__starttime "$pid" && [[ $REPLY == "$start" ]]; then
		REPLY=live
	else
		REPLY=dead
	fi
}

# lab__ids: every run id seen in namespaces or the registry.
lab__ids() {
	local f n
	local -A seen=()
	for f in "$LAB_NETNS_DIR"/bl* "$LAB_REGISTRY"/bl*; do
		n=${f##*/}
		n=${n%%-*}
		[[ -e $f && $n =~ $LAB_ID_RE && -z ${seen[$n]:-} ]] || continue
		seen[$n]=1
		echo "$n"
	done
}

# lab__namespaces ID: the run's namespaces, into the array REPLY_NS.
lab__namespaces() {
	local f
	REPLY_NS=()
	for f in "$LAB_NETNS_DIR/$1-"*; do
		[[ -e $f ]] && REPLY_NS+=("${f##*/}")
	done
}

# ---------------------------------------------------------------- teardown

# lab__teardown ID: removes everything of run ID; 0 when nothing is left.
lab__teardown() {
	local -
	set +e
	local id=$1 work="" f ns left i
	local -a pids=() REPLY_NS
	[[ $id =~ $LAB_ID_RE ]] || { lab__err "bad run id '$id'"; return 1; }
	read -r _ _ work 2>/dev/null <"$LAB_REGISTRY/$id" || true
	[[ -n $work ]] || work=${LAB_TMPDIR:-/tmp}/bmlb-lab-$id

	# Ask the recorded processes to stop, then kill whatever is left in
	# the namespaces (children, forgotten background jobs).
	for f in "$work"/pids/*; do
		lab__recorded "$f" && kill -TERM "$REPLY" 2>/dev/null &&
			pids+=("$REPLY")
	done
	((${#pids[@]} == 0)) || lab_poll 5 lab__gone "${pids[@]}" ||
		kill -KILL "${pids[@]}" 2>/dev/null
	lab__namespaces "$id"
	for ((i = 0; i < 3; i++)); do
		left=()
		for ns in "${REPLY_NS[@]}"; do
			# shellcheck disable=SC2207
			left+=($(ip netns pids "$ns" 2>/dev/null))
		done
		((${#left[@]} == 0)) && break
		kill -KILL "${left[@]}" 2>/dev/null
		lab_poll 2 lab__gone "${left[@]}"
	done
	# (wait with no pid would wait for every child of the caller)
	((${#pids[@]} == 0)) || wait "${pids[@]}" 2>/dev/null

	if ((${#REPLY_NS[@]})); then
		printf 'netns del %s\n' "${REPLY_NS[@]}" |
			ip -force -batch - >/dev/null 2>&1
	fi
	# The bpffs, wherever a mount of this run is.
	while read -r _ f _; do
		[[ $f == */bmlb-lab-"$id"/* ]] || continue
		umount "$f" 2>/dev/null || umount -l "$f"
	done </proc/self/mounts
	if [[ ${LAB_KEEP:-0} != 1 && ${work##*/} == "bmlb-lab-$id" &&
		-d $work ]] && ! grep -q " $work/" /proc/self/mounts; then
		rm -rf -- "$work"
	fi
	rm -f -- "$LAB_REGISTRY/$id"

	lab__namespaces "$id"
	if ((${#REPLY_NS[@]})); then
		lab__err "$id: namespaces left: ${REPLY_NS[*]}"
		return 1
	fi
	if grep -q "/bmlb-lab-$id/" /proc/self/mounts; then
		lab__err "$id: a mount is left"
		return 1
	fi
	return 0
}

# lab_sweep [--detached]: tears down the runs whose owner is dead (with
# --detached, also those left up by `lab up`).  Never touches a live run.
lab_sweep() {
	local -
	set +e
	local id rc=0
	for id in $(lab__ids); do
		lab__run_state "$id"
		[[ $REPLY == dead ||
			($REPLY == detached && ${1:-} == --detached) ]] || continue
		echo "lab: sweeping $id ($REPLY)" >&2
		lab__teardown "$id" || rc=1
	done
	return $rc
}

# One lab at a time per machine: two would share two cores and disturb
# each other's timing (failover, benchmarks).  lab_up waits (bounded) for
# the machine-wide lock; the owning shell holds it until lab_down or exit.
lab__lock() {
	mkdir -p "$LAB_REGISTRY" &&
		exec {LAB_LOCK_FD}>>"$LAB_REGISTRY/.lock" || return 1
	flock -n "$LAB_LOCK_FD" && return 0
	echo "lab: waiting for the lab already running on this machine" >&2
	flock -w "${LAB_LOCK_WAIT:-3600}" "$LAB_LOCK_FD" && return 0
	lab__err "up: another lab still holds $LAB_REGISTRY/.lock"
	lab__unlock
	return 1
}

lab__unlock() {
	[[ -n ${LAB_LOCK_FD:-} ]] || return 0
	exec {LAB_LOCK_FD}>&-
	LAB_LOCK_FD=""
}

# lab_down [ID]: tears down the run of this shell, or run ID.
lab_down() {
	local -
	set +e
	local id=${1:-${LAB_ID:-}} rc=0
	id=${id%-}
	[[ -n $id ]] || return 0
	lab__teardown "$id" || rc=1
	# Only the owning shell forgets the run (not a subshell of it).
	if [[ $id == "${LAB_ID:-}" && $BASHPID == "${LAB_OWNER:-}" ]]; then
		lab__untrap
		lab__unlock
		LAB_ID="" LAB_PREFIX="" LAB_WORK=""
		LAB_HOSTS=() LAB_NODES=() LAB_ADDR=() LAB_ROLE=() LAB_NODE=()
	fi
	return $rc
}

# Traps: the caller's own EXIT/INT/TERM/HUP traps are kept and run after
# the teardown (when lab_up runs in the main shell, not in a subshell).
declare -gA LAB_OLD_TRAP=()
lab__trap() {
	local sig
	local -a old
	for sig in EXIT INT TERM HUP; do
		# A subshell shows its parent's traps but would not run them.
		old=()
		[[ $BASHPID != "$$" ]] || eval "old=($(trap -p "$sig"))"
		LAB_OLD_TRAP[$sig]=${old[2]:-}
	done
	trap 'lab__on_signal EXIT' EXIT
	for sig in INT TERM HUP; do
		# shellcheck disable=SC2064 # (the signal's name, now)
		trap "lab__on_signal $sig" "$sig"
	done
	LAB_TRAPPED=1
}

lab__untrap() {
	local sig
	[[ ${LAB_TRAPPED:-0} == 1 ]] || return 0
	for sig in EXIT INT TERM HUP; do
		if [[ -n ${LAB_OLD_TRAP[$sig]} ]]; then
			trap -- "${LAB_OLD_TRAP[$sig]}" "$sig"
		else
			trap - "$sig"
		fi
	done
	LAB_TRAPPED=0
}

lab__on_signal() {
	local sig=$1 prev=${LAB_OLD_TRAP[$1]:-}
	lab_down
	[[ -z $prev ]] || eval "$prev"
	case $sig in
	INT) exit 130 ;;
	TERM) exit 143 ;;
	HUP) exit 129 ;;
	esac
}

# ---------------------------------------------------------------- lookups

# lab_ns HOST: the namespace of HOST (also in REPLY).
lab_ns() {
	lab__ns "$1" || return 1
	echo "$REPLY"
}
lab__ns() {
	if [[ -z ${LAB_ID:-} ]]; then
		lab__err "no lab is up in this shell (lab_up or lab_attach)"
		return 1
	fi
	if [[ -z ${LAB_ROLE[$1]:-} ]]; then
		lab__err "no host '$1'; hosts: ${LAB_HOSTS[*]}"
		return 1
	fi
	REPLY=$LAB_PREFIX$1
}

# lab_addr HOST: HOST's address (nodes, gw: 198.18.0.x; pods 198.19.N.x;
# client 203.0.113.10).
lab_addr() {
	lab__ns "$1" || return 1
	echo "${LAB_ADDR[$1]}"
}

# lab_hosts [ROLE...]: host names, in creation order, of these roles.
lab_hosts() {
	local h r
	for h in "${LAB_HOSTS[@]}"; do
		(($# == 0)) && { echo "$h"; continue; }
		for r in "$@"; do
			[[ ${LAB_ROLE[$h]} == "$r" ]] && echo "$h"
		done
	done
	return 0
}

# lab_pods [NODE]: the pods (of NODE).
lab_pods() {
	local h
	for h in "${LAB_HOSTS[@]}"; do
		[[ ${LAB_ROLE[$h]} == pod ]] || continue
		[[ -z ${1:-} || ${LAB_NODE[$h]} == "$1" ]] && echo "$h"
	done
	return 0
}

# lab_exec HOST CMD...: runs CMD inside HOST (with HOST's own /sys).
lab_exec() {
	lab__ns "$1" || return 1
	shift
	ip netns exec "$REPLY" "$@"
}

# lab_spawn NAME HOST CMD...: starts CMD in the background inside HOST,
# output appended to $LAB_WORK/logs/NAME.log, pid in LAB_PID and
# $LAB_WORK/pids/NAME.  It is stopped at teardown (or by lab_stop NAME); a
# NAME can be started again once stopped (an agent restart).
lab_spawn() {
	local -
	set +e
	local name=$1 host=$2
	shift 2
	[[ $name =~ ^[A-Za-z0-9._-]+$ ]] || {
		lab__err "spawn: bad name '$name'"
		return 1
	}
	lab__ns "$host" || return 1
	if lab_running "$name"; then
		lab__err "spawn: '$name' is already running"
		return 1
	fi
	# (the child must not hold the lab lock past the run)
	(lab__unlock && exec ip netns exec "$REPLY" "$@") \
		</dev/null >>"$LAB_WORK/logs/$name.log" 2>&1 &
	LAB_PID=$!
	lab__starttime "$LAB_PID" || REPLY=0
	echo "$LAB_PID $REPLY" >"$LAB_WORK/pids/$name"
	# Until the child has exec'd, it runs this shell's traps: a signal
	# sent then would be lost, so return only once it has (bounded).
	lab__execd "$LAB_PID"
}
lab__execd() {
	local i
	for ((i = 0; i < 500; i++)); do
		[[ /proc/$1/exe -ef /proc/$BASHPID/exe ]] || return 0
		sleep 0.01
	done
	return 1
}

# lab_running NAME: the process started as NAME is alive.
lab_running() {
	lab__recorded "${LAB_WORK:-/nonexistent}/pids/$1"
}

# lab_stop NAME [SIGNAL]: sends SIGNAL (TERM), waits up to 5 s, then KILL.
# Returns the process's exit status when it was this shell's child (127
# otherwise, or when it had already ended and been reaped).
lab_stop() {
	local -
	set +e
	local f=${LAB_WORK:-/nonexistent}/pids/$1 pid rc=0
	[[ -f $f ]] || { lab__err "stop: no process '$1'"; return 1; }
	if lab__recorded "$f"; then
		pid=$REPLY
		kill "-${2:-TERM}" "$pid" 2>/dev/null
		lab_poll 5 lab__gone "$pid" || kill -KILL "$pid" 2>/dev/null
	else
		read -r pid _ <"$f"
	fi
	wait "$pid" 2>/dev/null || rc=$?
	rm -f -- "$f"
	return $rc
}

# lab_vip_at VIP NODE: the gateway sends VIP's traffic to NODE (its
# neighbour entry for VIP holds NODE's MAC): the announcement has settled,
# e.g. after the first LB node to join handed the VIP to its planned owner.
lab_vip_at() {
	local mac
	mac=$(lab_exec "$2" cat /sys/class/net/eth0/address) &&
		lab_exec gw ip neigh show "$1" | grep -qi "lladdr $mac"
}

# lab_log NAME: the log file of a spawned process.
lab_log() { echo "$LAB_WORK/logs/$1.log"; }

# lab_wait_listen HOST tcp|udp PORT [SECONDS]: waits (5 s) for a socket.
lab_wait_listen() {
	local flag=-Htln
	[[ $2 == udp ]] && flag=-Huln
	lab__ns "$1" || return 1
	lab_poll "${4:-5}" lab__listening "$REPLY" "$flag" "$3"
}
lab__listening() {
	[[ -n $(ip netns exec "$1" ss "$2" "sport = :$3" 2>/dev/null) ]]
}

# lab_serve POD [--tcp PORT]... [--udp PORT]... [--download PORT]...: starts
# lab/echo.py in POD
# as process echo-POD (it answers "POD PEER_IP PEER_PORT", then echoes) and
# waits until its ports listen.
lab_serve() {
	local -
	set +e
	local pod=$1 a p
	shift
	lab_spawn "echo-$pod" "$pod" "$LAB_PYTHON" "$LAB_DIR/echo.py" serve \
		"$pod" "$@" || return 1
	for a in "$@"; do
		case $a in
		--tcp | --udp) p=${a#--} ;;
		--download) p=tcp ;;
		*) lab_wait_listen "$pod" "$p" "$a" || {
			lab__err "serve: $pod: nothing listens on $p/$a"
			return 1
		} ;;
		esac
	done
}

# lab_ask HOST tcp|udp ADDR PORT [--count N] [--bytes B] [--seconds S]
#         [--timeout T]: lab/echo.py's client run inside HOST; prints one
# line per exchange: "POD PEER_IP PEER_PORT" (the address the pod saw).
lab_ask() {
	local host=$1
	shift
	lab_exec "$host" "$LAB_PYTHON" "$LAB_DIR/echo.py" ask "$@"
}

# lab_apiserver NODE: starts lab/apiserver.py on NODE's port 6443 as
# process apiserver-NODE (TLS with a certificate made for this run; it
# answers /readyz with "ok" and any other path with NODE's name) and
# waits until it listens.
lab_apiserver() {
	local -
	set +e
	local node=$1 crt=$LAB_WORK/apiserver.crt key=$LAB_WORK/apiserver.key
	if [[ ! -f $crt ]]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -days 1 -subj /CN=lab-apiserver -keyout "$key" \
			-out "$crt" >/dev/null 2>&1 || {
			lab__err "apiserver: openssl could not make a certificate"
			return 1
		}
	fi
	lab_spawn "apiserver-$node" "$node" "$LAB_PYTHON" \
		"$LAB_DIR/apiserver.py" serve "$node" --cert "$crt" \
		--key "$key" || return 1
	lab_wait_listen "$node" tcp 6443 ||
		{ lab__err "apiserver: nothing listens on $node:6443"; return 1; }
}

# lab_api HOST ask|hold URL [ARGS...]: lab/apiserver.py's clients inside
# HOST (ask: one line per request, the node that answered).
lab_api() {
	local host=$1
	shift
	lab_exec "$host" "$LAB_PYTHON" "$LAB_DIR/apiserver.py" "$@"
}

# lab_agent NODE [ARGS...]: starts `bmlb agent` for NODE inside it, as
# process agent-NODE (state in $LAB_WORK/NODE/state, maps in
# $LAB_BPFFS/NODE, key $LAB_KEY).  LAB_BMLB picks the binary.
lab_agent() {
	local node=$1
	shift
	case ${LAB_ROLE[$node]:-} in
	cp | lb | worker) ;;
	*) lab__err "agent: '$node' is not a node"; return 1 ;;
	esac
	lab_spawn "agent-$node" "$node" "$LAB_BMLB" agent \
		--config "$LAB_CLUSTER" --manifests "$LAB_MANIFESTS" \
		--node "$node" --state-dir "$LAB_WORK/$node/state" \
		--bpf-dir "$LAB_BPFFS/$node" --key-file "$LAB_KEY" "$@"
}

# ---------------------------------------------------------------- manifests

# lab_service [--namespace NS] [--policy Cluster|Local] [--ip VIP]
#             [--share KEY] [--pool POOL] [--type LoadBalancer|NodePort]
#             [--created RFC3339] [--not-ready POD]... NAME PORTS [POD...]
# Writes (atomically) $LAB_MANIFESTS/svc-NS-NAME.yaml: a Service and its
# EndpointSlice with these pods.  PORTS: PROTO/PORT:TARGET[@NODEPORT],...
# e.g. tcp/80:8080,udp/53:5353 (port names tcp-80, udp-53).  Writing the
# same Service again replaces it and keeps its creationTimestamp; a new
# Service gets the next second after 2026-01-01T00:00:00Z, so creation
# order is allocation order.
lab_service() {
	local -
	set +e
	local ns=default policy=Cluster ip="" share="" pool="" type=LoadBalancer
	local created="" name ports file p n pod ready np
	local -A notready=()
	local -a plist=() names=() protos=() nums=() targets=() nodeports=()
	while [[ ${1:-} == --* ]]; do
		(($# >= 2)) || { lab__err "service: $1 needs a value"; return 1; }
		case $1 in
		--namespace) ns=$2 ;;
		--policy) policy=$2 ;;
		--ip) ip=$2 ;;
		--share) share=$2 ;;
		--pool) pool=$2 ;;
		--type) type=$2 ;;
		--created) created=$2 ;;
		--not-ready) notready[$2]=1 ;;
		*) lab__err "service: unknown option $1"; return 1 ;;
		esac
		shift 2
	done
	(($# >= 2)) || { lab__err "service: NAME PORTS [POD...]"; return 1; }
	name=$1 ports=$2
	shift 2
	[[ -n ${LAB_ID:-} ]] || { lab__err "service: no lab is up"; return 1; }
	for pod in "$@"; do
		[[ ${LAB_ROLE[$pod]:-} == pod ]] ||
			{ lab__err "service: '$pod' is not a pod"; return 1; }
	done
	IFS=, read -ra plist <<<"$ports"
	for p in "${plist[@]}"; do
		[[ $p =~ ^(tcp|udp)/([0-9]+):([0-9]+)(@([0-9]+))?$ ]] ||
			{ lab__err "service: bad port '$p'"; return 1; }
		names+=("${BASH_REMATCH[1]}-${BASH_REMATCH[2]}")
		protos+=("${BASH_REMATCH[1]^^}") nums+=("${BASH_REMATCH[2]}")
		targets+=("${BASH_REMATCH[3]}") nodeports+=("${BASH_REMATCH[5]}")
	done
	file=$LAB_MANIFESTS/svc-$ns-$name.yaml
	if [[ -z $created && -f $file ]]; then
		created=$(sed -n 's/^  creationTimestamp: "\(.*\)"$/\1/p' "$file")
	fi
	if [[ -z $created ]]; then
		read -r n 2>/dev/null <"$LAB_WORK/svc-seq" || n=0
		n=$((n + 1))
		echo "$n" >"$LAB_WORK/svc-seq"
		printf -v created '2026-01-01T%02d:%02d:%02dZ' \
			$((n / 3600)) $((n / 60 % 60)) $((n % 60))
	fi
	{
		echo "apiVersion: v1"
		echo "kind: Service"
		echo "metadata:"
		echo "  name: $name"
		echo "  namespace: $ns"
		echo "  creationTimestamp: \"$created\""
		if [[ -n $share$pool ]]; then
			echo "  annotations:"
			[[ -z $share ]] ||
				echo "    metallb.universe.tf/allow-shared-ip: $share"
			[[ -z $pool ]] ||
				echo "    metallb.universe.tf/address-pool: $pool"
		fi
		echo "spec:"
		echo "  type: $type"
		echo "  externalTrafficPolicy: $policy"
		[[ -z $ip ]] || echo "  loadBalancerIP: $ip"
		echo "  ports:"
		for n in "${!names[@]}"; do
			np=${nodeports[$n]:+, nodePort: ${nodeports[$n]}}
			echo "  - {name: ${names[$n]}, protocol: ${protos[$n]}," \
				"port: ${nums[$n]}, targetPort: ${targets[$n]}$np}"
		done
		echo "---"
		echo "apiVersion: discovery.k8s.io/v1"
		echo "kind: EndpointSlice"
		echo "metadata:"
		echo "  name: $name-lab"
		echo "  namespace: $ns"
		echo "  labels: {kubernetes.io/service-name: $name}"
		echo "addressType: IPv4"
		echo "ports:"
		for n in "${!names[@]}"; do
			echo "- {name: ${names[$n]}, protocol: ${protos[$n]}," \
				"port: ${targets[$n]}}"
		done
		(($#)) && echo "endpoints:" || echo "endpoints: []"
		for pod in "$@"; do
			ready=true
			[[ -z ${notready[$pod]:-} ]] || ready=false
			echo "- {addresses: [${LAB_ADDR[$pod]}]," \
				"conditions: {ready: $ready}," \
				"nodeName: ${LAB_NODE[$pod]}}"
		done
	} >"$LAB_MANIFESTS/.svc-$ns-$name.tmp" &&
		mv -f -- "$LAB_MANIFESTS/.svc-$ns-$name.tmp" "$file"
}

# lab_service_rm NAME [NAMESPACE]: removes a Service written by lab_service.
lab_service_rm() {
	rm -f -- "$LAB_MANIFESTS/svc-${2:-default}-$1.yaml"
}

# ---------------------------------------------------------------- building

# lab__host NAME ROLE ADDR NODE: adds a host to the tables.
lab__host() {
	LAB_HOSTS+=("$1")
	[[ $2 == cp || $2 == lb || $2 == worker ]] && LAB_NODES+=("$1")
	LAB_ROLE[$1]=$2 LAB_ADDR[$1]=$3 LAB_NODE[$1]=$4
}

# lab__octet HOST: the last octet of a node's address (its pod subnet).
lab__octet() { REPLY=${LAB_ADDR[$1]##*.}; }

lab__plan() {
	local lbs=$1 workers=$2 pods=$3 lbpods=$4 cps=$5 i k n node
	LAB_HOSTS=() LAB_NODES=() LAB_ADDR=() LAB_ROLE=() LAB_NODE=()
	lab__host client client 203.0.113.10 -
	lab__host gw gateway 198.18.0.1 -
	lab__host switch switch - -
	lab__host cp-1 cp 198.18.0.10 cp-1
	for ((i = 2; i <= cps; i++)); do
		lab__host "cp-$i" cp "198.18.0.$((30 + i))" "cp-$i"
	done
	for ((i = 1; i <= lbs; i++)); do
		lab__host "lb-$i" lb "198.18.0.$((10 + i))" "lb-$i"
	done
	for ((i = 1; i <= workers; i++)); do
		lab__host "worker-$i" worker "198.18.0.$((20 + i))" "worker-$i"
	done
	for node in $(lab_hosts lb worker); do
		n=$pods
		[[ ${LAB_ROLE[$node]} == lb ]] && n=$lbpods
		lab__octet "$node"
		for ((k = 1; k <= n; k++)); do
			lab__host "$node-pod-$k" pod "198.19.$REPLY.$((k + 1))" \
				"$node"
		done
	done
}

# lab__claim: picks an unused run id and registers it (owner: this shell)
# before anything else exists.
lab__claim() {
	local chars=abcdefghijklmnopqrstuvwxyz0123456789 id i j owner start tmp
	owner=$BASHPID
	lab__starttime "$owner" || return 1
	start=$REPLY
	mkdir -p "$LAB_REGISTRY" || return 1
	tmp=$LAB_REGISTRY/.claim.$owner
	for ((i = 0; i < 20; i++)); do
		id=bl
		for ((j = 0; j < 6; j++)); do
			id+=${chars:$((${SRANDOM:-$RANDOM} % 36)):1}
		done
		lab__namespaces "$id"
		((${#REPLY_NS[@]} == 0)) || continue
		# Written aside, then linked: no reader ever sees it half
		# written, and ln fails if the id is taken.
		echo "$owner $start ${LAB_TMPDIR:-/tmp}/bmlb-lab-$id" >"$tmp" ||
			return 1
		if ln "$tmp" "$LAB_REGISTRY/$id" 2>/dev/null; then
			rm -f -- "$tmp"
			LAB_ID=$id LAB_PREFIX=$id- LAB_OWNER=$owner
			LAB_WORK=${LAB_TMPDIR:-/tmp}/bmlb-lab-$id
			return 0
		fi
	done
	rm -f -- "$tmp"
	lab__err "could not find a free run id"
	return 1
}

# lab__step NAME CMD...: one step of lab_up; LAB_FAIL_AT=NAME makes it fail
# (to test that a failed up leaves nothing behind).  Steps: dirs netns
# config files check cold; also LAB_FAIL_AT=host:HOST (in lab__script).
lab__step() {
	if [[ ${LAB_FAIL_AT:-} == "$1" ]]; then
		lab__err "$LAB_ID: step $1: failing on purpose (LAB_FAIL_AT)"
		return 1
	fi
	"${@:2}" || { lab__err "$LAB_ID: step $1 failed"; return 1; }
}

lab__dirs() {
	local node
	mkdir -p "$LAB_WORK"/{logs,pids,setup,manifests,bpffs} || return 1
	LAB_CLUSTER=$LAB_WORK/cluster.yaml LAB_MANIFESTS=$LAB_WORK/manifests
	LAB_BPFFS=$LAB_WORK/bpffs LAB_KEY=$LAB_WORK/key
	(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' \
		>"$LAB_KEY" && echo >>"$LAB_KEY") || return 1
	mount -t bpf bpf "$LAB_BPFFS" || return 1
	for node in "${LAB_NODES[@]}"; do
		mkdir -p "$LAB_WORK/$node/state" "$LAB_BPFFS/$node" || return 1
	done
}

# All namespaces, then every veth pair created straight into its two
# namespaces (never in the root one).
lab__netns() {
	local h mtu="" p=$LAB_PREFIX
	[[ $LAB_SHAPE == tunnel ]] && mtu="mtu 1450"
	printf "netns add $p%s\n" "${LAB_HOSTS[@]}" |
		ip -batch - || return 1
	{
		echo "link add eth0 netns ${p}client type veth" \
			"peer name eth1 netns ${p}gw"
		for h in gw "${LAB_NODES[@]}"; do
			echo "link add eth0 netns $p$h type veth" \
				"peer name p-$h netns ${p}switch"
		done
		for h in $(lab_pods); do
			echo "link add eth0 netns $p$h $mtu type veth" \
				"peer name pod${h##*-pod-} netns $p${LAB_NODE[$h]} $mtu"
		done
	} | ip -batch -
}

# lab__script HOST: the shell script that sets HOST up from inside it.
lab__script() {
	local h=$1 role=${LAB_ROLE[$1]} m n pod
	echo 'set -e'
	echo 'w() { if [ -e "/proc/sys/$1" ]; then echo "$2" >"/proc/sys/$1"; fi; }'
	echo 'w net/ipv6/conf/all/disable_ipv6 1'
	echo 'w net/ipv6/conf/default/disable_ipv6 1'
	case $role in
	switch)
		for m in arptables iptables ip6tables; do
			echo "w net/bridge/bridge-nf-call-$m 0"
		done ;;
	gateway)
		echo 'w net/ipv4/ip_forward 1'
		for m in all default eth0 eth1; do
			echo "w net/ipv4/conf/$m/rp_filter 0"
		done ;;
	cp | lb | worker)
		echo 'w net/ipv4/ip_forward 1'
		for m in all default eth0; do
			echo "w net/ipv4/conf/$m/rp_filter 2"
		done ;;
	esac
	echo "ip -batch - <<'EOF'"
	echo 'link set lo up'
	case $role in
	client)
		echo 'addr add 203.0.113.10/24 dev eth0'
		echo 'link set eth0 up'
		echo 'route add default via 203.0.113.1' ;;
	gateway)
		echo 'addr add 198.18.0.1/24 dev eth0'
		echo 'addr add 203.0.113.1/24 dev eth1'
		echo 'link set eth0 up'
		echo 'link set eth1 up'
		if [[ $LAB_SHAPE == flat ]]; then
			for m in "${LAB_NODES[@]}"; do
				lab__octet "$m"
				echo "route add 198.19.$REPLY.0/24 via ${LAB_ADDR[$m]}"
			done
		fi ;;
	switch)
		echo 'link add br0 type bridge stp_state 0'
		echo 'link set br0 up'
		for m in gw "${LAB_NODES[@]}"; do
			echo "link set p-$m master br0"
			echo "link set p-$m up"
		done ;;
	pod)
		lab__octet "${LAB_NODE[$h]}"
		echo "addr add ${LAB_ADDR[$h]}/24 dev eth0"
		echo 'link set eth0 up'
		echo "route add default via 198.19.$REPLY.1" ;;
	cp | lb | worker)
		lab__octet "$h"
		n=$REPLY
		echo "addr add ${LAB_ADDR[$h]}/24 dev eth0"
		echo 'link set eth0 up'
		echo 'link add cni0 type bridge stp_state 0'
		echo "addr add 198.19.$n.1/24 dev cni0"
		echo 'link set cni0 up'
		for pod in $(lab_pods "$h"); do
			echo "link set pod${pod##*-pod-} master cni0"
			echo "link set pod${pod##*-pod-} up"
		done
		echo 'route add default via 198.18.0.1'
		if [[ $LAB_SHAPE == tunnel ]]; then
			echo "link add vxlan0 type vxlan id 42 dstport 4789" \
				"local ${LAB_ADDR[$h]} dev eth0"
			echo "addr add 198.18.255.$n/24 dev vxlan0"
			echo 'link set vxlan0 up'
		fi
		for m in "${LAB_NODES[@]}"; do
			[[ $m == "$h" ]] && continue
			lab__octet "$m"
			if [[ $LAB_SHAPE == tunnel ]]; then
				echo "route add 198.19.$REPLY.0/24" \
					"via 198.18.255.$REPLY dev vxlan0"
			else
				echo "route add 198.19.$REPLY.0/24 via ${LAB_ADDR[$m]}"
			fi
		done ;;
	esac
	echo 'EOF'
	if [[ $LAB_SHAPE == tunnel && ($role == cp || $role == lb ||
		$role == worker) ]]; then
		echo "bridge -batch - <<'EOF'"
		for m in "${LAB_NODES[@]}"; do
			[[ $m == "$h" ]] && continue
			echo "fdb append 00:00:00:00:00:00 dev vxlan0" \
				"dst ${LAB_ADDR[$m]}"
		done
		echo 'EOF'
	fi
	# A wire carries complete checksums; a veth by default carries
	# CHECKSUM_PARTIAL ones that only a NIC would finish.  bmlb's data
	# plane translates what comes off a wire, so every sender here
	# computes its checksums (which also keeps TSO super-packets off the
	# XDP path).  A frame a node's veth sends with XDP_TX is delivered
	# only when the other end runs XDP itself (with mere GRO it waits for
	# the next packet): the switch ports run an XDP_PASS program.
	case $role in
	switch)
		for m in gw "${LAB_NODES[@]}"; do
			echo "ip link set dev p-$m xdpdrv obj $LAB_PASS_OBJ sec xdp"
		done ;;
	gateway)
		echo 'ethtool -K eth0 tx off >/dev/null'
		echo 'ethtool -K eth1 tx off >/dev/null' ;;
	*)
		echo 'ethtool -K eth0 tx off >/dev/null' ;;
	esac
	# LAB_FAIL_AT=host:HOST: this host's setup fails (tests the cleanup).
	[[ ${LAB_FAIL_AT:-} != "host:$h" ]] ||
		echo 'echo "failing on purpose (LAB_FAIL_AT)" >&2; exit 1'
	return 0
}

# Every host configures itself from inside, all at once.
lab__config() {
	local h rc=0 i
	local -a pids=()
	for h in "${LAB_HOSTS[@]}"; do
		lab__script "$h" >"$LAB_WORK/setup/$h.sh" || return 1
	done
	for h in "${LAB_HOSTS[@]}"; do
		ip netns exec "$LAB_PREFIX$h" sh "$LAB_WORK/setup/$h.sh" \
			</dev/null >"$LAB_WORK/logs/setup-$h.log" 2>&1 &
		pids+=($!)
	done
	if ! lab_poll 20 lab__gone "${pids[@]}"; then
		kill -KILL "${pids[@]}" 2>/dev/null
		lab__err "$LAB_ID: setting up the hosts took over 20 s"
	fi
	for i in "${!pids[@]}"; do
		if ! wait "${pids[$i]}"; then
			h=${LAB_HOSTS[$i]}
			lab__err "$LAB_ID: setting up $h failed:" \
				"$(head -n 5 "$LAB_WORK/logs/setup-$h.log")"
			rc=1
		fi
	done
	return $rc
}

# The cluster file (the shape of examples/cluster.yaml), the Node
# manifests, and the tables lab_attach reads back.
lab__files() {
	local h n
	{
		echo "# Written by lab/lab.sh for lab $LAB_ID ($LAB_SHAPE)."
		echo "apiVersion: v1"
		echo "kind: Namespace"
		echo "metadata:"
		echo "  name: cluster-lab"
		echo "---"
		echo "apiVersion: baremetal.cluster.gke.io/v1"
		echo "kind: Cluster"
		echo "metadata:"
		echo "  name: lab"
		echo "  namespace: cluster-lab"
		echo "spec:"
		echo "  type: user"
		echo "  clusterNetwork:"
		echo "    forwardMode: $LAB_MODE"
		echo "    flatIPv4: $LAB_FLAT_IPV4"
		echo "    pods:"
		echo "      cidrBlocks: [198.19.0.0/16]"
		echo "    services:"
		echo "      cidrBlocks: [198.18.128.0/20]"
		echo "  controlPlane:"
		echo "    nodePoolSpec:"
		echo "      nodes:"
		for h in $(lab_hosts cp); do
			echo "      - address: ${LAB_ADDR[$h]}"
		done
		echo "  loadBalancer:"
		echo "    mode: bundled"
		echo "    ports:"
		echo "      controlPlaneLBPort: 443"
		echo "    vips:"
		echo "      controlPlaneVIP: 198.18.0.8"
		echo "    addressPools:"
		echo "    - name: pool1"
		echo "      addresses:"
		echo "      - 198.18.0.100-198.18.0.127"
		echo "    - name: reserved"
		echo "      manualAssign: true"
		echo "      avoidBuggyIPs: true"
		echo "      addresses:"
		echo "      - 198.18.0.128/26"
		echo "    nodePoolSpec:"
		echo "      nodes:"
		for h in $(lab_hosts lb); do
			echo "      - address: ${LAB_ADDR[$h]}"
		done
		echo "---"
		echo "apiVersion: baremetal.cluster.gke.io/v1"
		echo "kind: NodePool"
		echo "metadata:"
		echo "  name: workers"
		echo "  namespace: cluster-lab"
		echo "spec:"
		echo "  clusterName: lab"
		echo "  nodes:"
		for h in $(lab_hosts worker); do
			echo "  - address: ${LAB_ADDR[$h]}"
		done
	} >"$LAB_CLUSTER" || return 1
	{
		echo "# The lab's Nodes, as kubectl get nodes -o yaml prints them."
		echo "apiVersion: v1"
		echo "kind: List"
		echo "items:"
		for h in "${LAB_NODES[@]}"; do
			lab__octet "$h"
			n=$REPLY
			echo "- apiVersion: v1"
			echo "  kind: Node"
			echo "  metadata:"
			echo "    name: $h"
			echo "    labels:"
			echo "      kubernetes.io/hostname: $h"
			[[ ${LAB_ROLE[$h]} == lb ]] &&
				echo "      baremetal.cluster.gke.io/lbnode: \"true\""
			echo "  spec:"
			echo "    podCIDR: 198.19.$n.0/24"
			echo "    podCIDRs: [198.19.$n.0/24]"
			echo "  status:"
			echo "    addresses:"
			echo "    - {type: InternalIP, address: ${LAB_ADDR[$h]}}"
			echo "    - {type: Hostname, address: $h}"
			echo "    conditions:"
			echo "    - {type: Ready, status: \"True\", reason: KubeletReady}"
		done
	} >"$LAB_MANIFESTS/nodes.yaml" || return 1
	for h in "${LAB_HOSTS[@]}"; do
		echo "$h ${LAB_ROLE[$h]} ${LAB_ADDR[$h]} ${LAB_NODE[$h]}"
	done >"$LAB_WORK/hosts" || return 1
	printf '%s\n' "shape=$LAB_SHAPE" "mode=$LAB_MODE" \
		"flat=$LAB_FLAT_IPV4" >"$LAB_WORK/lab.env"
}

# Cold neighbour tables on every host: whatever setting the hosts up
# resolved is forgotten, so the first packet of a test meets what a node
# just booted has (entries being resolved may stay INCOMPLETE or FAILED).
lab__cold() {
	local h
	for h in "${LAB_HOSTS[@]}"; do
		ip -n "$LAB_PREFIX$h" neigh flush all >/dev/null || return 1
	done
}

# Every switch port forwards (immediate with STP off; polled, bounded).
lab__check() {
	lab_poll 3 lab__ports_ok $((${#LAB_NODES[@]} + 1))
}
lab__ports_ok() {
	local out
	out=$(bridge -n "${LAB_PREFIX}switch" link show) || return 1
	(($(grep -c 'state forwarding' <<<"$out") == $1))
}

# lab_up [--shape flat|tunnel] [--lb 2-3] [--workers 2-3] [--pods N]
#        [--lb-pods N] [--mode snat|dsr] [--flat-ipv4 true|false] [--cp 1-3]
# Builds the lab (defaults: flat, 1 control-plane node, 3 LB nodes, 2
# workers, 2 pods per worker,
# no pods on LB nodes, snat, flatIPv4 true for flat and false for tunnel)
# and traps EXIT INT TERM HUP in this shell to tear it down.  Sweeps dead
# runs first.  It ends with every neighbour table empty.  On failure,
# everything is already torn down.
lab_up() {
	local -
	set +e
	local shape=flat lbs=3 workers=2 pods=2 lbpods=0 mode=snat flat="" cps=1
	local t0
	while (($#)); do
		case $1 in
		--shape) shape=${2:-} ;;
		--lb) lbs=${2:-} ;;
		--workers) workers=${2:-} ;;
		--pods) pods=${2:-} ;;
		--lb-pods) lbpods=${2:-} ;;
		--mode) mode=${2:-} ;;
		--flat-ipv4) flat=${2:-} ;;
		--cp) cps=${2:-} ;;
		*) lab__err "up: unknown option '$1'"; return 2 ;;
		esac
		shift 2 || { lab__err "up: $1 needs a value"; return 2; }
	done
	[[ $shape == flat || $shape == tunnel ]] &&
		[[ $lbs =~ ^[23]$ && $workers =~ ^[23]$ && $cps =~ ^[123]$ ]] &&
		[[ $pods =~ ^[0-9]+$ && $lbpods =~ ^[0-9]+$ ]] &&
		((pods <= 64 && lbpods <= 64)) &&
		[[ $mode == snat || $mode == dsr ]] &&
		[[ -z $flat || $flat == true || $flat == false ]] || {
		lab__err "up: --shape flat|tunnel --lb 2-3 --workers 2-3" \
			"--pods 0-64 --lb-pods 0-64 --mode snat|dsr" \
			"--flat-ipv4 true|false --cp 1-3"
		return 2
	}
	if [[ -n ${LAB_ID:-} ]]; then
		lab__err "up: lab $LAB_ID is already up in this shell"
		return 1
	fi
	if [[ $(id -u) != 0 ]]; then
		lab__err "up: needs root (network namespaces)"
		return 1
	fi
	lab__lock || return 1
	lab__now_ms
	t0=$REPLY
	lab_sweep || true
	lab__claim || { lab__unlock; return 1; }
	lab__trap
	LAB_SHAPE=$shape LAB_MODE=$mode
	LAB_FLAT_IPV4=${flat:-$([[ $shape == flat ]] && echo true || echo false)}
	lab__plan "$lbs" "$workers" "$pods" "$lbpods" "$cps"
	if ! { lab__step dirs lab__dirs && lab__step netns lab__netns &&
		lab__step config lab__config && lab__step files lab__files &&
		lab__step check lab__check && lab__step cold lab__cold; }; then
		lab_down
		return 1
	fi
	lab__now_ms
	LAB_UP_MS=$((REPLY - t0))
}

# lab_attach ID: loads the tables of run ID (e.g. one left up by `lab up`)
# into this shell, without taking ownership or trapping.
lab_attach() {
	local -
	set +e
	local id=${1%-} work h r a n k v
	[[ $id =~ $LAB_ID_RE ]] || { lab__err "bad run id '$1'"; return 1; }
	read -r _ _ work 2>/dev/null <"$LAB_REGISTRY/$id" &&
		[[ -f $work/hosts ]] || { lab__err "no lab $id"; return 1; }
	LAB_ID=$id LAB_PREFIX=$id- LAB_WORK=$work LAB_OWNER=$BASHPID
	LAB_CLUSTER=$work/cluster.yaml LAB_MANIFESTS=$work/manifests
	LAB_BPFFS=$work/bpffs LAB_KEY=$work/key
	LAB_HOSTS=() LAB_NODES=() LAB_ADDR=() LAB_ROLE=() LAB_NODE=()
	while read -r h r a n; do
		lab__host "$h" "$r" "$a" "$n"
	done <"$work/hosts"
	while IFS='=' read -r k v; do
		case $k in
		shape) LAB_SHAPE=$v ;;
		mode) LAB_MODE=$v ;;
		flat) LAB_FLAT_IPV4=$v ;;
		esac
	done <"$work/lab.env"
}

# lab_detach: leaves this shell's lab up after the shell exits (lab/lab up);
# it then belongs to nobody until `lab down ID` or `lab sweep --detached`.
lab_detach() {
	local -
	set +e
	local work
	read -r _ _ work <"$LAB_REGISTRY/$LAB_ID" || return 1
	echo "0 0 $work" >"$LAB_REGISTRY/.$LAB_ID.0" &&
		mv -f -- "$LAB_REGISTRY/.$LAB_ID.0" "$LAB_REGISTRY/$LAB_ID" ||
		return 1
	lab__untrap
	lab__unlock
}
