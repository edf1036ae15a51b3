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
exit 0
