#!/usr/bin/env bash
# `make demo`: a live three-peer riftgate mesh in network namespaces on this machine.
#   bash scripts/demo.sh BUILD_DIR      (the Makefile passes the release build)
# Builds a bridge, a hub namespace running riftgate-hub and three peer namespaces each running
# `riftgate up`, then prints every peer's `riftgate status`, a ping matrix over the tunnels and a
# 5-second iperf3 figure, and tears everything down (also on Ctrl-C). Needs root. Nothing outside
# the namespaces is touched; configs use no STUN server.
set -u
build=${1:-build-release}
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root to create network namespaces (try: sudo make demo)" >&2
	exit 1
fi
for tool in ip jq ping; do
	command -v "$tool" >/dev/null || { echo "demo: '$tool' is missing (make deps)" >&2; exit 1; }
done
[ -d "$build" ] || { echo "demo: no build directory '$build'" >&2; exit 1; }

start=$SECONDS
work=$(mktemp -d /tmp/rgdm.XXXXXX)
lab_init rgdm-
mesh_init "$build" "$work" rgdm0
lab_on_cleanup 'echo; echo "demo: tearing down (namespaces rgdm-*, $work)"; rm -rf "$work"'

say "lab: bridge + hub namespace + 3 peer namespaces (10.98.0.0/24)"
mesh_build 3
for i in 1 2 3; do
	echo "peer$i: namespace $(lab_ns "p$i"), LAN $(mesh_lan_ip "$i"), tunnel $(mesh_tun_ip "$i")/24," \
		"interface $(mesh_ifname "$i"), public key $(mesh_pubkey <"$work/p$i.key")"
done
say "config of peer1 (private key elided)"
sed 's/^private_key = .*/private_key = "(44 base64 characters, file mode 0600)"/; s/^auth_token = .*/auth_token = "(random)"/' \
	"$work/p1.toml"

if ! mesh_have_agent; then
	say "not available yet"
	[ -x "$MESH_HUB" ] || echo "riftgate-hub is not built in $build."
	[ -x "$MESH_RIFTGATE" ] && "$MESH_RIFTGATE" up --help 2>&1 | grep -q "not implemented" &&
		echo "'riftgate up' is not implemented in this build (the agent is not linked in)."
	[ -x "$MESH_RIFTGATE" ] || echo "riftgate is not built in $build."
	echo "The lab, keys and configs above are real; no tunnel was started."
	exit 0
fi

say "starting riftgate-hub and 3 agents"
mesh_hub_start || { echo "demo: the hub did not start"; exit 1; }
t0=$SECONDS
for i in 1 2 3; do mesh_peer_start "$i"; done
if ! mesh_wait_all 90; then
	echo "demo: the mesh did not come up within 90 s; agent logs:"
	mesh_dump_logs
	exit 1
fi
echo "full mesh up $((SECONDS - t0)) s after the agents started"

for i in 1 2 3; do
	say "riftgate status (peer$i)"
	mesh_status "$i"
done

say "ping matrix over the tunnels (average RTT of 3 pings)"
mesh_ping_matrix || echo "(some pairs did not answer)"

if command -v iperf3 >/dev/null; then
	say "iperf3: peer1 -> peer2 through the tunnel, 5 s"
	lab_bg p2 "$work/iperf-s.log" iperf3 -s -1 -B "$(mesh_tun_ip 2)"
	lab_wait 10 "iperf3 server" lab_tcp_listening p2 5201
	if lab_exec p1 timeout 30 iperf3 -c "$(mesh_tun_ip 2)" -t 5 -J >"$work/iperf.json" 2>&1; then
		jq -r '"\(.end.sum_received.bits_per_second / 1e6 | . * 10 | floor / 10) Mbit/s received (TCP, \(.end.sum_sent.retransmits // 0) retransmits)"' \
			"$work/iperf.json"
	else
		echo "iperf3 failed:"; tail -5 "$work/iperf.json"
	fi
fi
say "done in $((SECONDS - start)) s"
