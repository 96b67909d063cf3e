#!/usr/bin/env bash
# NAT traversal benchmark (tests/lab/nat.sh), measured in one run:
#   time to first packet per NAT pair: both agents start fresh (own hub), seconds until a ping
#   through the tunnel first succeeds (polled every 0.2 s), and the candidate type chosen
#   throughput: iperf3 TCP through the tunnel for a direct pair (full-cone <-> full-cone) and a
#   relayed pair (symmetric <-> symmetric via coturn), same machine, same run
#   recovery after a network change: port-restricted (peer3, offerer) <-> full-cone (peer5),
#     both pinging each other every 0.1 s; the offerer's router, then the answerer's router is
#     renumbered, then the offerer's own LAN address changes: seconds to the first detection,
#     from it to traffic back both ways, and how (ICE restart in place or a reconnect)
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

# ---- recovery after a network change
log_epoch() { while read -r t; do date -u -d "$t" +%s.%N; done; }
first_reply() { grep -oE '^\[[0-9.]+\] [0-9]+ bytes from' "$1" | tr -d '[]' | awk -v d="$2" '$1 > d {print $1; exit}'; }
change_lan_ip()	# I OCTET
{
	local i=$1 dev
	dev=$(lab_exec "p$i" ip -o -4 addr show | awk -v a="$(nat_lan_ip "$i")/24" '$4 == a {print $2}')
	lab_exec "p$i" ip addr del "$(nat_lan_ip "$i")/24" dev "$dev" &&
		lab_exec "p$i" ip addr add "198.19.$i.$2/24" dev "$dev" &&
		lab_exec "p$i" ip route replace default via "198.19.$i.1"
}
since_mark() { sed -n "/=== $2/,\$p" "$MESH_DIR/p$1.log"; }
recovery()	# LABEL CMD...: sets RC_ROW
{
	local label=$1 t0 td tr a b how pa pb; shift
	lab_bg p3 "$work/ping3.log" ping -D -i 0.1 -W 1 "$(nat_tun_ip 5)"; pa=$LAB_LAST_PID
	lab_bg p5 "$work/ping5.log" ping -D -i 0.1 -W 1 "$(nat_tun_ip 3)"; pb=$LAB_LAST_PID
	sleep 1
	for k in 3 5; do echo "=== $label" >>"$MESH_DIR/p$k.log"; done
	t0=$(date +%s.%N)
	"$@"
	lab_wait 40 "recovery ($label)" lab_exec p5 ping -c 1 -W 0.3 -q "$(nat_tun_ip 3)" >/dev/null
	lab_wait 10 "recovery ($label)" lab_exec p3 ping -c 1 -W 0.3 -q "$(nat_tun_ip 5)" >/dev/null
	sleep 1
	lab_stop "$pa" INT 5; lab_stop "$pb" INT 5
	td=$(for k in 3 5; do since_mark "$k" "$label" |
		grep -E "ICE path lost|local addresses changed|connection failed" | head -1 | awk '{print $1" "$2}'; done |
		log_epoch | sort -n | head -1)
	a=$(first_reply "$work/ping3.log" "${td:-0}"); b=$(first_reply "$work/ping5.log" "${td:-0}")
	tr=$(printf '%s\n' "$a" "$b" | sort -n | tail -1)
	how="reconnect"
	since_mark 3 "$label" | grep -q "ICE restart complete" &&
		! since_mark 3 "$label" | grep -q "offering (attempt" && how="ICE restart in place"
	if [ -n "$td" ] && [ -n "$a" ] && [ -n "$b" ]; then
		RC_ROW="| $label | $(awk -v x="$td" -v y="$t0" 'BEGIN {printf "%.1f", x - y}') | $(awk -v x="$tr" -v y="$td" 'BEGIN {printf "%.2f", x - y}') | $how |"
	else
		RC_ROW="| $label | fail | fail | $how |"
	fi
	echo "$RC_ROW"
	: >"$work/ping3.log"; : >"$work/ping5.log"
}
first_ping 3 5
rc_rows=""
if [ "$FP_S" != fail ]; then
	recovery "offerer's router renumbered" nat_change_public_ip 3 43; rc_rows+="$RC_ROW"$'\n'
	recovery "answerer's router renumbered" nat_change_public_ip 5 45; rc_rows+="$RC_ROW"$'\n'
	recovery "offerer's LAN address changed" change_lan_ip 3 9; rc_rows+="$RC_ROW"$'\n'
fi
stop_pair 3 5

{
	echo "# NAT traversal figures"
	echo
	san=; grep -q fsanitize "$build/build.ninja" 2>/dev/null && san=", ASan+UBSan"
	echo "Command: \`sudo bash bench/nat.sh $(basename "$build")\` ($(date -u +%F), $(nproc) cores$san;"
	echo "other processes shared the machine: figures vary run to run)."
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
	echo
	echo "## Recovery after a network change (same run)"
	echo
	echo "port-restricted (peer3, offerer) <-> full-cone (peer5), both pinging each other every"
	echo "0.1 s through the tunnel. Detected: the first 'ICE path lost' / 'local addresses changed'"
	echo "line either agent logs after the change; back: the first echo reply in both directions"
	echo "after that (docs/nat.md, \"Network changes\")."
	echo
	echo "| change | detected after (s) | traffic back after detection (s) | how |"
	echo "| --- | --- | --- | --- |"
	printf '%s' "$rc_rows"
} >"$out"
cat "$out"
