#!/usr/bin/env bash
# Profile helper for the data-channel tunnel: two peers (riftgate up) in namespaces on one bridge,
# one iperf3 TCP run through the tunnel, CPU seconds of each agent during the run, and optionally
# `perf record -g` of both agents while iperf3 runs.
# Usage: bash bench/tunnel-profile.sh BUILD_DIR [OUT_DIR]
# Env: BENCH_T (iperf3 seconds, default 10), PERF=1 (record perf.data into OUT_DIR),
#      IPERF_ARGS (extra iperf3 client args, e.g. "-P 2" or "-R").
set -u
build=${1:-build-release}
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
T=${BENCH_T:-10}
out=${2:-/tmp/rgpf-prof}
mkdir -p "$out"
[ "$(id -u)" -eq 0 ] || { echo "tunnel-profile: needs root" >&2; exit 1; }
work=$(mktemp -d /tmp/rgpf.XXXXXX)
lab_init rgpf-
mesh_init "$build" "$work" rgpf0
lab_on_cleanup 'rm -rf "$work"'
mesh_build 2
mesh_hub_start || exit 1
mesh_peer_start 1
mesh_peer_start 2
mesh_wait_up 1 2 60 || { mesh_dump_logs; exit 1; }
lab_wait 20 "tunnel ping" lab_ping p1 "$(mesh_tun_ip 2)" || { mesh_dump_logs; exit 1; }
mtu=$(lab_exec p1 cat "/sys/class/net/$(mesh_ifname 1)/mtu")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
lab_bg p2 "$work/iperf-s.log" iperf3 -s -1 -p 5309 -B "$(mesh_tun_ip 2)"
lab_wait 10 "iperf3 server" lab_tcp_listening p2 5309 || exit 1
perf_pid=
if [ "${PERF:-0}" = 1 ]; then
	perf record -g -o "$out/perf.data" -p "${MESH_PID[1]},${MESH_PID[2]}" -- sleep $((T - 1)) \
		>"$out/perf-record.log" 2>&1 &
	perf_pid=$!
fi
c1=$(cpu_ticks "${MESH_PID[1]}"); c2=$(cpu_ticks "${MESH_PID[2]}")
lab_exec p1 timeout $((T + 20)) iperf3 -c "$(mesh_tun_ip 2)" -p 5309 -t "$T" ${IPERF_ARGS:-} -J >"$out/iperf.json" 2>/dev/null
d1=$(( $(cpu_ticks "${MESH_PID[1]}") - c1 )); d2=$(( $(cpu_ticks "${MESH_PID[2]}") - c2 ))
[ -n "$perf_pid" ] && wait "$perf_pid"
for i in 1 2; do
	{ lab_exec p$i nstat -as; lab_exec p$i ip -s link show dev "$(mesh_ifname $i)"; } >"$out/nstat$i.txt" 2>&1
done
hz=$(getconf CLK_TCK)
mbps=$(jq '.end.sum_received.bits_per_second / 1e6 | . * 10 | floor / 10' "$out/iperf.json" 2>/dev/null)
retr=$(jq '.end.sum_sent.retransmits' "$out/iperf.json" 2>/dev/null)
echo "mtu $mtu: ${mbps:-fail} Mbit/s, retransmits ${retr:-?}, CPU s sender $(awk -v t=$d1 -v h=$hz 'BEGIN{printf "%.2f", t/h}') receiver $(awk -v t=$d2 -v h=$hz 'BEGIN{printf "%.2f", t/h}') over ${T} s; load $(cut -d' ' -f1-3 /proc/loadavg)"
lab_exec p1 "$MESH_RIFTGATE" status --json "$(mesh_ifname 1)" >"$out/status1.json" 2>/dev/null
mesh_peer_stop 1; mesh_peer_stop 2
cp "$work"/p*.log "$out/" 2>/dev/null
exit 0
