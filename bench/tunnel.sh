#!/usr/bin/env bash
# Tunnel benchmark: two peers in network namespaces on one bridge, measured in the same run:
#   raw      iperf3 / ping between the namespaces' LAN addresses (veth + bridge, no tunnel)
#   direct   iperf3 / ping through riftgate up with the direct path (WireGuard on the ICE 5-tuple,
#            the default between riftgate peers; hub in a ns)
#   datachan iperf3 / ping through riftgate up with [webrtc] direct_path = false (DTLS/SCTP)
#   wg-udp   iperf3 / ping through riftgate-wg over plain UDP (if built), MTU 1420
#   wg-go    iperf3 / ping through wireguard-go over plain UDP (if installed), MTU 1420
# plus the tunnel-up time after both agents start and the agents' idle CPU over IDLE_S seconds.
# Ping: 20 pings, average and median (p50); "added latency" = tunnel p50 - raw veth p50.
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

# ping RTT from p1 to ADDR over 20 pings: "avg p50" (ms).
ping_ms()
{
	lab_exec p1 ping -c 20 -i 0.1 -W 2 "$1" 2>/dev/null | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' |
		sort -n | awk '{ t[NR] = $1; s += $1 }
			END { if (!NR) { print "fail fail"; exit }
			      printf "%.3f %.3f\n", s / NR,
				     (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2 }'
}

# path of peer 2 as peer 1's agent sees it ("direct", "data channel", ...)
rg_path() { mesh_status 1 --json 2>/dev/null | jq -r '.peers[] | select(.peerId == "peer2") | .path'; }
rg_direct() { [ "$(rg_path)" = direct ]; }

# a userspace WireGuard over UDP between p1 and p2 (MTU 1420): BIN NAME IFSTEM NET PORT
udp_wg()
{
	local bin=$1 name=$2 stem=$3 net=$4 port=$5 i j
	for i in 1 2; do
		(umask 077; wg genkey >"$work/$stem$i.key")
		# not through lab_exec: a function in the background is a subshell, and $! must be
		# the daemon (its CPU time is read from /proc)
		ip netns exec "$(lab_ns "p$i")" env WG_PROCESS_FOREGROUND=1 "$bin" -f "$stem$i" \
			>"$work/$stem$i.log" 2>&1 &
		LAB_PIDS+=("$!")
		eval "${stem}_pid$i=$!"
	done
	for i in 1 2; do
		lab_wait 10 "$name $i" test -S "/var/run/wireguard/$stem$i.sock" || return 1
	done
	for i in 1 2; do
		j=$((3 - i))
		lab_exec "p$i" wg set "$stem$i" private-key "$work/$stem$i.key" listen-port "$port" \
			peer "$(wg pubkey <"$work/$stem$j.key")" endpoint "$(mesh_lan_ip "$j"):$port" \
			allowed-ips "$net.$j/32"
		lab_exec "p$i" ip addr add "$net.$i/24" dev "$stem$i"
		lab_exec "p$i" ip link set "$stem$i" mtu 1420 up
	done
	lab_wait 15 "$name ping" lab_ping p1 "$net.2"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# iperf_cpu ADDR PORT PID1 PID2: iperf_mbps, then " PER_CPU": Mbit/s divided by the CPU share
# (of one core) of the busier of the two tunnel processes during the run, which depends less on
# what else the machine runs than Mbit/s does.
iperf_cpu()
{
	local a1 a2 b1 b2 t0 t1 m hz
	hz=$(getconf CLK_TCK)
	a1=$(cpu_ticks "$3"); a2=$(cpu_ticks "$4"); t0=$(date +%s.%N)
	m=$(iperf_mbps "$1" "$2")
	b1=$(cpu_ticks "$3"); b2=$(cpu_ticks "$4"); t1=$(date +%s.%N)
	awk -v m="$m" -v d1=$((b1 - a1)) -v d2=$((b2 - a2)) -v hz="$hz" -v t0="$t0" -v t1="$t1" \
		'BEGIN { d = (d1 > d2 ? d1 : d2) / hz; s = t1 - t0
			 if (m + 0 > 0 && d > 0) printf "%s %.0f\n", m, m / (d / s); else printf "%s n/a\n", m }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }

mesh_build 2
mesh_hub_start || exit 1

echo "== raw veth"
raw_mbps=$(iperf_mbps "$(mesh_lan_ip 2)" 5301)
raw_ms=$(ping_ms "$(mesh_lan_ip 2)")
read -r raw_ms raw_p50 <<<"$raw_ms"
echo "raw: $raw_mbps Mbit/s, $raw_ms ms (p50 $raw_p50)"

echo "== riftgate, direct path (WireGuard on the ICE 5-tuple)"
t0=$(date +%s.%N)
mesh_peer_start 1
mesh_peer_start 2
if mesh_wait_up 1 2 60; then
	up_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
else
	up_s=fail
	mesh_dump_logs
fi
lab_wait 15 "direct path" rg_direct
dp_path=$(rg_path)
mtu=$(lab_exec p1 cat "/sys/class/net/$(mesh_ifname 1)/mtu")
read -r dp_mbps dp_cpu <<<"$(iperf_cpu "$(mesh_tun_ip 2)" 5302 "${MESH_PID[1]}" "${MESH_PID[2]}")"
read -r dp_ms dp_p50 <<<"$(ping_ms "$(mesh_tun_ip 2)")"
dp_after=$(rg_path)
echo "direct: up after $up_s s, path $dp_path (after: $dp_after), mtu $mtu, $dp_mbps Mbit/s, $dp_ms ms (p50 $dp_p50)"

echo "== idle CPU of both agents over $IDLE_S s"
hz=$(getconf CLK_TCK)
c1=$(cpu_ticks "${MESH_PID[1]}"); c2=$(cpu_ticks "${MESH_PID[2]}")
sleep "$IDLE_S"
d1=$(( $(cpu_ticks "${MESH_PID[1]}") - c1 )); d2=$(( $(cpu_ticks "${MESH_PID[2]}") - c2 ))
idle_pct=$(awk -v t=$((d1 + d2)) -v hz="$hz" -v s="$IDLE_S" 'BEGIN { printf "%.2f", 100 * t / hz / s / 2 }')
echo "idle: $idle_pct % of a core per agent (average of the two)"
mesh_peer_stop 1; mesh_peer_stop 2

echo "== riftgate, data channel ([webrtc] direct_path = false)"
for i in 1 2; do
	sed -i 's/^max_retransmits = 0$/max_retransmits = 0\ndirect_path = false/' "$MESH_DIR/p$i.toml"
done
mesh_peer_start 1
mesh_peer_start 2
mesh_wait_up 1 2 60 || mesh_dump_logs
rg_path_seen=$(rg_path)
rg_mtu=$(lab_exec p1 cat "/sys/class/net/$(mesh_ifname 1)/mtu")
read -r rg_mbps rg_cpu <<<"$(iperf_cpu "$(mesh_tun_ip 2)" 5304 "${MESH_PID[1]}" "${MESH_PID[2]}")"
read -r rg_ms rg_p50 <<<"$(ping_ms "$(mesh_tun_ip 2)")"
echo "data channel: path $rg_path_seen, mtu $rg_mtu, $rg_mbps Mbit/s, $rg_ms ms (p50 $rg_p50)"
mesh_peer_stop 1; mesh_peer_stop 2

wg_mbps=n/a; wg_ms=n/a; wg_p50=n/a; wg_cpu=n/a
WGD="$MESH_BUILD/src/cli/riftgate-wg"
if [ -x "$WGD" ]; then
	echo "== riftgate-wg over UDP (MTU 1420)"
	if udp_wg "$WGD" riftgate-wg rgbtw 10.98.110 51820; then
		read -r wg_mbps wg_cpu <<<"$(iperf_cpu 10.98.110.2 5303 "$rgbtw_pid1" "$rgbtw_pid2")"
		read -r wg_ms wg_p50 <<<"$(ping_ms 10.98.110.2)"
	else
		wg_mbps=fail; wg_ms=fail
	fi
	kill "$rgbtw_pid1" "$rgbtw_pid2" 2>/dev/null; wait "$rgbtw_pid1" "$rgbtw_pid2" 2>/dev/null
	echo "riftgate-wg: $wg_mbps Mbit/s, $wg_ms ms (p50 $wg_p50)"
fi

go_mbps=n/a; go_ms=n/a; go_p50=n/a; go_cpu=n/a
if command -v wireguard-go >/dev/null; then
	echo "== wireguard-go over UDP (MTU 1420)"
	if udp_wg "$(command -v wireguard-go)" wireguard-go rgbtg 10.98.111 51821; then
		read -r go_mbps go_cpu <<<"$(iperf_cpu 10.98.111.2 5305 "$rgbtg_pid1" "$rgbtg_pid2")"
		read -r go_ms go_p50 <<<"$(ping_ms 10.98.111.2)"
	else
		go_mbps=fail; go_ms=fail
	fi
	kill "$rgbtg_pid1" "$rgbtg_pid2" 2>/dev/null; wait "$rgbtg_pid1" "$rgbtg_pid2" 2>/dev/null
	echo "wireguard-go: $go_mbps Mbit/s, $go_ms ms (p50 $go_p50)"
fi
added=$(awk -v a="$dp_p50" -v b="$raw_p50" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.3f", a - b; else print "n/a" }')

mkdir -p "$(dirname "$out")"
cat >"$out" <<EOT
# Tunnel benchmark

Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)),
load average at the end $(cut -d' ' -f1-3 /proc/loadavg) (other work shares the machine: figures vary run to run).
Two peer namespaces and a hub namespace on one bridge (veth), all on this machine. iperf3 TCP,
one stream, ${T} s, peer1 → peer2; ping: 20 pings, average and median (p50).
Command: \`BENCH_T=$T IDLE_S=$IDLE_S bash bench/tunnel.sh $build\`

| path | Mbit/s | ratio to raw | Mbit/s per CPU (busier process) | ping ms avg | p50 | MTU |
|---|---|---|---|---|---|---|
| raw veth + bridge | $raw_mbps | 1.00 | | $raw_ms | $raw_p50 | 1500 |
| riftgate, direct path (WireGuard on the ICE 5-tuple; status path: $dp_path) | $dp_mbps | $(ratio "$dp_mbps" "$raw_mbps") | $dp_cpu | $dp_ms | $dp_p50 | $mtu |
| riftgate, data channel (direct_path = false; status path: $rg_path_seen) | $rg_mbps | $(ratio "$rg_mbps" "$raw_mbps") | $rg_cpu | $rg_ms | $rg_p50 | $rg_mtu |
| riftgate-wg (WireGuard over UDP) | $wg_mbps | $(ratio "$wg_mbps" "$raw_mbps") | $wg_cpu | $wg_ms | $wg_p50 | 1420 |
| wireguard-go (WireGuard over UDP) | $go_mbps | $(ratio "$go_mbps" "$raw_mbps") | $go_cpu | $go_ms | $go_p50 | 1420 |

- direct path / riftgate-wg: $(ratio "$dp_mbps" "$wg_mbps") (target ≥ 0.9: $(awk -v r="$(ratio "$dp_mbps" "$wg_mbps")" 'BEGIN { print (r + 0 >= 0.9) ? "met" : "NOT met" }'))
- per CPU: direct path / riftgate-wg $(ratio "$dp_cpu" "$wg_cpu"), direct path / wireguard-go $(ratio "$dp_cpu" "$go_cpu"), direct path / data channel $(ratio "$dp_cpu" "$rg_cpu")
- direct path / wireguard-go: $(ratio "$dp_mbps" "$go_mbps") (target ≥ 4: $(awk -v r="$(ratio "$dp_mbps" "$go_mbps")" 'BEGIN { print (r + 0 >= 4) ? "met" : "NOT met" }'))
- direct path / data channel: $(ratio "$dp_mbps" "$rg_mbps"); data channel / riftgate-wg: $(ratio "$rg_mbps" "$wg_mbps")
- added latency of the direct path over raw veth at p50: $added ms (target ≤ 0.15: $(awk -v a="$added" 'BEGIN { print (a != "n/a" && a + 0 <= 0.15) ? "met" : "NOT met" }'))
- target: ≥ 700 Mbit/s through the data-channel tunnel: $(awk -v a="$rg_mbps" 'BEGIN { print (a + 0 >= 700) ? "met" : "NOT met" }')
- tunnel up $up_s s after both agents were started (first ping through the tunnel)
- idle CPU, 2 peers, over ${IDLE_S} s: $idle_pct % of one core per agent
EOT
echo "== results written to $out"
cat "$out"
