# bmlb validate: exit codes, diagnostic format, every problem at once.
source "$(dirname "$0")/lib.sh"

run $BMLB validate $EXAMPLES/cluster.yaml
expect_rc "the example cluster file is valid" 0
expect_out "validate says what it checked" "valid (forwardMode snat, 2 address pools, 3 LB nodes)"

run $BMLB validate $EXAMPLES/cluster.yaml --manifests $EXAMPLES/manifests
expect_rc "the example manifests are valid" 0

run $BMLB validate --manifests $EXAMPLES/manifests $EXAMPLES/cluster.yaml
expect_rc "flags may come before the file" 0

run $BMLB validate --help
expect_rc "--help" 0
expect_out "--help gives an example" "Example:"
expect_out "--help lists --manifests" "--manifests DIR"

run $BMLB validate --frobnicate $EXAMPLES/cluster.yaml
expect_rc "an unknown flag is a usage error" 2
run $BMLB validate
expect_rc "a missing file argument is a usage error" 2
run $BMLB validate "$TMP/does-not-exist.yaml"
expect_rc "an unreadable file is a usage error" 2
expect_err "it says why" "No such file or directory"
run $BMLB validate $EXAMPLES/cluster.yaml --manifests "$TMP/nope"
expect_rc "an unreadable manifests directory is a usage error" 2
run $BMLB validate $EXAMPLES/cluster.yaml extra
expect_rc "an extra argument is a usage error" 2

# Three independent problems: all three reported, each at its line.
sed -e 's/mode: bundled/mode: manual/' \
    -e 's/- 198.18.0.128\/26/- 198.18.0.120 - 198.18.0.140/' \
    -e 's/controlPlaneLBPort: 443/controlPlaneLBPort: 70000/' \
    $EXAMPLES/cluster.yaml >"$TMP/broken.yaml"
run $BMLB validate "$TMP/broken.yaml"
expect_rc "a broken file is invalid" 1
expect_diag_format "every line is FILE:LINE:COL: path: what; valid"
expect_err "the mode is reported with its line" "broken.yaml:29:11: spec.loadBalancer.mode:"
expect_err "the range is reported with its line" "broken.yaml:43:9: spec.loadBalancer.addressPools[1].addresses[0]:"
expect_err "the port is reported with its line" "broken.yaml:31:27: spec.loadBalancer.ports.controlPlaneLBPort:"
expect_err "a summary counts them" "3 problems found"

printf '' >"$TMP/empty.yaml"
run $BMLB validate "$TMP/empty.yaml"
expect_rc "an empty file is invalid" 1
expect_diag_format "an empty file gets a diagnostic"

head -c 65536 /dev/urandom >"$TMP/garbage.yaml"
run $BMLB validate "$TMP/garbage.yaml"
expect_rc "binary garbage is invalid, not a crash" 1

truncate -s 50M "$TMP/huge.yaml"
run $BMLB validate "$TMP/huge.yaml"
expect_rc "a 50 MB file is refused" 1
expect_err "with its size" "above the limit"

printf 'apiVersion: baremetal.cluster.gke.io/v1\nkind: Cluster\nspec: [1, 2]\n' >"$TMP/list.yaml"
run $BMLB validate "$TMP/list.yaml"
expect_rc "a list where a mapping belongs is invalid" 1
expect_err "it names the field" "list.yaml:3:7: spec: expected a mapping"

# 80 KB of nested brackets took libyaml seconds: refused before it parses.
python3 -c 'print("a: " + "[" * 40000 + "]" * 40000)' >"$TMP/deep.yaml"
run timeout 2 $BMLB validate "$TMP/deep.yaml"
expect_rc "over-deep nesting is refused at once" 1
expect_err "at the bracket past 64 levels" "deep.yaml:1:68: nesting is deeper than 64 levels"

# A FIFO named *.yaml is refused at once, not waited on.
mkfifo "$TMP/fifo.yaml"
run timeout 5 $BMLB validate "$TMP/fifo.yaml"
expect_rc "a FIFO is a usage error, without blocking" 2
expect_err "it says what it is" "is not a regular file (a FIFO, a socket or a device)"

