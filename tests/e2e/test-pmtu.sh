#!/usr/bin/env bash
# End-to-end path-MTU probing and the TUN MTU policy (docs/path-mtu.md). A hub and peers 1, 2
# on one 1500-byte bridge (10.98.0.0/24); peer 3 sits behind a router whose link to the bridge
# has MTU 1300 on both ends (10.98.3.0/24 behind it): big datagrams from the bridge side vanish
# silently at the bridge (a black hole), those from peer 3 get ICMP "fragmentation needed" from
# the router, which the probe's DF sockets ignore. Default configs (no mtu, no path_mtu),
# except that peer 3 has [webrtc] direct_path = false, so its pairs use the data channel.
# Asserts: the probed path MTUs in `riftgate status` (1472 between 1 and 2, 1266 to and from
# 3), the TUN MTU (every host's own link is 1500: 1440 where the direct path is on, 1360 on
# peer 3), the per-peer packet limit (1440 on the direct path 1-2, 1168 on the data channel at
# 1266), `ping -M do` through the tunnel at the largest size each peer takes, and "frag
# needed" / "message too long" one byte beyond, the kernel's learned PMTU towards peer 3, TCP
# (iperf3) to both peers, no sanitizer report.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgpm-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=200

tag=$(printf '%04x' $(($$ % 65536)))
lab_init "rgpm-$tag-"
mesh_init "$build" "$work" "rgp$tag"
if ! mesh_have_agent; then
	echo "SKIP: riftgate up or riftgate-hub is not built in $build"
	exit 77
