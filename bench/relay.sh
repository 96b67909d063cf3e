#!/usr/bin/env bash
# Hub relay benchmark (issue 17), measured in one run in the NAT lab (tests/lab/nat.sh):
#   symmetric <-> symmetric (no direct path) through riftgate-hub's relay (no TURN configured)
#   beside the same pair through coturn TURN/UDP (relay = "never"): iperf3 TCP throughput and
#   ping RTT through the tunnel
#   time from `up` to the first ping answered: full-cone <-> full-cone (a direct path exists)
#   with relay = "auto" and "never", and symmetric <-> symmetric with the hub relay only
# Usage: bash bench/relay.sh [BUILD_DIR]   (default build-release, else build)
# Env: BENCH_T (iperf3 seconds, default 8). Writes bench/results/relay.md.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
[ -n "$build" ] || { [ -x "$src/build-release/src/cli/riftgate" ] && build=$src/build-release || build=$src/build; }
T=${BENCH_T:-8}
out="$src/bench/results/relay.md"
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
. "$src/tests/lab/nat.sh"
[ "$(id -u)" -eq 0 ] || { echo "bench/relay: needs root" >&2; exit 1; }
work=$(mktemp -d /tmp/rgnt-brelay.XXXXXX)
lab_init "rgnt-br$$-"
mesh_init "$build" "$work" rgnb5
lab_on_cleanup 'rm -rf "$work"'
mesh_have_agent || { echo "bench/relay: riftgate up / riftgate-hub not built in $build" >&2; exit 1; }
NAT_DIR="$work/nat"
nat_init
NAT_TURN_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
nat_turn_start "$NAT_TURN_SECRET" || exit 1
nat_site 1 full-cone
nat_site 4 symmetric
nat_site 5 full-cone
nat_site 8 symmetric

port=8200
with_relay() { sed -i 's/^auth_token = .*/&\nrelay = "'"$2"'"/' "$MESH_DIR/p$1.toml"; }
tun_ready() { lab_exec "p$1" ip -4 addr show dev "$(mesh_ifname "$1")" 2>/dev/null | grep -q "$(nat_tun_ip "$1")"; }
# pair_start I J TURN RELAY: fresh hub and agents; sets T0 (epoch s.ns of the start)
pair_start()
{
	port=$((port + 1))
	nat_hub_start "$port" >/dev/null || return 1
	nat_write_config "$1" "$port" "$3"
	nat_write_config "$2" "$port" "$3"
	with_relay "$1" "$4"
	with_relay "$2" "$4"
	T0=$(date +%s.%N)
	mesh_peer_start "$1"
	mesh_peer_start "$2"
}
pair_stop() { mesh_peer_stop "$1"; mesh_peer_stop "$2"; nat_hub_stop "$port"; }
# first_ping I J: seconds from T0 until a ping from I to J is answered (polled every 0.1 s)
first_ping()
{
	local t1
	lab_wait 60 "tunnel $1" tun_ready "$1" || { echo fail; return; }
	if lab_wait 60 "first ping $1->$2" lab_exec "p$1" ping -c 1 -W 0.1 -q "$(nat_tun_ip "$2")"; then
		t1=$(date +%s.%N)
		awk -v a="$t1" -v b="$T0" 'BEGIN {printf "%.2f", a - b}'
	else
		echo fail
	fi
}
iperf_mbps()	# I J
{
	local srv
	lab_bg "p$2" "$work/iperf-s.log" iperf3 -s -B "$(nat_tun_ip "$2")" -1
	srv=$LAB_LAST_PID
	lab_wait 10 "iperf3 server" lab_tcp_listening "p$2" 5201 || { echo fail; return; }
	lab_exec "p$1" timeout $((T + 30)) iperf3 -c "$(nat_tun_ip "$2")" -t "$T" -J >"$work/iperf.json" 2>&1
	if jq -e '.end.sum_received.bits_per_second' "$work/iperf.json" >/dev/null 2>&1; then
		jq -r '.end.sum_received.bits_per_second / 1e6 | . * 10 | floor / 10' "$work/iperf.json"
	else
		echo "iperf3 $1 -> $2: $(jq -r '.error // empty' "$work/iperf.json" 2>/dev/null | head -c 200)" >&2
		cat "$work/iperf-s.log" >&2
		echo fail
	fi
	lab_stop "$srv" TERM 5 >/dev/null 2>&1
}
rtt_ms()	# I J: average of 50 pings at 20/s
{
	lab_exec "p$1" ping -c 50 -i 0.05 -q "$(nat_tun_ip "$2")" 2>/dev/null |
		awk -F/ '/^rtt/ {print $5}'
}
path_of() { mesh_status "$1" --json 2>/dev/null | jq -r --arg id "peer$2" '.peers[] | select(.peerId == $id) | (.path // "") + "/" + (.candidateType // "")'; }

