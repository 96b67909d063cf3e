#!/usr/bin/env bash
# IPv6 inside the tunnel: two peers with fd98::N/64 tunnel addresses and a pinned 1200-byte path
# MTU (`[webrtc] path_mtu`, no probing). The derived MTU (1088) is below IPv6's 1280 minimum, so the agent uses 1280; full-size packets must
# still cross (their WireGuard datagrams span two SCTP packets). Allowed IPs are /128.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgag-v6.XXXXXX)
. "$src/tests/lab/check.sh"

mesh_setup "$build" "$work" rgag-6 rg6
if1=$(mesh_ifname 1)
report()
{
	[ "$fails" -gt 0 ] && mesh_dump_logs
	echo "e2e ipv6: $passes passed, $fails failed"
	rm -rf "$work"
}
lab_on_cleanup report

mesh_build 2
for i in 1 2; do
	sed -i "s|^address = .*|address = \"fd98::$i/64\"|" "$work/p$i.toml"
	echo "path_mtu = 1200" >>"$work/p$i.toml"	# [webrtc] is the last table
done
mesh_hub_start || { bad "hub starts"; exit 1; }
mesh_peer_start 1 -v
mesh_peer_start 2 -v
check "tunnel up" lab_wait 60 "peer1 sees peer2 up" mesh_is_up 1 2
ping6_ok() { lab_exec p1 ping -6 -c 1 -W 2 -q "$@" fd98::2 >/dev/null 2>&1; }
check "ping6 over the tunnel" lab_wait 20 ping6 ping6_ok
check "full-size (1280) IPv6 packets cross" lab_wait 20 "ping6 -s 1232" ping6_ok -s 1232 -M do
check "mtu raised to 1280" test "$(lab_exec p1 cat /sys/class/net/$if1/mtu)" = 1280
check "status: path mtu 1200 pinned" \
	test "$(mesh_status 1 --json | jq -r '.peers[0] | "\(.pathMtu) \(.pathMtuState)"')" = "1200 pinned"
check "allowed ip is the peer's /128" \
	sh -c "timeout 10 ip netns exec $(lab_ns p1) wg show $if1 allowed-ips | grep -q 'fd98::2/128'"
check "status shows the IPv6 address" \
	test "$(mesh_status 1 --json | jq -r '.peers[0].address')" = "fd98::2/64"
for i in 1 2; do
	mesh_peer_stop "$i" TERM; rc=$?
	check "peer$i exits cleanly (rc=$rc)" test "$rc" = 0
done
check_counts e2e-ipv6
[ "$fails" -eq 0 ]
