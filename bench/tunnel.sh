#!/usr/bin/env bash
# Tunnel benchmark: two peers in network namespaces on one bridge, measured in the same run:
#   raw      iperf3 / ping between the namespaces' LAN addresses (veth + bridge, no tunnel)
#   riftgate iperf3 / ping through the riftgate data-channel tunnel (riftgate up, hub in a ns)
#   wg-udp   iperf3 / ping through riftgate-wg over plain UDP (if built), MTU 1420
# plus the tunnel-up time after both agents start and the agents' idle CPU over IDLE_S seconds.
# Usage: bash bench/tunnel.sh BUILD_DIR   (make bench passes the release build)
# Env: BENCH_T (iperf3 seconds, default 10), IDLE_S (default 60). Writes bench/results/tunnel.md.
set -u
build=${1:-build-release}
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
T=${BENCH_T:-10}
IDLE_S=${IDLE_S:-60}
out="$src/bench/results/tunnel.md"

[ "$(id -u)" -eq 0 ] || { echo "bench/tunnel: needs root (network namespaces)" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "bench/tunnel: iperf3 missing" >&2; exit 1; }
work=$(mktemp -d /tmp/rgbt.XXXXXX)
lab_init rgbt-
mesh_init "$build" "$work" rgbt0
lab_on_cleanup 'rm -rf "$work"'
if ! mesh_have_agent; then
	echo "bench/tunnel: riftgate up / riftgate-hub not built in $build" >&2
	exit 1
fi

# iperf3 TCP from p1 to ADDR (server in p2): prints Mbit/s received, or "fail".
iperf_mbps()
{
	local addr=$1 port=$2 json="$work/iperf-$2.json"
	lab_bg p2 "$work/iperf-s-$port.log" iperf3 -s -1 -p "$port" -B "$addr"
	lab_wait 10 "iperf3 server on $addr" lab_tcp_listening p2 "$port" || { echo fail; return; }
	if lab_exec p1 timeout $((T + 20)) iperf3 -c "$addr" -p "$port" -t "$T" -J >"$json" 2>/dev/null; then
		jq '.end.sum_received.bits_per_second / 1e6 | . * 10 | floor / 10' "$json"
	else
		echo fail
	fi
}

# ping RTT avg (ms) from p1 to ADDR over 20 pings.
ping_ms()
{
	lab_exec p1 ping -c 20 -i 0.1 -W 2 -q "$1" 2>/dev/null | awk -F/ '/^rtt/ {print $5}' |
		grep . || echo fail
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }

mesh_build 2
mesh_hub_start || exit 1

echo "== raw veth"
raw_mbps=$(iperf_mbps "$(mesh_lan_ip 2)" 5301)
raw_ms=$(ping_ms "$(mesh_lan_ip 2)")
echo "raw: $raw_mbps Mbit/s, $raw_ms ms"

echo "== riftgate (data channels)"
t0=$(date +%s.%N)
mesh_peer_start 1
mesh_peer_start 2
if mesh_wait_up 1 2 60; then
	up_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
else
	up_s=fail
	mesh_dump_logs
fi
mtu=$(lab_exec p1 cat "/sys/class/net/$(mesh_ifname 1)/mtu")
rg_mbps=$(iperf_mbps "$(mesh_tun_ip 2)" 5302)
rg_ms=$(ping_ms "$(mesh_tun_ip 2)")
echo "riftgate: up after $up_s s, mtu $mtu, $rg_mbps Mbit/s, $rg_ms ms"

echo "== idle CPU of both agents over $IDLE_S s"
hz=$(getconf CLK_TCK)
c1=$(cpu_ticks "${MESH_PID[1]}"); c2=$(cpu_ticks "${MESH_PID[2]}")
sleep "$IDLE_S"
d1=$(( $(cpu_ticks "${MESH_PID[1]}") - c1 )); d2=$(( $(cpu_ticks "${MESH_PID[2]}") - c2 ))
idle_pct=$(awk -v t=$((d1 + d2)) -v hz="$hz" -v s="$IDLE_S" 'BEGIN { printf "%.2f", 100 * t / hz / s / 2 }')
echo "idle: $idle_pct % of a core per agent (average of the two)"
mesh_peer_stop 1; mesh_peer_stop 2

wg_mbps=n/a; wg_ms=n/a
WGD="$MESH_BUILD/src/cli/riftgate-wg"
if [ -x "$WGD" ]; then
	echo "== riftgate-wg over UDP (MTU 1420)"
	for i in 1 2; do
		(umask 077; wg genkey >"$work/wg$i.key")
		lab_exec "p$i" env WG_PROCESS_FOREGROUND=1 "$WGD" -f "rgbtw$i" >"$work/wgd$i.log" 2>&1 &
		LAB_PIDS+=("$!")
	done
	for i in 1 2; do
		lab_wait 10 "riftgate-wg $i" test -S "/var/run/wireguard/rgbtw$i.sock" || break
	done
	for i in 1 2; do
		j=$((3 - i))
		lab_exec "p$i" wg set "rgbtw$i" private-key "$work/wg$i.key" listen-port 51820 \
			peer "$(wg pubkey <"$work/wg$j.key")" endpoint "$(mesh_lan_ip "$j"):51820" \
			allowed-ips "10.98.110.$j/32"
		lab_exec "p$i" ip addr add "10.98.110.$i/24" dev "rgbtw$i"
		lab_exec "p$i" ip link set "rgbtw$i" up
	done
	if lab_wait 15 "wg-udp ping" lab_ping p1 10.98.110.2; then
		wg_mbps=$(iperf_mbps 10.98.110.2 5303)
		wg_ms=$(ping_ms 10.98.110.2)
	else
		wg_mbps=fail; wg_ms=fail
	fi
	echo "riftgate-wg: $wg_mbps Mbit/s, $wg_ms ms"
fi

mkdir -p "$(dirname "$out")"
cat >"$out" <<EOT
# Tunnel benchmark

Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)),
load average at the end $(cut -d' ' -f1-3 /proc/loadavg) (other work shares the machine: figures vary run to run).
Two peer namespaces and a hub namespace on one bridge (veth), all on this machine. iperf3 TCP,
one stream, ${T} s, peer1 → peer2; ping: average of 20.
Command: \`bash bench/tunnel.sh $build\`

| path | Mbit/s | ratio to raw | ping ms | MTU |
|---|---|---|---|---|
| raw veth + bridge | $raw_mbps | 1.00 | $raw_ms | 1500 |
| riftgate (WireGuard over data channels) | $rg_mbps | $(ratio "$rg_mbps" "$raw_mbps") | $rg_ms | $mtu |
| riftgate-wg (WireGuard over UDP) | $wg_mbps | $(ratio "$wg_mbps" "$raw_mbps") | $wg_ms | 1420 |

- riftgate / riftgate-wg throughput: $(ratio "$rg_mbps" "$wg_mbps")
- target: ≥ 700 Mbit/s through the data-channel tunnel: $(awk -v a="$rg_mbps" 'BEGIN { print (a + 0 >= 700) ? "met" : "NOT met" }')
- tunnel up $up_s s after both agents were started (first ping through the tunnel)
- idle CPU, 2 peers, over ${IDLE_S} s: $idle_pct % of one core per agent
EOT
echo "== results written to $out"
cat "$out"
