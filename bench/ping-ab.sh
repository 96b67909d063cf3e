#!/usr/bin/env bash
# Ping latency of the direct path and of riftgate-wg against the raw veth, in the same run, with
# more pings than bench/tunnel.sh and no iperf3 before them (for A/B comparisons of one change,
# e.g. RG_RTC_NICE_RECV=1 against the default). Two peer namespaces and a hub on one bridge
# (tests/lab/mesh.sh), as bench/tunnel.sh builds them. Prints p25 / p50 / p75 (ms) of raw veth,
# the direct path, raw veth again, riftgate-wg (over plain UDP, MTU 1420) and the floor of any
# userspace tunnel here (bench/tun-relay.c: TUN to UDP and back, nothing else). With FLOOD=N it also
# runs an N-ping flood through the direct path and prints the CPU (utime + stime) of both agents
# per ping. Nothing is written to bench/results (bench/results/own-receive-ab.md quotes its runs).
# Usage: bash bench/ping-ab.sh BUILD_DIR
# Env: N (pings, default 100), I (interval s, default 0.05), FLOOD (default off), NODIRECT=1
# (skip the agents), RGWG (another riftgate-wg binary). Root (network namespaces).
set -u
build=${1:-build-release}
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
N=${N:-100}; I=${I:-0.05}
[ "$(id -u)" -eq 0 ] || { echo "bench/ping-ab: needs root (network namespaces)" >&2; exit 1; }
work=$(mktemp -d /tmp/rgpab.XXXXXX)
lab_init rgpab-
mesh_init "$build" "$work" rgpab0
lab_on_cleanup 'rm -rf "$work"'
pq() { lab_exec p1 ping -c "$N" -i "$I" -W 2 "$1" 2>/dev/null | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n |
	awk '{t[NR]=$1} END { printf "p25 %.3f p50 %.3f p75 %.3f n %d\n", t[int(NR/4)+1], t[int(NR/2)+1], t[int(3*NR/4)+1], NR }'; }
rg_path() { mesh_status 1 --json 2>/dev/null | jq -r '.peers[] | select(.peerId == "peer2") | .path'; }
rg_direct() { [ "$(rg_path)" = direct ]; }
ct() { awk '{print $14 + $15}' "/proc/$1/stat"; }
mesh_build 2
mesh_hub_start || exit 1
echo "raw:    $(pq "$(mesh_lan_ip 2)")"
if [ -z "${NODIRECT:-}" ]; then
	mesh_peer_start 1; mesh_peer_start 2
	mesh_wait_up 1 2 60 || mesh_dump_logs
	lab_wait 15 "direct path" rg_direct
	lab_exec p1 ping -c 5 -i 0.1 "$(mesh_tun_ip 2)" >/dev/null
	echo "direct: $(pq "$(mesh_tun_ip 2)") [$(rg_path)]"
	if [ -n "${FLOOD:-}" ]; then
		a1=$(ct "${MESH_PID[1]}"); b1=$(ct "${MESH_PID[2]}")
		lab_exec p1 ping -f -q -c "$FLOOD" "$(mesh_tun_ip 2)" | grep -E "packets|rtt" | tr '\n' ' '; echo
		a2=$(ct "${MESH_PID[1]}"); b2=$(ct "${MESH_PID[2]}")
		echo "flood: cpu us/ping both agents $(( ((a2 - a1) + (b2 - b1)) * 1000000 / $(getconf CLK_TCK) / FLOOD ))"
	fi
	echo "raw:    $(pq "$(mesh_lan_ip 2)")"
	mesh_peer_stop 1; mesh_peer_stop 2
fi
WGD=${RGWG:-$MESH_BUILD/src/cli/riftgate-wg}
net=10.98.110 port=51820
[ -x "$WGD" ] || { echo "rg-wg:  not built"; exit 0; }
for i in 1 2; do
	(umask 077; wg genkey >"$work/w$i.key")
	ip netns exec "$(lab_ns "p$i")" env WG_PROCESS_FOREGROUND=1 "$WGD" -f "rgpw$i" >"$work/w$i.log" 2>&1 &
	LAB_PIDS+=("$!")
done
for i in 1 2; do lab_wait 10 "riftgate-wg $i" test -S "/var/run/wireguard/rgpw$i.sock" || exit 1; done
for i in 1 2; do
	j=$((3 - i))
	lab_exec "p$i" wg set "rgpw$i" private-key "$work/w$i.key" listen-port "$port" \
		peer "$(wg pubkey <"$work/w$j.key")" endpoint "$(mesh_lan_ip "$j"):$port" allowed-ips "$net.$j/32"
	lab_exec "p$i" ip addr add "$net.$i/24" dev "rgpw$i"
	lab_exec "p$i" ip link set "rgpw$i" mtu 1420 up
done
lab_wait 15 "riftgate-wg ping" lab_ping p1 "$net.2"
echo "rg-wg:  $(pq "$net.2")"
# The floor: two bench-tun-relay processes (bench/tun-relay.c) copy packets between a TUN and a
# UDP socket with nothing else, so what they add is the wakeups and kernel crossings alone.
RELAY=$MESH_BUILD/tests/net/bench-tun-relay
[ -x "$RELAY" ] || { echo "floor:  not built"; exit 0; }
fnet=10.98.111 fport=51821
for i in 1 2; do
	j=$((3 - i))
	ip netns exec "$(lab_ns "p$i")" "$RELAY" "rgpf$i" "$fport" "$(mesh_lan_ip "$j")" "$fport" \
		>"$work/f$i.log" 2>&1 &
	LAB_PIDS+=("$!")
done
for i in 1 2; do
	lab_wait 10 "tun relay $i" lab_exec "p$i" ip link show "rgpf$i" >/dev/null || exit 1
	lab_exec "p$i" ip addr add "$fnet.$i/24" dev "rgpf$i"
	lab_exec "p$i" ip link set "rgpf$i" mtu 1420 up
done
lab_wait 15 "tun relay ping" lab_ping p1 "$fnet.2"
echo "floor:  $(pq "$fnet.2")"
echo "raw:    $(pq "$(mesh_lan_ip 2)")"
