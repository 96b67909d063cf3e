#!/usr/bin/env bash
# Data-channel throughput: ours<->ours against pion<->pion in the same run.
#   bench/datachannel.sh [BUILD_DIR]      (make bench passes the release build dir)
# Two network namespaces joined by a veth pair (10.99.0.1/30 <-> 10.99.0.2/30, inside the
# namespaces only); the offerer sends 1150-byte unordered maxRetransmits=0 messages as fast as
# its channel accepts them for BENCH_SECONDS (10); the answerer counts. Each peer is pinned to
# one core (taskset) when the machine has two or more. Figures go to stdout and to
# bench/results/datachannel.md. If <build>/tests/rtc/rtc-peer is absent, pion<->pion and
# aiortc<->aiortc are measured instead (and the report says so).
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=$(cd "${1:-$src/build-release}" && pwd)
secs=${BENCH_SECONDS:-10}
size=${BENCH_SIZE:-1150}
py=/usr/bin/python3
results=$src/bench/results/datachannel.md
[ "$(id -u)" -eq 0 ] || { echo "datachannel.sh: needs root (ip netns)" >&2; exit 1; }

tag=$$
nsa=rgri-bA-$tag nsb=rgri-bB-$tag
va=rgriba$tag vb=rgribb$tag
tmp=$(mktemp -d /tmp/rg-bench-dc.XXXXXX)
cleanup() {
	ip netns del "$nsa" 2>/dev/null || true
	ip netns del "$nsb" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

ip netns add "$nsa"
ip netns add "$nsb"
ip link add "$va" netns "$nsa" type veth peer name "$vb" netns "$nsb"
ip -n "$nsa" addr add 10.99.0.1/30 dev "$va"
ip -n "$nsb" addr add 10.99.0.2/30 dev "$vb"
for n in "$nsa" "$nsb"; do ip -n "$n" link set lo up; done
ip -n "$nsa" link set "$va" up
ip -n "$nsb" link set "$vb" up
# Wait (bounded) until the link answers.
for _ in $(seq 50); do
	ip netns exec "$nsa" ping -c1 -W1 10.99.0.2 >/dev/null 2>&1 && break
	sleep 0.1
done

pin_a="" pin_b=""
if [ "$(nproc)" -ge 2 ]; then pin_a="taskset -c 0"; pin_b="taskset -c 1"; fi

ours=$build/tests/rtc/rtc-peer
pion=$(bash "$src/tests/interop/rtc/build-pion.sh" "$build")
pairs=()
if [ -x "$ours" ]; then
	pairs+=("ours:$ours" "pion:$pion")
	note=""
else
	pairs+=("pion:$pion" "aiortc:$py $src/tests/interop/rtc/aiortc_peer.py")
	note="**rtc-peer was not built ($ours absent): ours<->ours not measured; pion<->pion and aiortc<->aiortc instead.**"
	echo "datachannel.sh: $note" >&2
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
flags="--bench $secs --size $size --ordered 0 --max-retransmits 0 --timeout $((secs + 40))"
declare -A line
for p in "${pairs[@]}"; do
	name=${p%%:*} cmd=${p#*:}
	echo "== $name <-> $name: ${secs}s of ${size}-byte unordered maxRetransmits=0 messages" >&2
	if ! RG_PEER_QUIET=1 "$py" "$src/tests/interop/rtc/relay.py" --timeout $((secs + 60)) \
		--netns-a "$nsa" --netns-b "$nsb" --name-a "$name-offer" --name-b "$name-answer" \
		--results "$tmp/$name.json" \
		--a "$pin_a $cmd --role offer --ice-addr 10.99.0.1 $flags" \
		--b "$pin_b $cmd --role answer --ice-addr 10.99.0.2 $flags" >"$tmp/$name.verdict" 2>"$tmp/$name.log"; then
		echo "datachannel.sh: $name run failed: $(cat "$tmp/$name.verdict")" >&2
		tail -20 "$tmp/$name.log" >&2
	fi
	line[$name]=$("$py" - "$tmp/$name.json" "$name" <<'EOF'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print("%s|FAILED|||||||" % sys.argv[2]); sys.exit(0)
a, b = r.get("a") or {}, r.get("b") or {}
ba, bb = a.get("bench") or {}, b.get("bench") or {}
sent, recv = ba.get("messages", 0), bb.get("messages", 0)
s = bb.get("seconds") or 0
rate = recv / s if s else 0
mbit = bb.get("bytes", 0) * 8 / s / 1e6 if s else 0
loss = 100.0 * (1 - recv / sent) if sent else 100.0
ca, cb = (r.get("cpu") or {}).get("a") or {}, (r.get("cpu") or {}).get("b") or {}
print("%s|%s|%d|%d|%.0f|%.1f|%.1f|%s|%s" % (sys.argv[2], "ok" if r.get("ok") else "FAILED",
      sent, recv, rate, mbit, loss, ca.get("percent", "?"), cb.get("percent", "?")))
EOF
)
done

cmdline="bash bench/datachannel.sh $build"
{
	echo "# Data-channel benchmark"
	echo
	echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"
	echo "${secs} s of ${size}-byte messages, unordered, maxRetransmits=0, offerer sends as fast as"
	echo "its channel accepts; two netns joined by a veth pair; offerer pinned to core 0, answerer to core 1."
	echo "Command: \`$cmdline\` (peer flags: \`$flags\`)."
	echo "Load average before the runs: $load_before (other work on the machine skews these figures)."
	[ -n "$note" ] && { echo; echo "$note"; }
	echo
	echo "| pair | run | sent msgs | received msgs | received msg/s | Mbit/s (payload) | loss % | CPU % sender | CPU % receiver |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for p in "${pairs[@]}"; do
		name=${p%%:*}
		echo "| $name<->$name | $(echo "${line[$name]}" | cut -d'|' -f2- | sed 's/|/ | /g') |"
	done
	echo
	n1=${pairs[0]%%:*} n2=${pairs[1]%%:*}
	r1=$(echo "${line[$n1]}" | cut -d'|' -f5) r2=$(echo "${line[$n2]}" | cut -d'|' -f5)
	if [ -n "$r1" ] && [ -n "$r2" ] && [ "$r2" != 0 ]; then
		echo "Ratio $n1/$n2 (received msg/s): $(awk -v a="$r1" -v b="$r2" 'BEGIN{printf "%.2f", a/b}')"
	fi
	echo
	echo "Throughput is the receiver's count over its first-to-last message span; loss is"
	echo "1 - received/sent; CPU % is utime+stime from /proc/PID/stat over signaling-done -> result"
	echo "(100 % = one full core)."
} >"$tmp/report.md"
cat "$tmp/report.md"
mkdir -p "$(dirname "$results")"
cp "$tmp/report.md" "$results"
