#!/usr/bin/env bash
# Data-channel throughput: ours<->ours against pion<->pion in the same run.
#   bench/datachannel.sh [BUILD_DIR]      (make bench passes the release build dir)
# Two network namespaces joined by a veth pair (10.99.0.1/30 <-> 10.99.0.2/30, inside the
# namespaces only); the offerer sends 1150-byte unordered maxRetransmits=0 messages as fast as
# its channel accepts them for BENCH_SECONDS (10); the answerer counts. Each peer is pinned to
# one core (taskset) when the machine has two or more; BENCH_ROUNDS (3) alternating rounds.
# Figures go to stdout and to
# bench/results/datachannel.md. ours<->ours runs twice: "ours" with the WebRTC path MTU of 1200
# like pion (the ratio compares these two), "ours-pmtu" probing the path MTU first as the agent
# does between riftgate peers (rtc-peer --probe-path-mtu 1). If <build>/tests/rtc/rtc-peer is
# absent, pion<->pion and aiortc<->aiortc are measured instead (and the report says so).
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
	pairs+=("ours:$ours" "pion:$pion" "ours-pmtu:$ours --probe-path-mtu 1")
	note=""
else
	pairs+=("pion:$pion" "aiortc:$py $src/tests/interop/rtc/aiortc_peer.py")
	note="**rtc-peer was not built ($ours absent): ours<->ours not measured; pion<->pion and aiortc<->aiortc instead.**"
	echo "datachannel.sh: $note" >&2
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
flags="--bench $secs --size $size --ordered 0 --max-retransmits 0 --timeout $((secs + 40))"
rounds=${BENCH_ROUNDS:-3}
names=()
for p in "${pairs[@]}"; do names+=("${p%%:*}"); done
# Rounds alternate the pairs so that changing load on the machine hits both alike.
for r in $(seq "$rounds"); do
	for p in "${pairs[@]}"; do
		name=${p%%:*} cmd=${p#*:}
		echo "== round $r: $name <-> $name, ${secs}s of ${size}-byte unordered maxRetransmits=0 messages" >&2
		if ! RG_PEER_QUIET=1 "$py" "$src/tests/interop/rtc/relay.py" --timeout $((secs + 60)) \
			--netns-a "$nsa" --netns-b "$nsb" --name-a "$name-offer" --name-b "$name-answer" \
			--results "$tmp/$name.$r.json" \
			--a "$pin_a $cmd --role offer --ice-addr 10.99.0.1 $flags" \
			--b "$pin_b $cmd --role answer --ice-addr 10.99.0.2 $flags" >"$tmp/$name.$r.verdict" 2>"$tmp/$name.$r.log"; then
			echo "datachannel.sh: $name round $r failed: $(cat "$tmp/$name.$r.verdict")" >&2
			tail -20 "$tmp/$name.$r.log" >&2
		fi
	done
done

"$py" - "$tmp" "$rounds" "$secs" "$size" "bash bench/datachannel.sh $build" "$flags" "$load_before" \
	"$(cut -d' ' -f1-3 /proc/loadavg)" "$note" "${names[@]}" >"$tmp/report.md" <<'EOF'
import json, os, subprocess, sys, time
tmp, rounds, secs, size, cmd, flags, load0, load1, note = sys.argv[1:10]
names = sys.argv[10:]
rounds = int(rounds)
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()
def row(name, r):
    try:
        res = json.load(open(os.path.join(tmp, "%s.%d.json" % (name, r))))
    except (OSError, ValueError):
        return None
    a, b = res.get("a") or {}, res.get("b") or {}
    ba, bb = a.get("bench") or {}, b.get("bench") or {}
    sent, recv = ba.get("messages", 0), bb.get("messages", 0)
    s = bb.get("seconds") or 0
    c = res.get("cpu") or {}
    return {"ok": bool(res.get("ok")), "sent": sent, "recv": recv,
            "rate": recv / s if s else 0.0,
            "mbit": bb.get("bytes", 0) * 8 / s / 1e6 if s else 0.0,
            "loss": 100.0 * (1 - recv / sent) if sent else 100.0,
            "cpu_a": (c.get("a") or {}).get("percent"), "cpu_b": (c.get("b") or {}).get("percent"),
            "mtu": b.get("path_mtu")}
print("# Data-channel benchmark\n")
print("Measured %s on %d cores (%s): %s s of %s-byte messages, unordered, maxRetransmits=0;"
      % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(), cpu, secs, size))
