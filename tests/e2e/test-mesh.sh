#!/usr/bin/env bash
# End-to-end: a hub and three peers, each `riftgate up --foreground` in its own network
# namespace on one bridge (10.98.0.0/24), tunnel addresses 10.98.100.N. Asserts: every pair
# pings over the tunnel, iperf3 runs through it, `riftgate status` shows every peer up and
# `wg show` works over UAPI, a peer killed and restarted rejoins and traffic resumes, the hub
# killed and restarted does not drop existing tunnels, `riftgate down` stops an agent cleanly,
# and no agent reports a sanitizer error (the test build has ASan + UBSan).
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgag-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
# A time budget below meson's timeout, so a broken run still reports (and keeps its logs).
CHECK_BUDGET_S=240

mesh_setup "$build" "$work" rgag-e rge
report()
{
	if [ "$fails" -gt 0 ]; then
		mesh_dump_logs
		keep="$build/meson-logs/$(basename "$0" .sh)-$(date +%H%M%S)"
		mkdir -p "$keep" && cp "$work"/*.log "$keep"/ 2>/dev/null && echo "logs kept in $keep"
	fi
	echo "e2e mesh: $passes passed, $fails failed"
	check_counts e2e-mesh
	rm -rf "$work"
}
lab_on_cleanup report
# LeakSanitizer needs ptrace-like access that namespaces do not change; keep leaks fatal.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}

mesh_build 3
mesh_hub_start || { bad "hub starts"; exit 1; }
for i in 1 2 3; do mesh_peer_start "$i" -v; done

t0=$SECONDS
if ! mesh_wait_all 120; then
	bad "full mesh up"
	exit 1	# everything below needs the mesh; the cleanup hook prints the logs
fi
ok "full mesh up"
echo "mesh up after $((SECONDS - t0)) s"

# ping matrix
for i in 1 2 3; do
	for j in 1 2 3; do
		[ "$i" = "$j" ] && continue
		check "ping peer$i -> peer$j" lab_exec "p$i" ping -c 3 -i 0.2 -W 3 -q "$(mesh_tun_ip "$j")"
	done
done

# status: every peer sees the two others up, with a candidate type and a handshake
for i in 1 2 3; do
	js=$(mesh_status "$i" --json)
	n=$(echo "$js" | jq '[.peers[] | select(.state == "up")] | length')
	check "status of peer$i lists 2 peers up" test "$n" = 2
	check "status of peer$i: hub connected" test "$(echo "$js" | jq -r .hubConnected)" = true
	check "status of peer$i: candidate type host" \
		test "$(echo "$js" | jq -r '[.peers[].candidateType] | unique | join(",")')" = host
	check "status of peer$i: handshakes" \
		test "$(echo "$js" | jq '[.peers[] | select(.lastHandshake > 0)] | length')" = 2
done
mesh_status 1 >"$work/status1.txt" 2>&1
check "text status shows peers" grep -q "^peer: peer2" "$work/status1.txt"
cat "$work/status1.txt"
wg_peers() { lab_exec p1 timeout 10 wg show "$(mesh_ifname 1)" | grep -c '^peer:'; }
check "wg show over UAPI lists 2 peers" test "$(wg_peers)" = 2
timeout 10 ip netns exec "$(lab_ns p1)" wg show "$(mesh_ifname 1)"
check "tun mtu from the largest probed path MTU (1440 on a 1500 LAN: the direct path's)" sh -c "[ \$(ip netns exec $(lab_ns p1) cat /sys/class/net/$(mesh_ifname 1)/mtu) -eq 1440 ]"

# iperf3 through the tunnel
lab_bg p2 "$work/iperf-s.log" iperf3 -s -1 -B "$(mesh_tun_ip 2)"
lab_wait 10 "iperf3 server" lab_tcp_listening p2 5201
if lab_exec p1 timeout 30 iperf3 -c "$(mesh_tun_ip 2)" -t 3 -J >"$work/iperf.json" 2>&1; then
	mbps=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$work/iperf.json")
	echo "iperf3 peer1 -> peer2: $mbps Mbit/s"
	check "iperf3 through the tunnel (> 1 Mbit/s)" test "${mbps:-0}" -gt 1
else
	bad "iperf3 through the tunnel"
	cat "$work/iperf.json"
fi

# another interface comes up (a second NIC, another VPN): working tunnels keep their paths
since12=$(mesh_status 1 --json | jq -r '.peers[] | select(.peerId == "peer2") | .since')
# (a veth pair inside p1: this kernel has no dummy interfaces)
lab_exec p1 ip link add "$(mesh_ifname 1)x" type veth peer name "$(mesh_ifname 1)y" &&
	lab_exec p1 ip link set "$(mesh_ifname 1)y" up &&
	lab_exec p1 ip addr add 10.97.0.1/24 dev "$(mesh_ifname 1)x" &&
	lab_exec p1 ip link set "$(mesh_ifname 1)x" up || bad "dummy interface in p1"
new_addrs() { grep -q "new local addresses.*10.97.0.1.*connections keep their paths" "$MESH_DIR/p1.log"; }
check "peer1 notices the new address" lab_wait 10 "address event" new_addrs
check "peer1 -> peer2 with the new address" lab_ping p1 "$(mesh_tun_ip 2)"
check "tunnel peer1-peer2 not restarted for a new address" test \
	"$(mesh_status 1 --json | jq -r '.peers[] | select(.peerId == "peer2") | "\(.since) \(.iceRestarts)"')" = "$since12 0"

# a peer crashes (SIGKILL) and comes back
since12=$(mesh_status 1 --json | jq -r '.peers[] | select(.peerId == "peer2") | .since')
mesh_peer_stop 3 KILL
mesh_peer_start 3 -v
t0=$SECONDS
check "restarted peer3 reaches peer1" mesh_wait_up 3 1 60
check "restarted peer3 reaches peer2" mesh_wait_up 3 2 45
check "peer1 reaches restarted peer3" mesh_wait_up 1 3 45
check "peer2 reaches restarted peer3" mesh_wait_up 2 3 60
echo "peer3 rejoined after $((SECONDS - t0)) s"

# the hub goes away: tunnels stay
mesh_hub_stop KILL
sleep 2
check "peer1 -> peer2 while the hub is down" lab_exec p1 ping -c 3 -i 0.3 -W 3 -q "$(mesh_tun_ip 2)"
check "peer2 -> peer3 while the hub is down" lab_exec p2 ping -c 3 -i 0.3 -W 3 -q "$(mesh_tun_ip 3)"
check "status while the hub is down says so" \
	test "$(mesh_status 1 --json | jq -r .hubConnected)" = false
mesh_hub_start || bad "hub restarts"
hub_ok() { [ "$(mesh_status "$1" --json | jq -r .hubConnected)" = true ]; }
for i in 1 2 3; do
	check "peer$i reconnects to the hub" lab_wait 60 "peer$i hub reconnect" hub_ok "$i"
done
sleep "${RG_E2E_SETTLE:-8}"	# longer than the rejoin probe: a wrongly dropped tunnel would show
for i in 1 2 3; do
	for j in 1 2 3; do
		[ "$i" = "$j" ] && continue
		check "peer$i -> peer$j after the hub restart" lab_ping "p$i" "$(mesh_tun_ip "$j")"
	done
done
since12b=$(mesh_status 1 --json | jq -r '.peers[] | select(.peerId == "peer2") | .since')
check "tunnel peer1-peer2 was not rebuilt across the hub restart" test "$since12" = "$since12b"

# the offerer of every pair (peer1, the smallest id) crashes and comes back: its fresh offers
# replace the connections the others still hold
mesh_peer_stop 1 KILL
mesh_peer_start 1 -v
t0=$SECONDS
check "restarted peer1 reaches peer2" mesh_wait_up 1 2 60
check "restarted peer1 reaches peer3" mesh_wait_up 1 3 45
check "peer2 reaches restarted peer1" mesh_wait_up 2 1 45
check "peer3 reaches restarted peer1" mesh_wait_up 3 1 45
echo "peer1 rejoined after $((SECONDS - t0)) s"

# riftgate down stops the agent cleanly, interface and sockets gone
check "riftgate down" lab_exec p2 env RIFTGATE_RUN_DIR="$RIFTGATE_RUN_DIR" "$MESH_RIFTGATE" down "$(mesh_ifname 2)"
p2pid=${MESH_PID[2]}
lab_wait_exit "$p2pid" 20; rc=$?
MESH_PID[2]=
check "agent exited 0 after down (rc=$rc)" test "$rc" = 0
check "interface removed" sh -c "! ip netns exec $(lab_ns p2) ip link show $(mesh_ifname 2) >/dev/null 2>&1"
check "uapi socket removed" test ! -e "/var/run/wireguard/$(mesh_ifname 2).sock"
state_is() { [ "$(mesh_peer_state "$1" "$2")" = "$3" ]; }
check "peer1 sees peer2 left" lab_wait 30 "peer2 left" state_is 1 2 left
check "peer3 sees peer2 left" lab_wait 30 "peer2 left" state_is 3 2 left
check "tunnel peer1-peer3 unaffected" lab_ping p1 "$(mesh_tun_ip 3)"
mesh_peer_start 2 -v
check "peer2 returns: peer1 sees it up" mesh_wait_up 1 2 60
check "peer2 returns: it reaches peer3" mesh_wait_up 2 3 60
mesh_peer_stop 2 TERM; rc=$?
check "peer2 exits cleanly on SIGTERM (rc=$rc)" test "$rc" = 0

# the others stop on SIGTERM with exit 0 (ASan aborts would be non-zero)
for i in 1 3; do
	mesh_peer_stop "$i" TERM; rc=$?
	check "peer$i exits cleanly on SIGTERM (rc=$rc)" test "$rc" = 0
done
if grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$work"/p*.log; then
	bad "sanitizer reports in agent logs"
else
	ok "no sanitizer reports"
fi

[ "$fails" -eq 0 ]
