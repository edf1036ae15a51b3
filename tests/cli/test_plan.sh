# bmlb plan: the JSON shape, the example's allocation, determinism,
# stability with --previous, --alive, and bad input.
source "$(dirname "$0")/lib.sh"
CFG=$EXAMPLES/cluster.yaml
MAN=$EXAMPLES/manifests

# py WHAT SCRIPT [ARGS]: a python check over files; prints ok/not ok.
py() {
	local what=$1 script=$2; shift 2
	local msg
	if msg=$(python3 -c "$script" "$@" 2>&1); then ok "$what"; else
		not_ok "$what" "$msg"; fi
}

run $BMLB plan --config $CFG --manifests $MAN
expect_rc "the example plans" 0
expect_out "the table names the web service" "default/web"
expect_out "and, apart, the NodePort Service every node serves" \
	"1 NodePort service (on every node's address)"

run $BMLB plan --config $CFG --manifests $MAN --json
expect_rc "the example plans as JSON" 0
cp "$TMP/out" "$TMP/plan.json"
py "the JSON has exactly the shape of SPEC.md §8" '
import json, sys
p = json.load(open(sys.argv[1]))
assert list(p) == ["forwardMode", "services"], list(p)
assert p["forwardMode"] == "snat"
for s in p["services"]:
    assert list(s) == ["namespace","name","vip","pool","owner","reason","ports"], list(s)
    assert (s["reason"] is None) == (s["vip"] is not None and s["owner"] is not None), s
    for port in s["ports"]:
        assert list(port) == ["protocol","port","targetPort","nodePort","backends"], list(port)
' "$TMP/plan.json"
py "the example gets the addresses SPEC.md §3 gives" '
import json, sys
p = {(s["namespace"], s["name"]): s for s in json.load(open(sys.argv[1]))["services"]}
assert ("default", "metrics") not in p, "a NodePort service is not planned"
want = {("ingress","ingress"): "198.18.0.100",   # asks for the ingressVIP
        ("default","web"): "198.18.0.101",       # lowest free, ingressVIP skipped
        ("default","dns-udp"): "198.18.0.102",
        ("default","dns-tcp"): "198.18.0.102",   # shared by key "dns"
        ("team-a","billing"): "198.18.0.130"}    # manual pool, asked for
for k, v in want.items():
    assert p[k]["vip"] == v, (k, p[k]["vip"], v)
assert p[("team-a","billing")]["pool"] == "reserved"
assert p[("default","dns-udp")]["owner"] == p[("default","dns-tcp")]["owner"]
assert p[("ingress","ingress")]["owner"] in ("lb-2", "lb-3"), "Local: only nodes with an endpoint"
web = p[("default","web")]["ports"][0]
assert web == {"protocol":"TCP","port":80,"targetPort":8080,"nodePort":30080,
               "backends":["198.19.21.5","198.19.22.5"]}, web
' "$TMP/plan.json"

# Same objects, every document in its own file, in reverse order, with
# other names: the plan must not change by a byte.
mkdir -p "$TMP/shuffled"
python3 - "$MAN" "$TMP/shuffled" <<'PY'
import os, sys
docs = []
for name in sorted(os.listdir(sys.argv[1])):
    text = open(os.path.join(sys.argv[1], name)).read()
    docs += [d for d in text.split("\n---\n") if d.strip()]
for i, d in enumerate(reversed(docs)):
    open(os.path.join(sys.argv[2], f"z{len(docs) - i:03d}.yml"), "w").write(d + "\n")
PY
run $BMLB plan --config $CFG --manifests "$TMP/shuffled" --json
if cmp -s "$TMP/out" "$TMP/plan.json"; then ok "file and document order do not change the plan"; else
	not_ok "file and document order changed the plan" "$(diff "$TMP/out" "$TMP/plan.json")"; fi

# A node dies: only the VIPs it owned move.
run $BMLB plan --config $CFG --manifests $MAN --alive lb-1,lb-3 --json
expect_rc "--alive takes Node names" 0
cp "$TMP/out" "$TMP/down.json"
py "only the dead node's VIPs move" '
import json, sys
a, b = (json.load(open(f))["services"] for f in sys.argv[1:])
for x, y in zip(a, b):
    assert y["owner"] in ("lb-1", "lb-3", None), y
    if x["owner"] != "lb-2":
        assert x["owner"] == y["owner"], (x, y)
    assert x["vip"] == y["vip"]
' "$TMP/plan.json" "$TMP/down.json"

run $BMLB plan --config $CFG --manifests $MAN --alive lb-1,worker-1
expect_rc "--alive with a node that is not an LB node" 2
expect_err "it lists the LB nodes" "LB nodes: lb-1, lb-2, lb-3"

