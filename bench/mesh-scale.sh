#!/usr/bin/env bash
# Mesh scale benchmark (issue 20, "Scale"): N agents in network namespaces on one bridge with one
# riftgate-hub (tests/lab/mesh.sh; no STUN server, relay as the default config has it), for each
# N in MESH_N:
#   mesh time     from the last `riftgate up` started to every ordered pair answering a ping
#                 through the tunnel (each agent probes all others with fping until none is left)
#   hub frames    riftgate-hub /metrics frames in + out (and messages relayed) per join, read
#                 once the mesh is formed
#   idle          over IDLE_S seconds with no traffic: CPU per agent (utime + stime from
#                 /proc/PID/stat), wakeups per second (voluntary + nonvoluntary context switches
#                 summed over /proc/PID/task/*/status) and RSS per agent (VmRSS at the end),
#                 with its PSS (shared library pages divided among the processes mapping
#                 them) and its heap (the [heap] mapping's RSS), from /proc/PID/smaps*
# Usage: bash bench/mesh-scale.sh BUILD_DIR   (make bench passes the release build)
# Env: MESH_N (default "10 25 50"), IDLE_S (default 60), FORM_S (wait bound for the mesh,
# default 180). Writes bench/results/mesh-scale.md (one section per N).
set -u
build=${1:-build-release}
src=$(cd "$(dirname "$0")/.." && pwd)
out="$src/bench/results/mesh-scale.md"
IDLE_S=${IDLE_S:-60}
FORM_S=${FORM_S:-180}

[ "$(id -u)" -eq 0 ] || { echo "bench/mesh-scale: needs root (network namespaces)" >&2; exit 1; }
command -v fping >/dev/null || { echo "bench/mesh-scale: fping missing (scripts/deps/perf.txt)" >&2; exit 1; }

