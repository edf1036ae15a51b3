#!/usr/bin/env python3
"""Writes a cluster file and manifests for the plan benchmark.

usage: gen_plan_input.py [--into-lab] N DIR

N LoadBalancer Services with 10 ready endpoints each, 3 address pools
(114,432 usable addresses, so that 100k Services all get one),
16 LB nodes and 16 workers; only 198.18.0.0/15 addresses.  Objects go to
4 files (nodes, services, two halves of the slices), in the compact flow
style `kubectl get -o yaml | yq` users also keep.

--into-lab (bench/reload): only the Services and their slices, straight
into DIR, a lab's manifests directory, whose cluster file and Nodes stay;
the endpoints name the lab's two workers, and the Services are created
after the lab's own (in 2027), so that those keep their addresses.
"""
import os
import sys

lab = sys.argv[1] == "--into-lab"
if lab:
    sys.argv.pop(1)
n, out = int(sys.argv[1]), sys.argv[2]
mdir = out if lab else os.path.join(out, "manifests")
os.makedirs(mdir, exist_ok=True)
YEAR, NWORKERS = (2027, 2) if lab else (2026, 16)

LB = [f"198.18.0.{11 + i}" for i in range(16)]
WORKERS = [f"198.18.0.{101 + i}" for i in range(16)]

CLUSTER = (f"""apiVersion: baremetal.cluster.gke.io/v1
kind: Cluster
metadata: {{name: bench, namespace: cluster-bench}}
spec:
  clusterNetwork: {{flatIPv4: true}}
  controlPlane:
    nodePoolSpec:
      nodes: [{{address: 198.18.0.10}}]
  loadBalancer:
    mode: bundled
    ports: {{controlPlaneLBPort: 443}}
    vips: {{controlPlaneVIP: 198.18.0.8}}
    addressPools:
    - {{name: pool-a, addresses: [198.18.64.0/18]}}
    - {{name: pool-b, addresses: [198.18.128.0/17], avoidBuggyIPs: true}}
    - {{name: pool-c, addresses: [198.19.0.0/16]}}
    nodePoolSpec:
      nodes: [{", ".join("{address: " + a + "}" for a in LB)}]
""")

if not lab:
    with open(os.path.join(out, "cluster.yaml"), "w") as f:
        f.write(CLUSTER)
    with open(os.path.join(mdir, "nodes.yaml"), "w") as f:
        for i, a in enumerate(LB + WORKERS):
            name = f"lb-{i + 1}" if i < 16 else f"worker-{i - 15}"
            f.write(f"---\napiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\n"
                    f"status: {{addresses: [{{type: InternalIP, address: {a}}}]}}\n")

def pod(s, j):
    k = s * 10 + j
    # Pods live in 198.18.32.0/19, apart from every pool.
    return f"198.18.{32 + ((k >> 8) & 31)}.{k & 255}", f"worker-{1 + (k % NWORKERS)}"

with open(os.path.join(mdir, "services.yaml"), "w") as f:
    for s in range(n):
        local = "Local" if s % 10 == 0 else "Cluster"
        f.write(f"""---
apiVersion: v1
kind: Service
metadata: {{name: svc-{s}, namespace: ns-{s % 100}, creationTimestamp: "{YEAR}-01-01T00:{(s // 60) % 60:02d}:{s % 60:02d}Z"}}
spec:
  type: LoadBalancer
  externalTrafficPolicy: {local}
  ports: [{{name: http, protocol: TCP, port: 80, targetPort: 8080}}, {{name: dns, protocol: UDP, port: 53, targetPort: 5353}}]
""")

for half in range(2):
    with open(os.path.join(mdir, f"slices-{half}.yaml"), "w") as f:
        for s in range(half, n, 2):
            f.write(f"""---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: svc-{s}-x1, namespace: ns-{s % 100}, labels: {{kubernetes.io/service-name: svc-{s}}}}}
addressType: IPv4
ports: [{{name: http, protocol: TCP, port: 8080}}, {{name: dns, protocol: UDP, port: 5353}}]
endpoints:
""")
            for j in range(10):
                ip, node = pod(s, j)
                f.write(f"- {{addresses: [{ip}], conditions: {{ready: true}}, nodeName: {node}}}\n")