# Stability: an older Service appears; with --previous nobody moves.
mkdir -p "$TMP/more"
cp $MAN/*.yaml "$TMP/more/"
cat >"$TMP/more/older.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: older, namespace: default, creationTimestamp: "2025-06-01T00:00:00Z"}
spec:
  type: LoadBalancer
  ports: [{protocol: TCP, port: 8443}]
YAML
run $BMLB plan --config $CFG --manifests "$TMP/more" --json
cp "$TMP/out" "$TMP/fresh.json"
run $BMLB plan --config $CFG --manifests "$TMP/more" --previous "$TMP/plan.json" --json
expect_rc "--previous is read" 0
cp "$TMP/out" "$TMP/kept.json"
py "without --previous an older newcomer takes the lowest address" '
import json, sys
p = {s["name"]: s["vip"] for s in json.load(open(sys.argv[1]))["services"]}
assert p["older"] == "198.18.0.101" and p["web"] == "198.18.0.102", p
' "$TMP/fresh.json"
py "with --previous every held address stays and the newcomer gets a free one" '
import json, sys
old = {s["name"]: s["vip"] for s in json.load(open(sys.argv[1]))["services"]}
new = {s["name"]: s["vip"] for s in json.load(open(sys.argv[2]))["services"]}
for k, v in old.items():
    assert new[k] == v, (k, v, new[k])
assert new["older"] == "198.18.0.103", new
' "$TMP/plan.json" "$TMP/kept.json"

echo '{"services": [{"namespace": "default", "name": "web", "vip": "not-an-ip"}]}' >"$TMP/bad-prev.json"
run $BMLB plan --config $CFG --manifests $MAN --previous "$TMP/bad-prev.json"
expect_rc "a malformed --previous file is invalid" 1
expect_err "it names the entry" "bad-prev.json:1:62: services[0].vip:"

# An invalid manifest is left out; everything else still plans.
cat >"$TMP/more/broken.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: broken, namespace: default}
spec:
  type: LoadBalancer
  loadBalancerIP: 198.18.0.300
  ports: [{protocol: TCP, port: 80}]
YAML
run $BMLB plan --config $CFG --manifests "$TMP/more" --json
expect_rc "an invalid manifest does not stop the plan" 0
expect_err "it is reported with its file and line" "broken.yaml:6:"
py "the others are planned, the broken one is not" '
import json, sys
names = [s["name"] for s in json.load(open(sys.argv[1]))["services"]]
assert "broken" not in names and "web" in names and "older" in names, names
' "$TMP/out"

run $BMLB plan --manifests $MAN
expect_rc "--config is required" 2
run $BMLB plan --help
expect_rc "--help" 0
expect_out "--help gives an example" "Example:"

# nodePorts: one Service each, in Kubernetes' range.
mkdir -p "$TMP/np"
cp $MAN/*.yaml "$TMP/np/"
cat >"$TMP/np/clash.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: clash, namespace: default, creationTimestamp: "2027-01-01T00:00:00Z"}
spec:
  type: NodePort
  ports: [{protocol: TCP, port: 81, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: low, namespace: default}
spec:
  type: NodePort
  ports: [{protocol: TCP, port: 82, nodePort: 20080}]
YAML
run $BMLB plan --config $CFG --manifests "$TMP/np"
expect_rc "nodePort problems do not stop the plan" 0
expect_err "a nodePort another Service holds is reported on the younger" \
	"clash.yaml:6:47: spec.ports[0].nodePort: 30080/TCP is already the nodePort of default/web"
expect_out "and left out of it" "81 -> 81 (nodePort 30080: an older Service's)"
expect_err "a nodePort outside 30000-32767 makes the Service invalid" \
	"clash.yaml:13:47: spec.ports[0].nodePort: '20080' is not a whole number from 30000 to 32767"
if grep -q "default/low" "$TMP/out"; then
	not_ok "the invalid one is left out" "$(cat "$TMP/out")"
else ok "the invalid one is left out"; fi
run $BMLB validate $CFG --manifests "$TMP/np"
expect_rc "validate refuses a nodePort outside the range" 1

# --alive: an empty list is a usage error (it read as "every node alive");
# repeated, the lists are merged.
run $BMLB plan --config $CFG --manifests $MAN --alive ""
expect_rc "--alive '' is a usage error" 2
expect_err "it says so" "--alive '' names no node"
run $BMLB plan --config $CFG --manifests $MAN --alive ,
expect_rc "--alive , too" 2
run $BMLB plan --config $CFG --manifests $MAN --alive lb-1 --alive lb-3 --json
expect_rc "--alive may be repeated" 0
cp "$TMP/out" "$TMP/merged.json"
run $BMLB plan --config $CFG --manifests $MAN --alive lb-1,lb-3 --json
if cmp -s "$TMP/out" "$TMP/merged.json"; then ok "repeated --alive lists are merged"; else
	not_ok "repeated --alive lists are merged" "$(diff "$TMP/out" "$TMP/merged.json")"; fi
run $BMLB plan --help
expect_out "--help says so" "be repeated, the lists are merged"

# A previous plan of the other forwarding mode is refused.
sed 's/"forwardMode":"snat"/"forwardMode":"dsr"/' "$TMP/plan.json" >"$TMP/dsr-prev.json"
run $BMLB plan --config $CFG --manifests $MAN --previous "$TMP/dsr-prev.json"
expect_rc "a DSR --previous for a SNAT cluster is invalid" 1
expect_err "it says why" "dsr-prev.json:1:16: forwardMode: this plan is for forwardMode dsr, and the cluster file $CFG says snat"
expect_err "and plans nothing" "nothing planned"

# An unreadable manifests directory is a usage error, as a missing one is.
unreadable_dir
run "${AS_USER[@]}" $BMLB plan --config "$TMP/pub/cluster.yaml" --manifests "$TMP/pub/locked"
expect_rc "an unreadable manifests directory is a usage error" 2
run $BMLB plan --config $CFG --manifests "$TMP/nope"
expect_rc "as a missing one is" 2

# A Service without ports gets no VIP; endpoints that are VIPs (its own or
# another's, the ingressVIP) or the controlPlaneVIP are left out.
mkdir -p "$TMP/loop"
cp $MAN/*.yaml "$TMP/loop/"
cat >"$TMP/loop/loop.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: default, creationTimestamp: "2025-01-01T00:00:00Z"}
spec: {type: LoadBalancer, ports: []}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-loop
  namespace: default
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
- addresses: [198.18.0.101, 198.18.0.102, 198.18.0.100, 198.18.0.8, 198.18.0.21]
YAML
run $BMLB plan --config $CFG --manifests "$TMP/loop" --json
expect_rc "refused endpoints do not stop the plan" 0
expect_err "its own VIP is refused" "loop.yaml:15:14: endpoints[0].addresses[0]: EndpointSlice default/web-loop lists 198.18.0.101"
expect_err "another Service's VIP" "endpoints[0].addresses[1]: EndpointSlice default/web-loop lists 198.18.0.102"
expect_err "the ingressVIP" "lists 198.18.0.100, the ingressVIP, which cannot be a backend"
expect_err "the controlPlaneVIP" "lists 198.18.0.8, the controlPlaneVIP, which cannot be a backend"
py "none is a backend, the node's address is, and the portless Service has no VIP" '
import json, sys
p = {s["name"]: s for s in json.load(open(sys.argv[1]))["services"]}
assert p["web"]["ports"][0]["backends"] == ["198.18.0.21", "198.19.21.5", "198.19.22.5"], p["web"]
assert p["web"]["vip"] == "198.18.0.101", p["web"]
e = p["empty"]
assert e["vip"] is None and e["owner"] is None and e["reason"] == "it has no ports; list the ports to serve in spec.ports", e
' "$TMP/out"

# Names and annotations with control characters are printed escaped.
mkdir -p "$TMP/evil"
cp $MAN/*.yaml "$TMP/evil/"
cat >"$TMP/evil/evil.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: "evil\e[2J\nforged"
  namespace: default
  annotations: {metallb.universe.tf/address-pool: "no\e]0;t\apool"}
spec:
  type: LoadBalancer
  ports: [{protocol: TCP, port: 80, targetPort: http}]
YAML
run $BMLB plan --config $CFG --manifests "$TMP/evil"
expect_rc "a Service named with control characters plans" 0
if LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <"$TMP/out"); then
	not_ok "plan prints no control character raw" "$(od -c "$TMP/out" | grep -m3 '033')"
else ok "plan prints no control character raw"; fi
expect_out "the name is shown escaped, on one line" 'default/evil\x1b[2J\nforged'
expect_out "so is the annotation in the reason" 'pool "no\x1b]0;t\x07pool"'

sed 's/mode: bundled/mode: nope/' $CFG >"$TMP/bad.yaml"
run $BMLB plan --config "$TMP/bad.yaml" --manifests $MAN
expect_rc "an invalid cluster file plans nothing" 1
expect_err "and says so" "nothing planned"
exit 0
