# kube_proxy.sh: kube-proxy's nftables mode as the benches' peer (sourced
# by bench/lab and bench/nodeport).

# kube_proxy_rules PROTO PORT TARGET_PORT [NODEPORT NODE_IP]: the ruleset
# kube-proxy's nftables mode writes for this LoadBalancer Service (Cluster
# policy; VIP and POD_IPS from the caller), and its NodePort on NODE_IP: its
# base chains and maps, the service-ips verdict map keyed by daddr . proto
# . dport, an external chain marking for masquerade, a service chain
# picking an endpoint with numgen random mod N, one DNAT chain per
# endpoint, and masquerade in postrouting for marked packets.
kube_proxy_rules() {
	local proto=$1 port=$2 tport=$3 nodeport=${4:-} node_ip=${5:-}
	local n=0 ip vmap="" c
	local tbl="ip kube-proxy" id="BENCH-default/web/$proto/$proto-$port"
	echo "add table $tbl"
	echo "add set $tbl cluster-ips { type ipv4_addr ; }"
	echo "add set $tbl nodeport-ips { type ipv4_addr ; }"
	for c in firewall-ips no-endpoint-services service-ips; do
		echo "add map $tbl $c { type ipv4_addr . inet_proto . inet_service : verdict ; }"
	done
	for c in no-endpoint-nodeports service-nodeports; do
		echo "add map $tbl $c { type inet_proto . inet_service : verdict ; }"
	done
	for c in cluster-ips-check firewall-check mark-for-masquerade \
		masquerading nodeport-endpoints-check reject-chain services \
		service-endpoints-check "service-$id" "external-$id"; do
		echo "add chain $tbl $c"
	done
	cat <<EOF
add chain $tbl filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }
add chain $tbl filter-output-pre-dnat { type filter hook output priority -110 ; }
add chain $tbl filter-forward { type filter hook forward priority 0 ; }
add chain $tbl filter-input { type filter hook input priority 0 ; }
add chain $tbl filter-output { type filter hook output priority 0 ; }
add chain $tbl nat-output { type nat hook output priority -100 ; }
add chain $tbl nat-postrouting { type nat hook postrouting priority 100 ; }
add chain $tbl nat-prerouting { type nat hook prerouting priority -100 ; }
add rule $tbl cluster-ips-check ip daddr @cluster-ips reject
add rule $tbl cluster-ips-check ip daddr { 198.18.128.0/20 } drop
add rule $tbl filter-prerouting-pre-dnat ct state new jump firewall-check
add rule $tbl filter-forward ct state new jump service-endpoints-check
add rule $tbl filter-forward ct state new jump cluster-ips-check
add rule $tbl filter-input ct state new jump nodeport-endpoints-check
add rule $tbl filter-input ct state new jump service-endpoints-check
add rule $tbl filter-output ct state new jump service-endpoints-check
add rule $tbl filter-output-pre-dnat ct state new jump firewall-check
add rule $tbl filter-output ct state new jump cluster-ips-check
add rule $tbl firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips
add rule $tbl mark-for-masquerade mark set mark or 0x4000
add rule $tbl masquerading mark and 0x4000 == 0 return
add rule $tbl masquerading mark set mark xor 0x4000
add rule $tbl masquerading masquerade fully-random
add rule $tbl nat-output jump services
add rule $tbl nat-postrouting jump masquerading
add rule $tbl nat-prerouting jump services
add rule $tbl nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
add rule $tbl reject-chain reject
add rule $tbl services ip daddr . meta l4proto . th dport vmap @service-ips
add rule $tbl services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
add rule $tbl service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services
EOF
	for ip in "${POD_IPS[@]}"; do
		c="endpoint-${id}__$ip/$tport"
		echo "add chain $tbl $c"
		echo "add rule $tbl $c ip saddr $ip jump mark-for-masquerade"
		echo "add rule $tbl $c meta l4proto $proto dnat to $ip:$tport"
		vmap+="${vmap:+, }$n : goto $c"
		n=$((n + 1))
	done
	cat <<EOF
add rule $tbl service-$id ip daddr 198.18.128.10 ip saddr != 198.19.0.0/16 jump mark-for-masquerade
add rule $tbl service-$id numgen random mod $n vmap { $vmap }
add rule $tbl external-$id jump mark-for-masquerade
add rule $tbl external-$id goto service-$id
add element $tbl cluster-ips { 198.18.128.10 }
add element $tbl service-ips { 198.18.128.10 . $proto . $port : goto service-$id }
add element $tbl service-ips { $VIP . $proto . $port : goto external-$id }
EOF
	[[ -z $nodeport ]] || cat <<EOF
add element $tbl nodeport-ips { $node_ip }
add element $tbl service-nodeports { $proto . $nodeport : goto external-$id }
EOF
}