# A manifests directory that cannot be read is a usage error, as a missing
# one is (root reads any directory: the check runs as nobody).
unreadable_dir
run "${AS_USER[@]}" $BMLB validate "$TMP/pub/cluster.yaml" --manifests "$TMP/pub/locked"
expect_rc "an unreadable manifests directory is a usage error" 2
expect_err "it says why" "cannot read manifests directory '$TMP/pub/locked': Permission denied"

# loadBalancer.type: layer2 (or none); bgp is not served as layer 2.
sed 's/^    mode: bundled$/    mode: bundled\n    type: bgp/' $EXAMPLES/cluster.yaml >"$TMP/bgp.yaml"
run $BMLB validate "$TMP/bgp.yaml"
expect_rc "type: bgp is refused" 1
expect_err "as not yet supported" "bgp.yaml:30:11: spec.loadBalancer.type: BGP is not yet supported"
sed 's/^    mode: bundled$/    mode: bundled\n    type: layer2/' $EXAMPLES/cluster.yaml >"$TMP/l2.yaml"
run $BMLB validate "$TMP/l2.yaml"
expect_rc "type: layer2 is accepted" 0

# Pools: no node's address, nothing of the pod or the Service network.
sed -e 's|      - 198.18.0.100-198.18.0.127|      - 198.18.0.100-198.18.0.127\n      - 198.18.0.12/32\n      - 198.19.9.0/24\n      - 198.18.128.0/25|' \
	$EXAMPLES/cluster.yaml >"$TMP/pools.yaml"
run $BMLB validate "$TMP/pools.yaml"
expect_rc "pools over nodes and networks are refused" 1
expect_diag_format "in the diagnostic format"
expect_err "a node's address, on the pool's range" \
	'pools.yaml:39:9: spec.loadBalancer.addressPools[0].addresses[1]: "198.18.0.12/32" holds 198.18.0.12, the address of spec.loadBalancer.nodePoolSpec.nodes[1]'
expect_err "the pod network" \
	'pools.yaml:40:9: spec.loadBalancer.addressPools[0].addresses[2]: "198.19.9.0/24" overlaps 198.19.0.0/16, spec.clusterNetwork.pods.cidrBlocks[0] (line 21)'
expect_err "the Service network" \
	'pools.yaml:41:9: spec.loadBalancer.addressPools[0].addresses[3]: "198.18.128.0/25" overlaps 198.18.128.0/20, spec.clusterNetwork.services.cidrBlocks[0] (line 23)'

# Manifests: an invalid object is reported with its file and line.
mkdir -p "$TMP/m"
cp $EXAMPLES/manifests/*.yaml "$TMP/m/"
cat >"$TMP/m/bad.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: bad, namespace: default}
spec:
  type: LoadBalancer
  ports: [{protocol: TCP, port: 0}]
YAML
run $BMLB validate $EXAMPLES/cluster.yaml --manifests "$TMP/m"
expect_rc "an invalid manifest makes validate fail" 1
expect_err "it is named with its file and line" "bad.yaml:6:"
expect_diag_format "manifest diagnostics are in the same format"
# Endpoint addresses that cannot be a backend: named with the slice and
# the field; the node's own address is fine.
mkdir -p "$TMP/eps"
cp $EXAMPLES/manifests/*.yaml "$TMP/eps/"
cat >"$TMP/eps/loop.yaml" <<'YAML'
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-loop
  namespace: default
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
- addresses: [198.18.0.21]
- addresses: [198.18.0.102]
- addresses: [127.0.0.1]
YAML
run $BMLB validate $EXAMPLES/cluster.yaml --manifests "$TMP/eps"
expect_rc "an endpoint that is a VIP makes validate fail" 1
expect_diag_format "in the diagnostic format"
expect_err "it names the slice, the field and why" \
	'loop.yaml:11:14: endpoints[1].addresses[0]: EndpointSlice default/web-loop lists 198.18.0.102, an address of pool "pool1"'
expect_err "loopback too" 'loop.yaml:12:14: endpoints[2].addresses[0]: EndpointSlice default/web-loop lists 127.0.0.1, a loopback address'
if grep -qF "198.18.0.21," "$TMP/err"; then not_ok "a node's address is a backend" "$ERR"
else ok "a node's address is a backend"; fi
expect_err "two problems" "2 problems found"
exit 0
