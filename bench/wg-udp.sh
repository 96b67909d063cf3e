#!/usr/bin/env bash
# Benchmark: iperf3 TCP through a userspace WireGuard tunnel between two network namespaces,
# (a) riftgate-wg <-> riftgate-wg and (b) wireguard-go <-> wireguard-go, in the same run, same
# MTU (1420). Prints throughput, daemon CPU seconds per Gbit transferred and the ratio; writes
# bench/results/wg-udp.md. Usage: bench/wg-udp.sh BUILD_DIR [SECONDS] [ROUNDS]
set -u
umask 077
build=${1:-build-release}; secs=${2:-10}; rounds=${3:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
RGWG=$(cd "$build" 2>/dev/null && pwd)/src/cli/riftgate-wg
[ -x "$RGWG" ] || { echo "wg-udp: $RGWG not built (make release)"; exit 1; }
command -v wireguard-go >/dev/null && command -v iperf3 >/dev/null || { echo "wg-udp: needs wireguard-go and iperf3"; exit 1; }
source "$root/tests/interop/wg/lib.sh"
id=$(( $$ % 100000 ))
wgl_init "rgwg-b$id-"
wgl_pair a b || exit 1
A=$(wgl_ns a) B=$(wgl_ns b)
for k in a b; do wg genkey > "$WGL_TMP/$k.key"; wg pubkey < "$WGL_TMP/$k.key" > "$WGL_TMP/$k.pub"; done
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run_one NAME IMPL: starts IMPL on both sides, runs iperf3, echoes "mbit cpu_s_per_gbit".
run_one()
{
	local name=$1 impl=$2 ia="rgwg${id}${1}a" ib="rgwg${id}${1}b" pa pb t0a t0b t1a t1b out mbit gbits cpu
	wgl_start a "$ia" "$WGL_TMP/$name-a.log" $impl || return 1; pa=$WGL_LASTPID
	wgl_start b "$ib" "$WGL_TMP/$name-b.log" $impl || return 1; pb=$WGL_LASTPID
	wgl_conf a "$ia" 10.79.0.1/24 "$WGL_TMP/a.key" 51830 && wgl_conf b "$ib" 10.79.0.2/24 "$WGL_TMP/b.key" 51831 || return 1
	ip netns exec "$A" wg set "$ia" peer "$(cat "$WGL_TMP/b.pub")" allowed-ips 10.79.0.2/32 endpoint 192.168.77.2:51831
	ip netns exec "$B" wg set "$ib" peer "$(cat "$WGL_TMP/a.pub")" allowed-ips 10.79.0.1/32 endpoint 192.168.77.1:51830
	wgl_wait 20 ip netns exec "$A" ping -c1 -W1 10.79.0.2 || { echo "wg-udp: $name: no tunnel" >&2; return 1; }
	ip netns exec "$B" iperf3 -s -1 -B 10.79.0.2 -p 5301 >/dev/null 2>&1 &
	wgl_wait 10 bash -c "ip netns exec $B ss -ltn 'sport = :5301' | grep -q 5301"
	t0a=$(cpu_ticks "$pa"); t0b=$(cpu_ticks "$pb")
	local perfpid=
	if [ -n "${PERF_DATA:-}" ]; then
		perf record -q -F 999 -o "$PERF_DATA" -p "$pa" -- sleep $((secs > 4 ? secs - 2 : 2)) >/dev/null 2>&1 &
		perfpid=$!
	fi
	out=$(ip netns exec "$A" timeout $((secs + 20)) iperf3 -c 10.79.0.2 -p 5301 -t "$secs" -J 2>/dev/null)
	t1a=$(cpu_ticks "$pa"); t1b=$(cpu_ticks "$pb")
	[ -n "$perfpid" ] && wait "$perfpid"
	kill "$pa" "$pb"; wait "$pa" "$pb" 2>/dev/null
	rm -f "/var/run/wireguard/$ia.sock" "/var/run/wireguard/$ib.sock"
	/usr/bin/python3 - "$out" "$((t1a - t0a + t1b - t0b))" "$hz" <<'PY'
import json, sys
d = json.loads(sys.argv[1]); ticks = int(sys.argv[2]); hz = int(sys.argv[3])
bits = d["end"]["sum_received"]["bytes"] * 8; secs = d["end"]["sum_received"]["seconds"]
cpu = ticks / hz
print("%.0f %.2f" % (bits / secs / 1e6, cpu / (bits / 1e9)))
PY
}

declare -a ours=() go=() plain=()
perf_data=
command -v perf >/dev/null && perf_data="$WGL_TMP/perf.data"
for r in $(seq "$rounds"); do
	o=$(PERF_DATA=$([ "$r" = 1 ] && echo "$perf_data") run_one r "$RGWG") || o="0 0"; ours+=("$o")
	g=$(run_one g wireguard-go) || g="0 0"; go+=("$g")
	p=$(RG_WG_NO_OFFLOAD=1 run_one p "$RGWG") || p="0 0"; plain+=("$p")
	echo "round $r: riftgate-wg $o | wireguard-go $g | riftgate-wg without offloads $p   (Mbit/s, daemon CPU s per Gbit)"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
om=$(median $(printf '%s\n' "${ours[@]}" | cut -d' ' -f1)); oc=$(median $(printf '%s\n' "${ours[@]}" | cut -d' ' -f2))
gm=$(median $(printf '%s\n' "${go[@]}" | cut -d' ' -f1)); gc=$(median $(printf '%s\n' "${go[@]}" | cut -d' ' -f2))
pm=$(median $(printf '%s\n' "${plain[@]}" | cut -d' ' -f1)); pc=$(median $(printf '%s\n' "${plain[@]}" | cut -d' ' -f2))
ratio=$(awk -v a="$om" -v b="$gm" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
cpuratio=$(awk -v a="$oc" -v b="$gc" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
echo "riftgate-wg <-> riftgate-wg: $om Mbit/s, $oc CPU s/Gbit"
echo "riftgate-wg without offloads: $pm Mbit/s, $pc CPU s/Gbit"
echo "wireguard-go <-> wireguard-go: $gm Mbit/s, $gc CPU s/Gbit"
echo "ratio (throughput ours/go): ${ratio}x; CPU efficiency (go/ours): ${cpuratio}x"
mkdir -p "$root/bench/results"
{
	echo "# riftgate-wg vs wireguard-go over UDP (iperf3 TCP, MTU 1420, two netns on one veth)"
	echo
	echo "Command: \`bash bench/wg-udp.sh $build $secs $rounds\` (also run by \`make bench\`)  "
	echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(nproc) CPUs, $(uname -r); wireguard-go $(dpkg-query -W -f='${Version}' wireguard-go 2>/dev/null)"
	echo
	echo "| round | riftgate-wg Mbit/s | riftgate-wg CPU s/Gbit | wireguard-go Mbit/s | wireguard-go CPU s/Gbit | riftgate-wg, no offloads, Mbit/s | CPU s/Gbit |"
	echo "|---|---|---|---|---|---|---|"
	for i in "${!ours[@]}"; do
		read -r a b <<<"${ours[$i]}"; read -r c d <<<"${go[$i]}"; read -r e f <<<"${plain[$i]}"
		echo "| $((i + 1)) | $a | $b | $c | $d | $e | $f |"
	done
	echo "| **median** | **$om** | **$oc** | **$gm** | **$gc** | $pm | $pc |"
	echo
	echo "Throughput ratio riftgate-wg / wireguard-go: **${ratio}x**; CPU per Gbit, wireguard-go / riftgate-wg: **${cpuratio}x**."
	echo "\"No offloads\" is riftgate-wg with RG_WG_NO_OFFLOAD=1: no TUN TSO/GRO, no UDP GSO/GRO (one syscall per packet on the TUN)."
	echo "CPU = user+system time of both tunnel daemons over the iperf3 run (from /proc/PID/stat) divided by Gbit received."
	echo "Load while measuring (1/5/15 min): $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs; other work on the host skews throughput more than CPU per Gbit."
	if [ -n "$perf_data" ] && [ -s "$perf_data" ]; then
		echo
		echo "## Where the sending riftgate-wg spends its time (perf, round 1)"
		echo
		echo '```'
		perf report -i "$perf_data" --no-children --sort dso -g none 2>/dev/null | grep '%' | sed 's/ *- *- *$//' | head -6
		echo
		perf report -i "$perf_data" --no-children --sort dso,symbol -g none 2>/dev/null | grep '%' | sed 's/ *- *- *$//' | head -15
		echo '```'
	fi
} > "$root/bench/results/wg-udp.md"
echo "wrote bench/results/wg-udp.md"
