#!/usr/bin/env bash
# riftgate's data-channel tunnel against the Go reference (bench/goref: wireguard-go's device
# with a conn.Bind over one pion/webrtc v4 data channel, as the original Go riftgate did), in the
# same run, same lab: two peer namespaces and a hub namespace on one bridge.
#   riftgate  riftgate up in p1 and p2 (hub in its own ns), interface MTU as riftgate derives it
#   go-same   goref <-> goref at riftgate's MTU (same packet sizes on the wire)
#   go-1420   goref <-> goref at wireguard-go's default MTU 1420 (the original's setting)
#   go-buf    goref at riftgate's MTU with 4 MiB UDP socket buffers like riftgate's (not the
#             original: a tuned reference, to show how much of the gap is socket buffering)
# All four tunnels stay up; iperf3 TCP (p1 -> p2, T s) runs through one at a time, the order
# alternating between rounds. Per run: receiver Mbit/s, TCP retransmits, CPU of the two tunnel
# processes per Gbit carried, then ping RTT. Before measuring, each goref pair must pass a ping
# through its tunnel (smoke check: the reference really carries traffic).
# Usage: bash bench/tunnel-vs-go.sh BUILD_DIR   (make bench passes the release build)
# Env: BENCH_T (iperf3 seconds, default 10), BENCH_ROUNDS (default 3), IDLE_S (idle CPU
# window after the rounds, default 20; 0 skips it).
# Writes bench/results/tunnel-vs-go.md (or BENCH_OUT).
set -u
build=${1:-build-release}
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
T=${BENCH_T:-10}
IDLE_S=${IDLE_S:-20}
ROUNDS=${BENCH_ROUNDS:-3}
out=${BENCH_OUT:-"$src/bench/results/tunnel-vs-go.md"}
me="bench/tunnel-vs-go"

[ "$(id -u)" -eq 0 ] || { echo "$me: needs root (network namespaces)" >&2; exit 1; }
for c in iperf3 jq wg go; do
	command -v "$c" >/dev/null || { echo "$me: $c missing" >&2; exit 1; }
done
GOREF=$(bash "$src/bench/goref/build.sh" "$build") || { echo "$me: cannot build goref" >&2; exit 1; }
work=$(mktemp -d /tmp/rggo.XXXXXX)
lab_init rggo-
mesh_init "$build" "$work" rggo0
lab_on_cleanup 'rm -rf "$work"'
if ! mesh_have_agent; then
	echo "$me: riftgate up / riftgate-hub not built in $build" >&2
	exit 1