# ---- one mesh of N agents (run as a child so every N gets a fresh lab); prints "key value" rows
if [ -n "${MESH_SCALE_ONE:-}" ]; then
	n=$MESH_SCALE_ONE
	. "$src/tests/lab/lab.sh"
	. "$src/tests/lab/mesh.sh"
	work=$(mktemp -d /tmp/rgsc.XXXXXX)
	tag=$(printf '%04x' $(($$ % 65536)))
	lab_init "rgsc$tag-"
	mesh_init "$build" "$work" "rgs$tag"
	lab_on_cleanup 'rm -rf "$work"'
	mesh_have_agent || { echo "bench/mesh-scale: riftgate up / riftgate-hub not built in $build" >&2; exit 1; }
	# mesh.sh names interfaces by letter (a..z); past 26 peers use the peer's number instead.
	mesh_ifname() { echo "${MESH_IFPREFIX}$1"; }
	hz=$(getconf CLK_TCK)
	now() { date +%s.%N; }
	metric() { awk -v m="$1" '$1 == m {print $2; exit}' "$work/metrics"; }
	hub_metrics() { lab_exec hub curl -s -m 5 "http://10.98.0.1:$MESH_HUB_PORT/metrics" >"$work/metrics"; }
	# cpu_ticks PID: utime + stime of the whole process (all threads)
	cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
	# switches PID: voluntary + nonvoluntary context switches summed over its threads
	switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}'; }
	rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
	pss_kb() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
	heap_kb() { awk '/^[0-9a-f]+-[0-9a-f]+ / {h = ($6 == "[heap]")} h && /^Rss:/ {s += $2} END {print s + 0}' "/proc/$1/smaps" 2>/dev/null || echo 0; }

	mesh_build "$n" >/dev/null
	# The kernel's IPv4 neighbour table is one for all namespaces: past gc_thresh3 (default
	# 1024) dynamic entries on the host, ARP fails with ENOBUFS and 50 agents (~2,500 entries)
	# would starve themselves and every other lab on the machine. Permanent entries are not
	# counted, so every node gets one for each other node.
	nodes=(hub) addrs=(10.98.0.1)
	for ((i = 1; i <= n; i++)); do nodes+=("p$i"); addrs+=("$(mesh_lan_ip "$i")"); done
	macs=()
	for node in "${nodes[@]}"; do macs+=("$(ip -n "$(lab_ns "$node")" -br link show eth0 | awk '{print $3}')"); done
	for ((a = 0; a < ${#nodes[@]}; a++)); do
		for ((b = 0; b < ${#nodes[@]}; b++)); do
			[ "$a" = "$b" ] || echo "neigh replace ${addrs[b]} lladdr ${macs[b]} dev eth0 nud permanent"
		done | ip -n "$(lab_ns "${nodes[a]}")" -batch - || exit 1
	done
	mesh_hub_start || exit 1
	for ((i = 1; i <= n; i++)); do
		mesh_peer_start "$i"
	done
	t0=$(now)
	# Each agent pings every other tunnel address until all answered; writes its finishing time.
	for ((i = 1; i <= n; i++)); do
		(
			pending=()
			for ((j = 1; j <= n; j++)); do [ "$j" = "$i" ] || pending+=("$(mesh_tun_ip "$j")"); done
			deadline=$((SECONDS + FORM_S))
			while [ ${#pending[@]} -gt 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
				# -u: print the targets that did not answer (one try, 500 ms)
				mapfile -t pending < <(lab_exec "p$i" fping -u -r 0 -t 500 "${pending[@]}" 2>/dev/null)
				[ ${#pending[@]} -gt 0 ] && sleep 0.2
			done
			if [ ${#pending[@]} -eq 0 ]; then now >"$work/done.$i"; else echo "${pending[*]}" >"$work/fail.$i"; fi
		) &
		pingers+=($!)
	done
	wait "${pingers[@]}"
	failed=0 t_last=$t0
	for ((i = 1; i <= n; i++)); do
		if [ -f "$work/done.$i" ]; then
			t=$(cat "$work/done.$i")
			t_last=$(awk -v a="$t" -v b="$t_last" 'BEGIN {print (a > b) ? a : b}')
		else
			failed=$((failed + 1))
			echo "bench/mesh-scale: peer$i never reached: $(cat "$work/fail.$i")" >&2
		fi
	done
	echo "agents $n"
	echo "pairs $((n * (n - 1)))"
	echo "agents_incomplete $failed"
	echo "mesh_s $(awk -v a="$t_last" -v b="$t0" 'BEGIN {printf "%.1f", a - b}')"
	hub_metrics
	joins=$(metric riftgate_hub_joins_total)
	fin=$(metric riftgate_hub_frames_in_total)
	fout=$(metric riftgate_hub_frames_out_total)
	msgs=$(metric riftgate_hub_messages_relayed_total)
	rel=$(metric riftgate_hub_relay_frames_total)
	echo "hub_joins ${joins:-?}"
	echo "hub_frames_in ${fin:-?}"
	echo "hub_frames_out ${fout:-?}"
	echo "hub_msgs_relayed ${msgs:-?}"
	echo "hub_relay_frames ${rel:-?}"
	echo "hub_frames_per_join $(awk -v a="${fin:-0}" -v b="${fout:-0}" -v j="${joins:-0}" 'BEGIN {if (j > 0) printf "%.0f", (a + b) / j; else print "?"}')"
	echo "hub_rejects $(metric riftgate_hub_rejects_total)"

	# idle window: a few seconds to settle, then IDLE_S s without traffic
	sleep 5
	declare -A c0=() w0=()
	for ((i = 1; i <= n; i++)); do p=${MESH_PID[$i]}; c0[$i]=$(cpu_ticks "$p"); w0[$i]=$(switches "$p"); done
	h0=$(cpu_ticks "$MESH_HUB_PID")
	sleep "$IDLE_S"
	: >"$work/idle"
	for ((i = 1; i <= n; i++)); do
		p=${MESH_PID[$i]}
		kill -0 "$p" 2>/dev/null || { echo "bench/mesh-scale: peer$i exited" >&2; continue; }
		echo "$(( $(cpu_ticks "$p") - c0[$i] )) $(( $(switches "$p") - w0[$i] )) $(rss_kb "$p") $(pss_kb "$p") $(heap_kb "$p")" >>"$work/idle"
	done
	h1=$(cpu_ticks "$MESH_HUB_PID")
	# per agent: CPU % of one core, wakeups/s, RSS MB -> mean and max (min for RSS too)
	awk -v hz="$hz" -v s="$IDLE_S" '
		{ c = 100 * $1 / hz / s; w = $2 / s; r = $3 / 1024
		  cs += c; ws += w; rs += r; ps += $4 / 1024; hs += $5 / 1024; k++
		  if (c > cm) cm = c; if (w > wm) wm = w; if (r > rm) rm = r; if (k == 1 || r < rn) rn = r }
		END { printf "idle_agents %d\n", k
		      printf "cpu_mean %.2f\ncpu_max %.2f\n", cs / k, cm
		      printf "wakeups_mean %.1f\nwakeups_max %.1f\n", ws / k, wm
		      printf "rss_mean %.1f\nrss_min %.1f\nrss_max %.1f\n", rs / k, rn, rm
		      printf "pss_mean %.1f\nheap_mean %.1f\n", ps / k, hs / k }' "$work/idle"
	echo "hub_cpu $(awk -v t=$((h1 - h0)) -v hz="$hz" -v s="$IDLE_S" 'BEGIN {printf "%.2f", 100 * t / hz / s}')"
	echo "hub_rss $(awk -v k="$(rss_kb "$MESH_HUB_PID")" 'BEGIN {printf "%.1f", k / 1024}')"
	# still meshed after the idle window? (peer 1 to everyone, one try)
	lost=$(lab_exec p1 fping -u -r 1 -t 1000 $(for ((j = 2; j <= n; j++)); do mesh_tun_ip "$j"; done) 2>/dev/null | wc -l)
	echo "after_idle_unreachable_from_p1 $lost"
	exit 0
fi

# ---- driver: every N, then the results file
ns_list=${MESH_N:-10 25 50}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
sections=()
for n in $ns_list; do
	echo "== mesh of $n agents (load $(cut -d' ' -f1-3 /proc/loadavg))"
	f=$(mktemp /tmp/rgsc-res.XXXXXX)
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	MESH_SCALE_ONE=$n bash "$0" "$build" | tee "$f"
	echo "load_at_start $load" >>"$f"
	echo "load_at_end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$f"
	sections+=("$f")
done

v() { awk -v k="$1" '$1 == k {$1 = ""; sub(/^ /, ""); print; exit}' "$2"; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || a == "?") print "no figure"; else if (a + 0 <= b + 0) print "met"; else print "missed" }'; }
{
	echo "# Mesh scale ($started)"
	echo
	echo "Command: \`MESH_N=\"$ns_list\" IDLE_S=$IDLE_S bash bench/mesh-scale.sh $build\` (also run by"
	echo "\`make bench\`, MESH_N defaults to \"10 25 50\"). $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)),"
	echo "shared with other engineers' builds and tests: load average before the run $load_before."
	echo "One bridge, one riftgate-hub and N agents each in its own network namespace (tests/lab/mesh.sh"
	echo "configs: no STUN server, \`relay\` left at its default \`auto\`); release build."
	echo
	echo "- mesh time: from the last \`riftgate up\` started to every ordered pair answering a ping"
	echo "  through the tunnel (every agent probes all the others with \`fping -r 0 -t 500\` until none is left)"
	echo "- hub frames per join: riftgate-hub \`/metrics\` (frames_in + frames_out) / joins_total, read once"
	echo "  the mesh is formed (so it includes every offer/answer/candidate of the N(N-1)/2 sessions)"
	echo "- idle: ${IDLE_S} s without traffic starting 5 s after the mesh formed; CPU = utime + stime of the"
	echo "  agent process; wakeups = voluntary + nonvoluntary context switches of all its threads; RSS = VmRSS"
	echo "  at the end of the window"
	for f in "${sections[@]}"; do
		n=$(v agents "$f"); n=${n:-0}
		peers=$((n - 1))
		echo
		echo "## $n agents ($peers peers each, $(v pairs "$f") ordered pairs)"
		echo
		echo "Load average at start $(v load_at_start "$f"), at end $(v load_at_end "$f")."
		echo
		echo "| figure | value | target (issue 20) |"
		echo "|---|---|---|"
		inc=$(v agents_incomplete "$f")
		if [ "$inc" = 0 ]; then
			ms="$(v mesh_s "$f") s"
		else
			ms="not formed: $inc agents could not reach every peer within ${FORM_S} s"
		fi
		if [ "$n" -ge 50 ]; then
			echo "| mesh time (all pairs ping) | $ms | 50 devices <= 20 s: $([ "$inc" = 0 ] && verdict "$(v mesh_s "$f")" 20 || echo missed) |"
		else
			echo "| mesh time (all pairs ping) | $ms | (target given for 50 devices: <= 20 s) |"
		fi
		echo "| hub frames per join (in + out) | $(v hub_frames_per_join "$f") ($(v hub_frames_in "$f") in, $(v hub_frames_out "$f") out, $(v hub_joins "$f") joins) | |"
		echo "| hub messages relayed | $(v hub_msgs_relayed "$f") | |"
		echo "| hub relay frames (WireGuard via the hub) | $(v hub_relay_frames "$f") | |"
		cpu_t=""
		[ "$peers" -eq 49 ] && cpu_t="<= 0.3 % at 49 peers: $(verdict "$(v cpu_mean "$f")" 0.3)"
		[ -z "$cpu_t" ] && cpu_t="(target given at 49 peers: <= 0.3 %)"
		echo "| idle CPU per agent, mean / max (% of a core) | $(v cpu_mean "$f") / $(v cpu_max "$f") | $cpu_t |"
		echo "| idle wakeups per agent per s, mean / max | $(v wakeups_mean "$f") / $(v wakeups_max "$f") | |"
		rss_target=$(awk -v p="$peers" 'BEGIN {printf "%.1f", (p <= 9) ? 16 : 16 + 0.2 * (p - 9)}')
		echo "| RSS per agent, mean / min / max (MB) | $(v rss_mean "$f") / $(v rss_min "$f") / $(v rss_max "$f") | <= $rss_target MB (16 at 9 peers + 0.2 per extra): $(verdict "$(v rss_mean "$f")" "$rss_target") |"
		echo "| PSS / heap per agent, mean (MB) | $(v pss_mean "$f") / $(v heap_mean "$f") | |"
		echo "| hub CPU idle (% of a core) / hub RSS (MB) | $(v hub_cpu "$f") / $(v hub_rss "$f") | |"
		echo "| peers unreachable from peer1 after the idle window | $(v after_idle_unreachable_from_p1 "$f") | |"
		rm -f "$f"
	done
} >"$out"
echo "bench/mesh-scale: wrote $out"