# ---- symmetric <-> symmetric: hub relay vs coturn TURN/UDP
pair_start 4 8 none auto || exit 1
hub_first=$(first_ping 4 8)
hub_path=$(path_of 4 8)
hub_rtt=$(rtt_ms 4 8)
hub_tput=$(iperf_mbps 4 8)
echo "hub relay: first ping $hub_first s, path $hub_path, rtt $hub_rtt ms, $hub_tput Mbit/s"
pair_stop 4 8

pair_start 4 8 rest never || exit 1
turn_first=$(first_ping 4 8)
lab_wait 60 "TURN pair up" mesh_is_up 4 8
turn_path=$(path_of 4 8)
turn_rtt=$(rtt_ms 4 8)
turn_tput=$(iperf_mbps 4 8)
echo "coturn TURN/UDP: first ping $turn_first s, path $turn_path, rtt $turn_rtt ms, $turn_tput Mbit/s"
pair_stop 4 8

[ -n "${BENCH_ONLY_SYM:-}" ] && exit 0
# ---- time to first ping with a direct path, relay auto vs never
pair_start 1 5 none auto || exit 1
fc_auto=$(first_ping 1 5)
pair_stop 1 5
pair_start 1 5 none never || exit 1
fc_never=$(first_ping 1 5)
pair_stop 1 5
echo "full-cone pair: first ping $fc_auto s (relay auto), $fc_never s (relay never)"

kind="build $(basename "$build")"
grep -q -- "-fsanitize=address" "$build/build.ninja" 2>/dev/null && kind="$kind (ASan+UBSan: slower than release)"
{
	echo "# Hub relay vs TURN (bench/relay.sh)"
	echo
	echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores (load $(cut -d' ' -f1 /proc/loadavg)), $kind, both"
	echo "peers, riftgate-hub and coturn on one machine in the NAT lab (no added delay). iperf3 TCP"
	echo "for $T s through the tunnel; RTT = average of 50 pings."
	echo
	echo "| symmetric <-> symmetric | path | first ping after up (s) | RTT (ms) | iperf3 TCP (Mbit/s) |"
	echo "|---|---|---|---|---|"
	echo "| riftgate-hub relay, no TURN configured | $hub_path | $hub_first | $hub_rtt | $hub_tput |"
	echo "| coturn TURN/UDP, relay = never | $turn_path | $turn_first | $turn_rtt | $turn_tput |"
	echo
	echo "| full-cone <-> full-cone (direct path exists) | first ping after up (s) |"
	echo "|---|---|"
	echo "| relay = auto | $fc_auto |"
	echo "| relay = never | $fc_never |"
	echo
	echo "The hub relay runs over the hub's TCP connections and is paced by the client at the hub's"
	echo "default socket budget (8 MiB/s = 67 Mbit/s of charged bytes), so its throughput is"
	echo "bounded by design; it is there for reachability and for the first seconds, not for bulk"
	echo "traffic (docs/agent.md §Relay). In the lab ICE finishes within a fraction of a second, so"
	echo "auto and never differ little; on real networks ICE takes one or more STUN round trips and"
	echo "candidate trickling through the hub, while the relay needs only the hub round trip."
} >"$out"
cat "$out"
