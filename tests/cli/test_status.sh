# bmlb status against a fake agent: a Unix socket that sends a given
# answer, so that what a broken or hostile answer does is checked without
# an agent: no crash, no "(null)", no raw control character printed.
source "$(dirname "$0")/lib.sh"
STATE=$TMP/state
mkdir -p "$STATE"

# status_answer JSON: bmlb status (as a table) against a socket that sends
# JSON to each connection; RC, OUT and ERR as run sets them.
status_answer() {
	printf '%s' "$1" >"$TMP/answer"
	rm -f "$STATE/status.sock"
	python3 - "$STATE/status.sock" "$TMP/answer" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
s.settimeout(10)
c, _ = s.accept()
c.sendall(open(sys.argv[2], "rb").read())
c.close()
PY
	local server=$! n=100
	while [ ! -S "$STATE/status.sock" ] && [ "$n" -gt 0 ]; do
		sleep 0.05
		n=$((n - 1))
	done
	run $BMLB status --state-dir "$STATE"
	wait "$server"
}

# no_raw_control WHAT: the last run printed no control character but the
# newline.
no_raw_control() {
	if LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <"$TMP/out"); then
		not_ok "$1" "$(od -c "$TMP/out" | head -n 20)"
	else ok "$1"; fi
}

status_answer '{"node":"lb-1","counters":[1,2,3]}'
expect_rc "counters that are a list, not a mapping: no crash" 0
expect_out "the rest is printed" "node        lb-1"

status_answer '{"vipsOwned":[{"a":1},"198.18.0.101",[2]],"programmed":[{"namespace":"default","name":"web","backends":[{"x":1},"198.19.21.5"]}],"counters":{"packets":{"n":1},"drop":7},"unallocated":{"a":1},"lastReload":[1]}'
expect_rc "items of the wrong type: no crash" 0
if grep -qF "(null)" "$TMP/out"; then not_ok "no item prints (null)" "$OUT"; else
	ok "no item prints (null)"; fi
expect_out "a list item that is not a scalar prints as ?" "VIPs owned  ?, 198.18.0.101, ?"
expect_out "so does a backend" "?, 198.19.21.5"
expect_out "and a counter's value" "packets                 ?"
expect_out "a scalar counter still prints" "drop                    7"

status_answer '{"node":"lb-\u001b[2J\u001b]0;pwned\u0007","role":"lb\nnode        forged","programmed":[{"namespace":"default","name":"w\u009beb","vip":"198.18.0.101","port":80,"protocol":"TCP","backends":["198.19.21.5\r"]}],"unallocated":[{"namespace":"x","name":"y","reason":"pool \"a\u001b[31m\" is unknown"}],"lastReload":{"at":"now","trigger":"manifests","error":"m.yaml:1:1: a\u001bb; c\nm.yaml:2:1: d; e"},"nextHops":[{"address":"198.18.0.1\u001b[K","neighbour":"reachable","backends":"198.19.21.5"},7]}'
expect_rc "control characters in names" 0
no_raw_control "none is printed raw"
expect_out "an escape sequence is shown escaped" 'node        lb-\x1b[2J\x1b]0;pwned\x07'
expect_out "a newline cannot forge a line" '(lb\nnode        forged)'
expect_out "a C1 control is shown escaped" 'default/w\u009beb'
expect_out "in a reason too" 'pool "a\x1b[31m" is unknown'
expect_out "and in the last reload's error, line by line" '    m.yaml:1:1: a\x1bb; c'
expect_out "and in the next hops" '198.18.0.1\x1b[K reachable'

status_answer 'not json: ['
expect_rc "an answer that does not parse" 1
expect_err "is said to be no status object" "is not a status object"
exit 0