fi
hz=$(getconf CLK_TCK)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# udp_rcvbuf_errors: UDP datagrams the kernel dropped because a socket's receive buffer was full,
# summed over p1 and p2 (/proc/net/snmp is per namespace).
udp_rcvbuf_errors()
{
	local i n=0 v
	for i in 1 2; do
		v=$(lab_exec "p$i" awk '/^Udp:/ { if (!h) { for (f = 1; f <= NF; f++) c[$f] = f; h = 1 }
			else print $c["RcvbufErrors"] }' /proc/net/snmp)
		n=$((n + ${v:-0}))
	done
	echo "$n"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
calc() { awk "BEGIN { $1 }"; }
ratio() { calc "a = \"$1\" + 0; b = \"$2\" + 0; if (a > 0 && b > 0) printf \"%.2f\", a / b; else print \"n/a\""; }

# ---- goref pairs: pair K uses interfaces rggoKa (p1) / rggoKb (p2), tunnel 10.98.10K.1/.2 ----
declare -A GOREF_PID=() GOREF_MTU=() GOREF_CMD=() GLOSS=()
# The Go configurations: config -> goref pair number, MTU ("rg" = riftgate's) and extra flags.
GO_CFGS=(go-same go-1420 go-buf)
declare -A PAIR=([go-same]=1 [go-1420]=2 [go-buf]=3)
declare -A PMTU=([go-same]=rg [go-1420]=1420 [go-buf]=rg)
declare -A PARGS=([go-same]= [go-1420]= [go-buf]="--udp-buf 4194304")
CFGS=(riftgate "${GO_CFGS[@]}")
goref_ip() { echo "10.98.10$1.$2"; }

# goref_start K MTU [EXTRA GOREF ARGS]: an offerer in p1 and an answerer in p2, signaling through two FIFOs opened
# read-write (so neither open blocks; the pair never needs EOF).
goref_start()
{
	local k=$1 mtu=$2 d="$work/goref$1"
	shift 2
	mkdir -p "$d"
	(umask 077; wg genkey >"$d/1.key"; wg genkey >"$d/2.key")
	mkfifo "$d/1to2" "$d/2to1"
	local i j role
	for i in 1 2; do
		j=$((3 - i))
		role=$([ "$i" = 1 ] && echo offer || echo answer)
		ip netns exec "$(lab_ns "p$i")" "$GOREF" --role "$role" --ifname "rggo${k}$(mesh_letter "$i")" \
			--addr "$(goref_ip "$k" "$i")/24" --peer-addr "$(goref_ip "$k" "$j")" \
			--key-file "$d/$i.key" --peer-pub "$(wg pubkey <"$d/$j.key")" --mtu "$mtu" \
			--ice-addr "$(mesh_lan_ip "$i")" "$@" 0<>"$d/${j}to$i" 1<>"$d/${i}to$j" 2>"$d/$i.log" &
		GOREF_PID[$k,$i]=$!
		LAB_PIDS+=("$!")
	done
	GOREF_MTU[$k]=$mtu
	GOREF_CMD[$k]="goref --role offer|answer --ifname rggo${k}a|rggo${k}b --addr $(goref_ip "$k" 1)/24|$(goref_ip "$k" 2)/24 --peer-addr OTHER --key-file F --peer-pub PUB --mtu $mtu --ice-addr $(mesh_lan_ip 1)|$(mesh_lan_ip 2)${*:+ $*}"
}

goref_logs() { local f; for f in "$work/goref$1"/*.log; do echo "----- $f"; tail -n 30 "$f"; done; }

# ---- one measurement: iperf3 through a tunnel, CPU of its two processes, then ping ----
port=5400
declare -A RES=()	# RES[config,round,field]

# measure CONFIG ROUND DST_IP PID1 PID2
measure()
{
	local cfg=$1 r=$2 dst=$3 pa=$4 pb=$5 json c0 c1 t0 t1 u0 mbps
	port=$((port + 1))
	json="$work/iperf-$cfg-$r.json"
	lab_bg p2 "$work/iperf-s-$port.log" iperf3 -s -1 -p "$port" -B "$dst"
	if ! lab_wait 10 "iperf3 server on $dst" lab_tcp_listening p2 "$port"; then
		RES[$cfg,$r,mbps]=fail
		return
	fi
	u0=$(udp_rcvbuf_errors)
	c0=$(( $(cpu_ticks "$pa") + $(cpu_ticks "$pb") ))
	t0=$(date +%s.%N)
	if lab_exec p1 timeout $((T + 30)) iperf3 -c "$dst" -p "$port" -t "$T" -J >"$json" 2>/dev/null; then
		t1=$(date +%s.%N)
		c1=$(( $(cpu_ticks "$pa") + $(cpu_ticks "$pb") ))
		mbps=$(jq '.end.sum_received.bits_per_second / 1e6 | . * 10 | floor / 10' "$json")
		RES[$cfg,$r,mbps]=$mbps
		RES[$cfg,$r,retr]=$(jq '.end.sum_sent.retransmits // "n/a"' "$json")
		RES[$cfg,$r,udp]=$(( $(udp_rcvbuf_errors) - u0 ))
		# CPU seconds of both tunnel processes over the run, and per Gbit received.
		RES[$cfg,$r,cpu]=$(calc "printf \"%.0f\", 100 * ($c1 - $c0) / $hz / ($t1 - $t0)")
		RES[$cfg,$r,cpug]=$(calc "g = $mbps * ($t1 - $t0) / 1000; if (g > 0) printf \"%.2f\", ($c1 - $c0) / $hz / g; else print \"n/a\"")
	else
		RES[$cfg,$r,mbps]=fail
	fi
	RES[$cfg,$r,ping]=$(lab_exec p1 ping -c 20 -i 0.1 -W 2 -q "$dst" 2>/dev/null |
		awk -F/ '/^rtt/ {print $5}' | grep . || echo fail)
	echo "  $cfg round $r: ${RES[$cfg,$r,mbps]} Mbit/s, retransmits ${RES[$cfg,$r,retr]:-n/a}," \
		"UDP rcvbuf drops ${RES[$cfg,$r,udp]:-n/a}," \
		"CPU ${RES[$cfg,$r,cpu]:-n/a} % (${RES[$cfg,$r,cpug]:-n/a} CPU s/Gbit), ping ${RES[$cfg,$r,ping]} ms"
}

# ---- bring everything up ----
mesh_build 2
mesh_hub_start || exit 1
echo "== riftgate up (hub + 2 agents)"
mesh_peer_start 1
mesh_peer_start 2
if ! mesh_wait_up 1 2 60 || ! mesh_wait_up 2 1 30; then
	echo "$me: riftgate tunnel did not come up" >&2
	mesh_dump_logs
	exit 1
fi
rg_mtu=$(lab_exec p1 cat "/sys/class/net/$(mesh_ifname 1)/mtu")
echo "riftgate up, interface MTU $rg_mtu"

echo "== goref pairs and their smoke check (ping through the tunnel, both ways)"
for cfg in "${GO_CFGS[@]}"; do
	m=${PMTU[$cfg]}; [ "$m" = rg ] && m=$rg_mtu
	goref_start "${PAIR[$cfg]}" "$m" ${PARGS[$cfg]}
done
declare -A smoke=()
for cfg in "${GO_CFGS[@]}"; do
	k=${PAIR[$cfg]}
	if lab_wait 60 "goref pair $k ping" lab_ping p1 "$(goref_ip "$k" 2)" &&
		lab_wait 15 "goref pair $k ping back" lab_ping p2 "$(goref_ip "$k" 1)"; then
		smoke[$cfg]=passed
	else
		smoke[$cfg]=FAILED
		goref_logs "$k" >&2
	fi
	echo "$cfg (goref pair $k, MTU ${GOREF_MTU[$k]}): smoke ping ${smoke[$cfg]}"
done

# ---- rounds ----
declare -a order
for ((r = 1; r <= ROUNDS; r++)); do
	order=("${CFGS[@]}")
	((r % 2)) || order=($(printf '%s\n' "${CFGS[@]}" | tac))
	echo "== round $r: ${order[*]}"
	for cfg in "${order[@]}"; do
		if [ "$cfg" = riftgate ]; then
			measure "$cfg" "$r" "$(mesh_tun_ip 2)" "${MESH_PID[1]}" "${MESH_PID[2]}"
			continue
		fi
		k=${PAIR[$cfg]}
		[ "${smoke[$cfg]}" = passed ] || { RES[$cfg,$r,mbps]=fail; continue; }
		measure "$cfg" "$r" "$(goref_ip "$k" 2)" "${GOREF_PID[$k,1]}" "${GOREF_PID[$k,2]}"
	done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Idle CPU: every tunnel process over IDLE_S seconds with no traffic (timers, ICE consent, SCTP
# heartbeats), as % of one core per process.
declare -A IDLE=()
if [ "$IDLE_S" -gt 0 ]; then
	echo "== idle CPU over $IDLE_S s"
	declare -A ipid=([riftgate]="${MESH_PID[1]} ${MESH_PID[2]}")
	for cfg in "${GO_CFGS[@]}"; do
		ipid[$cfg]="${GOREF_PID[${PAIR[$cfg]},1]} ${GOREF_PID[${PAIR[$cfg]},2]}"
	done
	declare -A i0=()
	for cfg in "${CFGS[@]}"; do
		i0[$cfg]=0
		for pid in ${ipid[$cfg]}; do i0[$cfg]=$(( ${i0[$cfg]} + $(cpu_ticks "$pid") )); done
	done
	sleep "$IDLE_S"
	for cfg in "${CFGS[@]}"; do
		n=0
		for pid in ${ipid[$cfg]}; do n=$(( n + $(cpu_ticks "$pid") )); done
		IDLE[$cfg]=$(calc "printf \"%.2f\", 100 * ($n - ${i0[$cfg]}) / $hz / $IDLE_S / 2")
		echo "  $cfg: ${IDLE[$cfg]} % of a core per process"
	done
fi

# goref's own counters, printed when it stops: where do the Go tunnel's packets go missing?
declare -A GSTAT=()
gnum() { echo "${GSTAT[$1,$2]:-}" | grep -o "$3 [0-9]*" | awk '{print $NF}'; }
for cfg in "${GO_CFGS[@]}"; do
	k=${PAIR[$cfg]}
	for i in 1 2; do
		lab_stop "${GOREF_PID[$k,$i]}" TERM 10 >/dev/null 2>&1
		GSTAT[$k,$i]=$(grep -o 'messages sent.*' "$work/goref$k/$i.log" | tail -n 1)
	done
	# p1 -> p2 is the iperf3 data direction: messages lost between pion's send and its OnMessage.
	GLOSS[$k]=$(calc "s = \"$(gnum "$k" 1 sent)\" + 0; r = \"$(gnum "$k" 2 received)\" + \"$(gnum "$k" 2 drops)\";
		if (s > 0) printf \"%.1f %%\", 100 * (1 - r / s); else print \"n/a\"")
done

# ---- summary: best and mean per configuration ----
# stat CONFIG FIELD best|mean (numeric rounds only; best = max, or min for CPU s/Gbit)
stat()
{
	local cfg=$1 f=$2 how=$3 r v vals=
	for ((r = 1; r <= ROUNDS; r++)); do
		v=${RES[$cfg,$r,$f]:-}
		[[ $v =~ ^[0-9.]+$ ]] && vals="$vals $v"
	done
	[ -n "$vals" ] || { echo n/a; return; }
	echo "$vals" | awk -v how="$how" -v f="$f" '{
		for (i = 1; i <= NF; i++) { s += $i; if (i == 1 || (f == "cpug" ? $i < b : $i > b)) b = $i }
		if (how == "mean") printf (f == "cpug" ? "%.2f" : "%.1f"), s / NF; else printf "%s", b }'
}
declare -A S=()
for cfg in "${CFGS[@]}"; do
	for f in mbps cpug ping; do
		S[$cfg,$f,best]=$(stat "$cfg" "$f" best)
		S[$cfg,$f,mean]=$(stat "$cfg" "$f" mean)
	done
done
# mean ping with 3 decimals
for cfg in "${CFGS[@]}"; do
	S[$cfg,ping,mean]=$(for ((r = 1; r <= ROUNDS; r++)); do echo "${RES[$cfg,$r,ping]:-}"; done |
		awk '/^[0-9.]+$/ { s += $1; n++ } END { if (n) printf "%.3f", s / n; else print "n/a" }')
done
r_same=$(ratio "${S[riftgate,mbps,mean]}" "${S[go-same,mbps,mean]}")
r_1420=$(ratio "${S[riftgate,mbps,mean]}" "${S[go-1420,mbps,mean]}")
rb_same=$(ratio "${S[riftgate,mbps,best]}" "${S[go-same,mbps,best]}")
rb_1420=$(ratio "${S[riftgate,mbps,best]}" "${S[go-1420,mbps,best]}")
# Efficiency ratio: how many times less CPU per Gbit riftgate needs (Go / riftgate).
e_same=$(ratio "${S[go-same,cpug,mean]}" "${S[riftgate,cpug,mean]}")
e_1420=$(ratio "${S[go-1420,cpug,mean]}" "${S[riftgate,cpug,mean]}")
r_buf=$(ratio "${S[riftgate,mbps,mean]}" "${S[go-buf,mbps,mean]}")
e_buf=$(ratio "${S[go-buf,cpug,mean]}" "${S[riftgate,cpug,mean]}")
# Mbit/s one core would carry for both ends together, from CPU s/Gbit.
percore() { calc "v = \"$1\" + 0; if (v > 0) printf \"%.0f\", 1000 / v; else print \"n/a\""; }
met() { calc "print (\"$1\" + 0 >= 3) ? \"met\" : \"NOT met\""; }

wgv=$(awk '/golang.zx2c4.com\/wireguard / {print $2}' "$src/bench/goref/go.mod")
pionv=$(awk '/github.com\/pion\/webrtc\/v4 / {print $2}' "$src/bench/goref/go.mod")
rgrev=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)

mkdir -p "$(dirname "$out")"
{
	cat <<-EOT
	# riftgate data-channel tunnel vs the Go reference (wireguard-go + pion)

	Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), riftgate $rgrev.
	Command: \`bash bench/tunnel-vs-go.sh $build\` (BENCH_T=$T, BENCH_ROUNDS=$ROUNDS).
	Load average before / after: $load_before / $load_after (the machine is shared; other work lowers all figures).

	Lab: namespaces p1 (10.98.0.11) and p2 (10.98.0.12) and a hub namespace on one bridge (veth), all on
	this machine. Four tunnels p1 ↔ p2 stay up for the whole run; iperf3 TCP, one stream, ${T} s,
	p1 → p2, runs through one at a time, the order alternating between rounds; then 20 pings (0.1 s).
	CPU is utime+stime of the two tunnel processes (both ends) during the iperf3 run; "CPU s/Gbit"
	divides it by the Gbit received (100 % = one core). "UDP rcvbuf drops": datagrams the kernel
	dropped in p1+p2 because a socket's receive buffer was full (RcvbufErrors, /proc/net/snmp).

	| config | what | MTU |
	|---|---|---|
	| riftgate | \`riftgate up --foreground\` in p1 and p2, riftgate-hub in its ns (tests/lab/mesh.sh) | $rg_mtu (derived) |
	| go-same | \`bench/goref\` ↔ goref: wireguard-go $wgv device, conn.Bind over one pion/webrtc $pionv data channel (label wireguard, unordered, maxRetransmits 0) | $rg_mtu (riftgate's) |
	| go-1420 | the same goref pair at wireguard-go's default MTU (the original's setting) | 1420 |
	| go-buf | goref with \`--udp-buf 4194304\`: one ICE UDP socket (pion UDPMux) with 4 MiB buffers, as riftgate sets (not the original) | $rg_mtu |

	goref smoke check (ping through its tunnel, both directions): go-same ${smoke[go-same]}, go-1420 ${smoke[go-1420]}, go-buf ${smoke[go-buf]}.

	| config | round | Mbit/s | TCP retransmits | UDP rcvbuf drops | CPU % (both ends) | CPU s/Gbit | ping ms |
	|---|---|---|---|---|---|---|---|
	EOT
	for ((r = 1; r <= ROUNDS; r++)); do
		for cfg in "${CFGS[@]}"; do
			echo "| $cfg | $r | ${RES[$cfg,$r,mbps]:-n/a} | ${RES[$cfg,$r,retr]:-n/a} | ${RES[$cfg,$r,udp]:-n/a} | ${RES[$cfg,$r,cpu]:-n/a} | ${RES[$cfg,$r,cpug]:-n/a} | ${RES[$cfg,$r,ping]:-n/a} |"
		done
	done
	cat <<-EOT

	| config | mean Mbit/s | best Mbit/s | mean CPU s/Gbit | Mbit/s per core (both ends) | mean ping ms |
	|---|---|---|---|---|---|
	| riftgate | ${S[riftgate,mbps,mean]} | ${S[riftgate,mbps,best]} | ${S[riftgate,cpug,mean]} | $(percore "${S[riftgate,cpug,mean]}") | ${S[riftgate,ping,mean]} |
	| go-same | ${S[go-same,mbps,mean]} | ${S[go-same,mbps,best]} | ${S[go-same,cpug,mean]} | $(percore "${S[go-same,cpug,mean]}") | ${S[go-same,ping,mean]} |
	| go-1420 | ${S[go-1420,mbps,mean]} | ${S[go-1420,mbps,best]} | ${S[go-1420,cpug,mean]} | $(percore "${S[go-1420,cpug,mean]}") | ${S[go-1420,ping,mean]} |
	| go-buf | ${S[go-buf,mbps,mean]} | ${S[go-buf,mbps,best]} | ${S[go-buf,cpug,mean]} | $(percore "${S[go-buf,cpug,mean]}") | ${S[go-buf,ping,mean]} |

	**Ratio riftgate / goref, throughput (mean of rounds): $r_same at the same MTU, $r_1420 against MTU 1420**
	(best rounds: $rb_same and $rb_1420). DESIGN target ≥ 3×: $(met "$r_same") at the same MTU, $(met "$r_1420") against 1420.
	CPU per Gbit, goref / riftgate (how many times less CPU riftgate spends per Gbit): $e_same (same MTU), $e_1420 (1420).
	Against the tuned reference (go-buf, not the original): throughput $r_buf, CPU per Gbit $e_buf.

	Idle CPU over ${IDLE_S} s without traffic, % of one core per process (clock ticks of $((1000 / hz)) ms):
	riftgate ${IDLE[riftgate]:-n/a}, go-same ${IDLE[go-same]:-n/a}, go-1420 ${IDLE[go-1420]:-n/a}, go-buf ${IDLE[go-buf]:-n/a}.

	goref's counters over the whole run (data-channel messages; "drops" = its receive queue was full,
	"send-wait timeouts" = pion's buffer stayed above 1 MiB for 200 ms):
	EOT
	for cfg in "${GO_CFGS[@]}"; do
		k=${PAIR[$cfg]}
		echo "- $cfg: p1 ${GSTAT[$k,1]:-n/a}; p2 ${GSTAT[$k,2]:-n/a}; p1 → p2 messages lost between the two pions (see UDP rcvbuf drops): ${GLOSS[$k]}"
	done
	cat <<-EOT

	Exact commands:
	- riftgate: \`riftgate-hub --addr 10.98.0.1:8080 --token T\` (ns hub); \`riftgate up --foreground --config pN.toml\` (ns pN; configs from tests/lab/mesh.sh, \`[stun] servers = []\`)
	- goref: \`bash bench/goref/build.sh $build\`, then per pair (go-same, go-1420, go-buf)
	  \`${GOREF_CMD[1]}\`,
	  \`${GOREF_CMD[2]}\`,
	  \`${GOREF_CMD[3]}\`;
	  offerer and answerer exchange their JSON signaling lines through two FIFOs
	- iperf3: \`iperf3 -s -1 -p PORT -B DST\` (ns p2), \`iperf3 -c DST -p PORT -t $T -J\` (ns p1)
	- ping: \`ping -c 20 -i 0.1 -W 2 -q DST\` (ns p1)
	EOT
} >"$out"
echo "== results written to $out"
cat "$out"
# A reference that did not carry traffic, or a tunnel that was not measured, is a failed bench.
for cfg in "${GO_CFGS[@]}"; do
	[ "${smoke[$cfg]}" = passed ] || { echo "$me: goref $cfg failed its smoke check" >&2; exit 1; }
done
for cfg in "${CFGS[@]}"; do
	[ "${S[$cfg,mbps,mean]}" != n/a ] || { echo "$me: no throughput figure for $cfg" >&2; exit 1; }
done
exit 0
