#!/usr/bin/env bash
# NAT traversal benchmark (tests/lab/nat.sh), measured in one run:
#   time to first packet per NAT pair: both agents start fresh (own hub), seconds until a ping
#   through the tunnel first succeeds (polled every 0.2 s), and the candidate type chosen
#   throughput: iperf3 TCP through the tunnel for a direct pair (full-cone <-> full-cone) and a
#   relayed pair (symmetric <-> symmetric via coturn), same machine, same run
# Usage: bash bench/nat.sh [BUILD_DIR]   (default build-release, else build)
# Env: BENCH_T (iperf3 seconds, default 8). Writes bench/results/nat.md.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
[ -n "$build" ] || { [ -x "$src/build-release/src/cli/riftgate" ] && build=$src/build-release || build=$src/build; }
T=${BENCH_T:-8}
out="$src/bench/results/nat.md"
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
. "$src/tests/lab/nat.sh"
[ "$(id -u)" -eq 0 ] || { echo "bench/nat: needs root" >&2; exit 1; }
work=$(mktemp -d /tmp/rgnt-bench.XXXXXX)
lab_init "rgnt-bn$$-"
mesh_init "$build" "$work" rgnt4
lab_on_cleanup 'rm -rf "$work"'
mesh_have_agent || { echo "bench/nat: riftgate up / riftgate-hub not built in $build" >&2; exit 1; }
NAT_DIR="$work/nat"
nat_init
NAT_TURN_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
nat_turn_start "$NAT_TURN_SECRET" || exit 1
for i in 1 2 3 4 5 6 7 8; do nat_site "$i" "${NAT_TYPES[$(((i - 1) % 4))]}"; done

port=8100
first_ping()	# I J: sets FP_S (seconds) and FP_CT (candidate) for a fresh pair (no subshell: it
		# starts agents and a hub whose pids the caller must keep)
{
	local i=$1 j=$2 t0 t1 ct
	port=$((port + 1))
	FP_S=fail FP_CT=-
	nat_hub_start "$port" >/dev/null || return
	nat_write_config "$i" "$port" rest
	nat_write_config "$j" "$port" rest
	t0=$(date +%s.%N)
	mesh_peer_start "$i"
	mesh_peer_start "$j"
	if lab_wait 90 "first ping $i->$j" lab_exec "p$i" ping -c 1 -W 0.2 -q "$(nat_tun_ip "$j")"; then
		t1=$(date +%s.%N)
		ct=$(nat_peer_type "$i" "$j")
		FP_S=$(awk -v a="$t1" -v b="$t0" 'BEGIN {printf "%.2f", a - b}')
		FP_CT=${ct:-?}
	fi
}
stop_pair() { mesh_peer_stop "$1"; mesh_peer_stop "$2"; nat_hub_stop "$port"; }

iperf_mbps()	# I J
{
	lab_bg "p$2" "$work/iperf-s.log" iperf3 -s -B "$(nat_tun_ip "$2")" -1
	lab_wait 10 "iperf3 server" lab_tcp_listening "p$2" 5201 || { echo fail; return; }
	if lab_exec "p$1" timeout $((T + 30)) iperf3 -c "$(nat_tun_ip "$2")" -t "$T" -J >"$work/iperf.json" 2>/dev/null; then
		jq -r '.end.sum_received.bits_per_second / 1e6 | . * 10 | floor / 10' "$work/iperf.json"
	else
		echo fail
	fi
}

rows=""
pairs="1:2 1:3 1:4 2:3 2:4 3:4 1:5 2:6 3:7 4:8"
for pr in $pairs; do
	i=${pr%:*} j=${pr#*:}
	first_ping "$i" "$j"
	s=$FP_S ct=$FP_CT
	echo "${NAT_TYPE[$i]} <-> ${NAT_TYPE[$j]}: first ping after $s s ($ct)"
	rows+="| ${NAT_TYPE[$i]} | ${NAT_TYPE[$j]} | $ct | $s |"$'\n'
	if [ "$i:$j" = 1:5 ]; then direct=$(iperf_mbps 1 5); direct_ct=$ct; echo "direct: $direct Mbit/s"; fi
	if [ "$i:$j" = 4:8 ]; then relay=$(iperf_mbps 4 8); relay_ct=$ct; echo "relay: $relay Mbit/s"; fi
	stop_pair "$i" "$j"
done

{
	echo "# NAT traversal figures"
	echo
	san=; grep -q fsanitize "$build/build.ninja" 2>/dev/null && san=", ASan+UBSan"
	echo "Command: \`sudo bash bench/nat.sh $(basename "$build")\` ($(date -u +%F), $(nproc) cores$san;"
	echo "other engineers' builds and tests were running on the machine at the same time)."
	echo "Lab: tests/lab/nat.sh (nftables NAT routers in network namespaces, coturn $(turnserver --version 2>/dev/null | head -1 | awk '{print $1}') on the lab"
	echo "internet, riftgate-hub beside it). Each pair: two fresh \`riftgate up\` agents and their own hub."
	echo
	echo "## Time to first packet"
	echo
	echo "Seconds from starting both agents until the first ping through the tunnel succeeds (polled"
	echo "every 0.2 s, so up to ~0.2 s of the figure is polling granularity)."
	echo
	echo "| NAT A | NAT B | candidate | seconds |"
	echo "| --- | --- | --- | --- |"
	printf '%s' "$rows"
	echo
	echo "## Throughput: direct vs TURN relay (same run)"
	echo
	echo "iperf3 TCP, $T s, through the tunnel."
	echo
	echo "| path | candidate | Mbit/s |"
	echo "| --- | --- | --- |"
	echo "| full-cone <-> full-cone (direct) | ${direct_ct:-?} | ${direct:-?} |"
	echo "| symmetric <-> symmetric (coturn relay) | ${relay_ct:-?} | ${relay:-?} |"
} >"$out"
cat "$out"
