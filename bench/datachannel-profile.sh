#!/usr/bin/env bash
# Profile helper for raw data channels: one ours<->ours run of the datachannel.sh workload
# (1150-byte unordered maxRetransmits=0 messages) between two fresh namespaces, with each side's
# CPU per message and the UDP datagrams per message in both directions (/proc/net/snmp of each
# namespace), and with PERF=1 a `perf record` of both peers.
#   bash bench/datachannel-profile.sh BUILD_DIR [OUT_DIR]
# Env: BENCH_SECONDS (8), BENCH_SIZE (1150), PEER_FLAGS (extra rtc-peer flags, e.g.
#      "--no-more 1"), PERF=1 (OUT_DIR/offer.data, OUT_DIR/answer.data), PERF_ARGS (e.g.
#      "--call-graph dwarf,16384 -F 1500"). Alternate two build directories for an A/B.
set -euo pipefail
shopt -s inherit_errexit
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build-release}" && pwd)
out=${2:-/tmp/rg-dcprof}
secs=${BENCH_SECONDS:-8}
size=${BENCH_SIZE:-1150}
py=/usr/bin/python3
[ "$(id -u)" -eq 0 ] || { echo "datachannel-profile.sh: needs root (ip netns)" >&2; exit 1; }
ours=$build/tests/rtc/rtc-peer
[ -x "$ours" ] || { echo "datachannel-profile.sh: $ours not built" >&2; exit 1; }
mkdir -p "$out"
rm -f "$out/res.json" "$out/snmp"

tag=$$
nsa=rgri-pA-$tag nsb=rgri-pB-$tag
va=rgripa$tag vb=rgripb$tag
cleanup() {
	ip netns del "$nsa" 2>/dev/null || true
	ip netns del "$nsb" 2>/dev/null || true
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
for _ in $(seq 50); do
	ip netns exec "$nsa" ping -c1 -W1 10.99.0.2 >/dev/null 2>&1 && break
	sleep 0.1
done

pin_a="" pin_b=""
if [ "$(nproc)" -ge 2 ]; then pin_a="taskset -c 0"; pin_b="taskset -c 1"; fi
perf_a="" perf_b=""
if [ -n "${PERF:-}" ]; then
	perf_a="perf record ${PERF_ARGS:-} -o $out/offer.data --"
	perf_b="perf record ${PERF_ARGS:-} -o $out/answer.data --"
fi
flags="--bench $secs --size $size --ordered 0 --max-retransmits 0 --timeout $((secs + 40)) ${PEER_FLAGS:-}"
if ! RG_PEER_QUIET=1 "$py" "$src/tests/interop/rtc/relay.py" --timeout $((secs + 60)) \
	--netns-a "$nsa" --netns-b "$nsb" --name-a offer --name-b answer --results "$out/res.json" \
	--a "$pin_a $perf_a $ours --role offer --ice-addr 10.99.0.1 $flags" \
	--b "$pin_b $perf_b $ours --role answer --ice-addr 10.99.0.2 $flags" \
	>"$out/verdict" 2>"$out/log"; then
	echo "datachannel-profile.sh: run failed: $(cat "$out/verdict")" >&2
	tail -20 "$out/log" >&2
	exit 1
fi
# Udp: InDatagrams (field 2 of the line after the header) counts datagrams as received, after
# GSO segmentation; OutDatagrams would count one per GSO send.
for n in "$nsa" "$nsb"; do
	ip netns exec "$n" awk '/^Udp:/ { getline; print $2; exit }' /proc/net/snmp
done >"$out/snmp"

"$py" - "$out/res.json" "$out/snmp" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))
a, b = res["a"]["bench"], res["b"]["bench"]
a_in, b_in = [int(l) for l in open(sys.argv[2])]
msgs, secs = b["messages"], b["seconds"]
mbit = b["bytes"] * 8 / secs / 1e6
cpu_a = 100.0 * a["cpu_seconds"] / a["seconds"]
cpu_b = 100.0 * b["cpu_seconds"] / b["seconds"]
print("ok=%s sent=%d received=%d %.1f Mbit/s" % (res.get("ok"), a["messages"], msgs, mbit))
print("CPU %%: sender %.1f receiver %.1f; Mbit/s per CPU: sender %.0f receiver %.0f" % (
    cpu_a, cpu_b, mbit / (cpu_a / 100) if cpu_a else 0, mbit / (cpu_b / 100) if cpu_b else 0))
print("CPU us per message: sender %.2f receiver %.2f" % (
    1e6 * a["cpu_seconds"] / msgs if msgs else 0, 1e6 * b["cpu_seconds"] / msgs if msgs else 0))
if msgs:
    print("UDP datagrams per message: sender->receiver %.2f, receiver->sender %.2f" % (
        b_in / msgs, a_in / msgs))
EOF