print("the offerer sends as fast as its channel accepts, the answerer counts; two netns joined by a")
print("veth pair (10.99.0.1 <-> 10.99.0.2); offerer pinned to core 0, answerer to core 1;")
print("%d rounds, pairs alternating.\n" % rounds)
print("Command: `%s` (peer flags: `%s`)." % (cmd, flags))
print("Load average before / after: %s / %s (other work on the machine lowers these figures)." % (load0, load1))
if note:
    print("\n" + note)
print("\n| pair | round | run | sent msgs | received msgs | received msg/s | Mbit/s (payload) | loss % | CPU % sender | CPU % receiver | Mbit/s per busiest-side CPU |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
best, best_core = {}, {}
for r in range(1, rounds + 1):
    for n in names:
        x = row(n, r)
        if x is None:
            print("| %s<->%s | %d | FAILED | | | | | | | | |" % (n, n, r))
            continue
        busiest = max(x["cpu_a"] or 0, x["cpu_b"] or 0)
        x["per_core"] = x["mbit"] / (busiest / 100.0) if busiest else 0.0
        print("| %s<->%s | %d | %s | %d | %d | %.0f | %.1f | %.1f | %s | %s | %.0f |" % (
            n, n, r, "ok" if x["ok"] else "FAILED", x["sent"], x["recv"], x["rate"], x["mbit"],
            x["loss"], x["cpu_a"], x["cpu_b"], x["per_core"]))
        if x["ok"] and (n not in best or x["rate"] > best[n]["rate"]):
            best[n] = x
        if x["ok"]:
            best_core[n] = max(best_core.get(n, 0.0), x["per_core"])
print()
for n in names:
    if n in best:
        print("Best %s<->%s: %.0f msg/s, %.1f Mbit/s, loss %.1f %%, %.0f Mbit/s per CPU of the busier side%s." % (
            n, n, best[n]["rate"], best[n]["mbit"], best[n]["loss"], best[n]["per_core"],
            ", path MTU %d" % best[n]["mtu"] if best[n].get("mtu") else ""))
if len(names) >= 2 and all(n in best for n in names[:2]) and best[names[1]]["rate"] > 0:
    print("\n**Ratio %s/%s (best received msg/s): %.2f**" % (names[0], names[1], best[names[0]]["rate"] / best[names[1]]["rate"]))
    if best_core.get(names[1]):
        print("\n**Ratio %s/%s (best Mbit/s per CPU of the busier side): %.2f**" % (
            names[0], names[1], best_core[names[0]] / best_core[names[1]]))
    for n in names[2:]:
        if n in best and best_core.get(names[1]):
            print("\n%s/%s (probed path MTU against pion's fixed one): %.2f on msg/s, %.2f per CPU." % (
                n, names[1], best[n]["rate"] / best[names[1]]["rate"], best_core[n] / best_core[names[1]]))
print("\nThroughput is the receiver's count over its first-to-last message span; loss is")
print("1 - received/sent; CPU % is utime+stime from /proc/PID/stat from the end of signaling to the")
print("peer's result (100 % = one full core). \"Mbit/s per busiest-side CPU\" divides throughput by")
print("the larger of the two CPU shares: an estimate of what one full core would carry when the")
print("machine is busy with other work (it assumes CPU-bound peers).")
EOF
cat "$tmp/report.md"
mkdir -p "$(dirname "$results")"
cp "$tmp/report.md" "$results"
