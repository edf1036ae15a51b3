# shellcheck shell=bash
# loop.sh: how many packets per second one CPU of a node forwards, measured
# in a traffic loop (sourced by bench/lab and bench/nodeport, with a lab up
# and UDPFLOOD, FLOWS, REPEAT, RUN_SECONDS, say and die defined).
#
# The node runs as a host with a NIC does: its eth0 receives in its own
# NAPI thread, pinned to CPU 1 (threaded NAPI, GRO on), frames land in
# pages and meet XDP first (bmlb's program, floor_xdp, or an XDP_PASS
# program after which the stack builds the skb, as a driver does: the
# caller attaches one, and keeps one attached until loop_off).  On the switch end of its wire
# src/bpf/reflect.bpf.c turns every frame the node forwards back into the
# frame the client sent (bench/udpflood tags each datagram with its
# original addresses) and returns it, on CPU 0, its NAPI thread polled
# every 5 us while it has work (the node never spends time waking it).  A
# burst from the gateway then circulates as fast as the node forwards it:
# the reflected frames per second are the node's forwarding rate, and its
# NAPI thread's run time per frame what it spends on each.

REFLECT_OBJ=$(realpath build/bpf/reflect.bpf.o)

# xdp_set HOST IFACE OBJ|off: OBJ's XDP program (native) on IFACE in HOST,
# or none.
xdp_set() {
	if [[ $3 == off ]]; then
		lab_exec "$1" ip link set dev "$2" xdp off
	else
		lab_exec "$1" ip -force link set dev "$2" xdpdrv obj "$3" sec xdp
	fi
}

# loop__napi_thread HOST IFACE CPU: IFACE in HOST receives in its own NAPI
# thread, pinned to CPU; its pid in REPLY.
loop__napi_thread() {
	local before pid
	before=$(pgrep -x 'napi/.*' | sort)
	lab_exec "$1" sh -c "echo 1 >/sys/class/net/$2/threaded" || return 1
	pid=$(comm -13 <(echo "$before") <(pgrep -x 'napi/.*' | sort))
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	taskset -pc "$3" "$pid" >/dev/null || return 1
	REPLY=$pid
}
loop__run_ns() { awk '{print $1}' "/proc/$LOOP_NAPI/schedstat"; }
# loop_reflected: the frames reflected so far.
loop_reflected() {
	lab_exec switch ethtool -S "p-$LOOP_NODE" |
		awk '$1 == "rx_queue_0_xdp_tx:" {print $2}'
}
# loop__poll US: the switch end's NAPI polled every US microseconds while
# it has work (0: woken by the sender, as the lab runs).
loop__poll() {
	lab_exec switch sh -c "
		echo $(($1 * 1000)) >/sys/class/net/p-$LOOP_NODE/gro_flush_timeout &&
		echo $(($1 ? 1000 : 0)) >/sys/class/net/p-$LOOP_NODE/napi_defer_hard_irqs"
}

# loop__feature HOST IFACE NAME: on or off.
loop__feature() {
	lab_exec "$1" ethtool -k "$2" | awk -v f="$3:" '$1 == f {print $2}'
}

# loop_on NODE: NODE and its wire as described above.  NODE's eth0 must
# run an XDP program all along (then the switch end does no TSO and
# hands every frame to its NAPI).
loop_on() {
	LOOP_NODE=$1
	LOOP_GRO=$(loop__feature "$LOOP_NODE" eth0 generic-receive-offload)
	lab_exec "$LOOP_NODE" ethtool -K eth0 gro on >/dev/null &&
		loop__napi_thread "$LOOP_NODE" eth0 1 && LOOP_NAPI=$REPLY &&
		xdp_set switch "p-$LOOP_NODE" "$REFLECT_OBJ" &&
		loop__napi_thread switch "p-$LOOP_NODE" 0 && loop__poll 5 ||
		die "the loop through $LOOP_NODE did not set up"
}
# loop_off: back to the lab's own setup.
loop_off() {
	loop__poll 0 &&
		lab_exec switch sh -c \
			"echo 0 >/sys/class/net/p-$LOOP_NODE/threaded" &&
		lab_exec "$LOOP_NODE" sh -c \
			'echo 0 >/sys/class/net/eth0/threaded' &&
		xdp_set switch "p-$LOOP_NODE" "$LAB_PASS_OBJ" &&
		lab_exec "$LOOP_NODE" ethtool -K eth0 gro "$LOOP_GRO" >/dev/null ||
		die "the loop through $LOOP_NODE did not go"
}

# loop KEY TARGET...: REPEAT times: a 0.2 s burst from the gateway (one
# generator thread, CPU 0), 0.5 s to settle, RUN_SECONDS counted; then
# the frames left are drained (the reflector swapped for XDP_PASS a
# moment: they go on to their destination).  Medians into LOOP_PPS,
# LOOP_NS and LOOP_BUSY[KEY] (the node's thread busy, %).
declare -A LOOP_PPS=() LOOP_NS=() LOOP_BUSY=()
loop() {
	local key=$1 i t0 t1 n0 n1 ns0 ns1 pps=() ns=() busy=()
	shift
	for ((i = 1; i <= REPEAT; i++)); do
		say "loop through $LOOP_NODE: $key, run $i/$REPEAT"
		lab_exec gw timeout 20 "$UDPFLOOD" eth0 0.2 1 "$FLOWS" \
			203.0.113.10 20000 "$@" >/dev/null ||
			die "$key: the generator failed"
		sleep 0.5
		t0=$(date +%s.%N) n0=$(loop_reflected) ns0=$(loop__run_ns)
		sleep "$RUN_SECONDS"
		t1=$(date +%s.%N) n1=$(loop_reflected) ns1=$(loop__run_ns)
		xdp_set switch "p-$LOOP_NODE" "$LAB_PASS_OBJ" && sleep 0.2 &&
			xdp_set switch "p-$LOOP_NODE" "$REFLECT_OBJ" ||
			die "draining the loop"
		pps+=("$(calc "($n1 - $n0) / ($t1 - $t0)")")
		busy+=("$(calc "100 * ($ns1 - $ns0) / (($t1 - $t0) * 1e9)")")
		if ((n1 > n0)); then
			ns+=("$(calc "($ns1 - $ns0) / ($n1 - $n0)")")
		else
			ns+=(NA)
		fi
	done
	LOOP_PPS[$key]=$(median "${pps[@]}")
	LOOP_NS[$key]=$(median "${ns[@]}")
	LOOP_BUSY[$key]=$(median "${busy[@]}")
}