fi
report()
{
	if [ "$fails" -gt 0 ]; then
		mesh_dump_logs
		keep="$build/meson-logs/$(basename "$0" .sh)-$(date +%H%M%S)"
		mkdir -p "$keep" && cp "$work"/*.log "$keep"/ 2>/dev/null && echo "logs kept in $keep"
	fi
	echo "e2e pmtu: $passes passed, $fails failed"
	check_counts e2e-pmtu
	rm -rf "$work"
}
lab_on_cleanup report
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}

# --- the lab ---
mesh_build 2
lab_node rt 10.98.0.254/24
ip -n "$LAB_BRIDGE_NS" link set p-rt mtu 1300
ip -n "$(lab_ns rt)" link set eth0 mtu 1300
lab_add_ns p3
lab_link rt p3 10.98.3.1/24 10.98.3.2/24
ip netns exec "$(lab_ns rt)" sysctl -qw net.ipv4.ip_forward=1
ip -n "$(lab_ns p3)" route add default via 10.98.3.1
for n in hub p1 p2; do ip -n "$(lab_ns "$n")" route add 10.98.3.0/24 via 10.98.0.254; done
key=$(umask 077; mesh_genkey) || lab_die "cannot generate a key"
(umask 077; echo "$key" >"$MESH_DIR/p3.key")
i=3 mesh_write_config 3 "$key"	# (its locals read $i early)
sed -i 's/^max_retransmits = 0$/max_retransmits = 0\ndirect_path = false/' "$MESH_DIR/p3.toml"
MESH_N=3
check "peer3 reaches the hub through the router" lab_exec p3 ping -c 1 -W 3 -q 10.98.0.1
check "the 1300 link drops 1301-byte frames" sh -c "! ip netns exec $(lab_ns p1) ping -c 1 -W 1 -M do -s 1273 -q 10.98.3.2 >/dev/null 2>&1"

mesh_hub_start || { bad "hub starts"; exit 1; }
for i in 1 2 3; do mesh_peer_start "$i" -v; done
t0=$SECONDS
if ! mesh_wait_all 120; then
	bad "full mesh up"
	exit 1
fi
ok "full mesh up"
echo "mesh up after $((SECONDS - t0)) s"

# --- probed path MTUs and the TUN MTU ---
pm() { mesh_status "$1" --json | jq -r --arg id "peer$2" '.peers[] | select(.peerId == $id) | "\(.pathMtu) \(.pathMtuState) \(.peerMtu)"'; }
path_is() { [ "$(mesh_status "$1" --json | jq -r --arg id "peer$2" '.peers[] | select(.peerId == $id) | .path')" = "$3" ]; }
for i in 1 2; do
	check "peer$i: tun mtu 1440 (the direct path's)" test "$(mesh_status "$i" --json | jq .mtu)" = 1440
done
check "peer3: tun mtu 1360 (direct path off)" test "$(mesh_status 3 --json | jq .mtu)" = 1360
check "peer1 -> peer2: path direct" lab_wait 15 "path direct" path_is 1 2 direct
check "peer2 -> peer1: path direct" lab_wait 15 "path direct" path_is 2 1 direct
check "peer1 -> peer2: 1472 probed, packets up to 1440" test "$(pm 1 2)" = "1472 probed 1440"
check "peer2 -> peer1: 1472 probed, packets up to 1440" test "$(pm 2 1)" = "1472 probed 1440"
for p in "1 3" "2 3" "3 1" "3 2"; do
	set -- $p
	check "peer$1 -> peer$2: 1266 probed (1272 fit), packets up to 1168" test "$(pm "$1" "$2")" = "1266 probed 1168"
done
mesh_status 1 >"$work/status1.txt" 2>&1
cat "$work/status1.txt"
check "text status shows the path mtu" grep -q "path mtu: 1472 (probed), packets up to 1440" "$work/status1.txt"

# --- ping -M do at and beyond each peer's size ---
pingdo() { lab_exec "p$1" ping -c 2 -i 0.3 -W 3 -M do -s "$3" "$(mesh_tun_ip "$2")"; }
check "peer1 -> peer2: 1440-byte packets (DF) pass" pingdo 1 2 1412
check "peer2 -> peer1: 1440-byte packets (DF) pass" pingdo 2 1 1412
out=$(pingdo 1 2 1413 2>&1); rc=$?
check "peer1 -> peer2: 1441 bytes refused (message too long)" sh -c "[ $rc != 0 ] && echo '$out' | grep -qi 'too long'"
for p in "1 3" "3 1" "2 3"; do
	set -- $p
	check "peer$1 -> peer$2: 1168-byte packets (DF) pass" pingdo "$1" "$2" 1140
	out=$(pingdo "$1" "$2" 1141 2>&1); rc=$?
	echo "$out" | head -3
	check "peer$1 -> peer$2: 1169 bytes answered 'frag needed, mtu 1168'" \
		sh -c "[ $rc != 0 ] && echo '$out' | grep -Eqi 'mtu ?= ?1168'"
done
check "peer1's kernel learned PMTU 1168 towards peer3" \
	sh -c "ip -n $(lab_ns p1) route get $(mesh_tun_ip 3) | grep -q 'mtu 1168'"
check "peer1 did not learn a PMTU towards peer2" \
	sh -c "! ip -n $(lab_ns p1) route get $(mesh_tun_ip 2) | grep -q 'mtu'"
check "peer1 counted ICMP answers" test "$(mesh_status 1 --json | jq .tooBigIcmp)" -gt 0

# --- TCP to both (peer3 first on a fresh PMTU cache: TSO segments get the ICMP) ---
ip netns exec "$(lab_ns p2)" sh -c 'echo 1 > /proc/sys/net/ipv4/route/flush'
iperf() {	# from to
	local port=$((5201 + $2))
	lab_bg "p$2" "$work/iperf-s$1$2.log" iperf3 -s -1 -p "$port" -B "$(mesh_tun_ip "$2")"
	lab_wait 10 "iperf3 server" lab_tcp_listening "p$2" "$port" || return 1
	lab_exec "p$1" timeout 30 iperf3 -c "$(mesh_tun_ip "$2")" -p "$port" -t 3 -J >"$work/iperf$1$2.json" 2>&1 || return 1
	mbps=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$work/iperf$1$2.json")
	echo "iperf3 peer$1 -> peer$2: $mbps Mbit/s"
	[ "${mbps:-0}" -gt 1 ]
}
icmp0=$(mesh_status 2 --json | jq .tooBigIcmp)
check "TCP peer2 -> peer3 (path 1266)" iperf 2 3
check "peer2 answered its oversized TCP segments with ICMP" \
	test "$(mesh_status 2 --json | jq .tooBigIcmp)" -gt "$icmp0"
check "TCP peer3 -> peer1 (path 1266)" iperf 3 1
check "TCP peer1 -> peer2 (path 1472)" iperf 1 2
check "no packet dropped for lack of DF" test "$(mesh_status 1 --json | jq .tooBigDropped)" = 0

for i in 1 2 3; do
	mesh_peer_stop "$i" TERM; rc=$?
	check "peer$i exits cleanly on SIGTERM (rc=$rc)" test "$rc" = 0
done
if grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$work"/p*.log; then
	bad "sanitizer reports in agent logs"
else
	ok "no sanitizer reports"
fi

[ "$fails" -eq 0 ]
