#!/usr/bin/env bash
# Quick resilience checks behind NATs (the long ones are tests/soak/*.sh):
#  1. impaired path: each site's LAN link adds 25 ms each way and 2.5% loss (so ~100 ms RTT and
#     ~5% loss end to end): the tunnel comes up, stays up, and a TCP transfer (iperf3) completes
#  2. a peer's public address changes (its router is renumbered, mappings flushed): the agents
#     notice (consent lost), reconnect with fresh ICE, and traffic resumes within 3 s of that
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
. "$src/tests/lab/nat.sh"

work=$(mktemp -d /tmp/rgnt-res.XXXXXX)
. "$src/tests/lab/check.sh"
report()
{
	[ "$fails" -gt 0 ] && mesh_dump_logs
	echo "nat resilience: $passes passed, $fails failed"
	check_counts nat-resilience
	rm -rf "$work"
}
mesh_setup "$build" "$work" rgnt-rs rgn6
lab_on_cleanup report
NAT_DIR="$work/nat"
nat_init
NAT_TURN_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
nat_turn_start "$NAT_TURN_SECRET" || { bad "coturn starts"; exit 1; }

# ---- 1. loss and delay
nat_site 1 port-restricted --loss 2.5 --delay 25 --seed 1
nat_site 2 full-cone --loss 2.5 --delay 25 --seed 2
nat_hub_start 8080 || { bad "hub starts"; exit 1; }
for i in 1 2; do nat_write_config "$i" 8080 rest; mesh_peer_start "$i" -v; done
if nat_wait_up 1 2 120; then
	ok "tunnel up over a 100 ms RTT, 5% loss path"
	out=$(lab_exec p1 ping -c 20 -i 0.2 -W 3 -q "$(nat_tun_ip 2)" 2>&1 | tail -2)
	echo "$out"
	rtt=$(echo "$out" | awk -F'= ' '/^rtt/ {split($2, a, "/"); print int(a[2])}')
	[ "${rtt:-0}" -ge 95 ] && ok "tunnel RTT ${rtt} ms (>= 100 ms path)" || bad "tunnel RTT '${rtt}' ms, expected >= 100"
	lab_bg p2 "$work/iperf-s.log" iperf3 -s -B "$(nat_tun_ip 2)" -1
	lab_wait 10 "iperf3 server" lab_tcp_listening p2 5201
	if lab_exec p1 timeout 60 iperf3 -c "$(nat_tun_ip 2)" -t 5 -J >"$work/iperf.json" 2>&1; then
		bps=$(jq -r '.end.sum_received.bits_per_second' "$work/iperf.json")
		echo "TCP over the impaired tunnel: $(awk -v b="$bps" 'BEGIN {printf "%.2f", b / 1e6}') Mbit/s"
		awk -v b="$bps" 'BEGIN {exit !(b > 50000)}' && ok "TCP transfer completes (iperf3 5 s)" ||
			bad "TCP transfer too slow: $bps bit/s"
	else
		bad "iperf3 through the impaired tunnel: $(tail -3 "$work/iperf.json")"
	fi
	mesh_is_up 1 2 && ok "tunnel still up after the transfer" || bad "tunnel dropped under loss"
else
	bad "tunnel up over the impaired path"
fi
for i in 1 2; do mesh_peer_stop "$i"; done
nat_hub_stop 8080

# ---- 2. public address change
nat_site 3 port-restricted
nat_site 4 full-cone
nat_hub_start 8081 || { bad "hub starts"; exit 1; }
for i in 3 4; do nat_write_config "$i" 8081 rest; mesh_peer_start "$i" -v; done
if nat_wait_up 3 4 90 && nat_wait_up 4 3 30; then
	ok "tunnel up before the address change"
	lab_bg p4 "$work/ping.log" ping -D -i 0.1 -W 1 "$(nat_tun_ip 3)"
	ping_pid=$LAB_LAST_PID
	sleep 1
	tchange=$(date +%s.%N)
	echo "=== change" >>"$MESH_DIR/p3.log"
	echo "=== change" >>"$MESH_DIR/p4.log"
	nat_change_public_ip 3 43 || bad "renumbering router 3"
	echo "router 3 public address 198.18.0.13 -> 198.18.0.43 at $(date -u +%T.%N | cut -c1-12)"
	detected() { grep -qE "^[0-9:.]+ warn  peer peer4: " <(sed -n '/=== change/,$p' "$MESH_DIR/p3.log") ||
		grep -qE "^[0-9:.]+ warn  peer peer3: " <(sed -n '/=== change/,$p' "$MESH_DIR/p4.log"); }
	lab_wait 60 "an agent notices the path is gone" detected || bad "no agent noticed the address change in 60 s"
	if lab_wait 90 "ping resumes" lab_ping p4 "$(nat_tun_ip 3)" && nat_wait_up 3 4 30; then
		ok "tunnel back after the address change"
		sleep 1
		lab_stop "$ping_pid" INT 5
		# detection: the first failure each agent logs after the change. Only the offerer can
		# act on it (it makes the new offer); the answerer's earlier detection is reported too.
		det_time() { sed -n '/=== change/,$p' "$1" | grep -E "^[0-9:.]+ warn  peer peer[34]: " |
			awk '{print $1}' | while read -r t; do date -u -d "$(date -u +%F) $t" +%s.%N; done |
			head -1; }
		offerer=3; sed -n '/=== change/,$p' "$MESH_DIR/p4.log" | grep -q "offering" && offerer=4
		tdet=$(det_time "$MESH_DIR/p$offerer.log")
		tdet_other=$(det_time "$MESH_DIR/p$((7 - offerer)).log")
		# resume: the first echo reply after the offerer's detection
		tres=$(grep -oE '^\[[0-9.]+\] [0-9]+ bytes from' "$work/ping.log" | tr -d '[]' |
			awk -v d="${tdet:-0}" '$1 > d {print $1; exit}')
		if [ -n "$tdet" ] && [ -n "$tres" ]; then
			det=$(awk -v a="$tdet" -v b="$tchange" 'BEGIN {printf "%.1f", a - b}')
			det2=$(awk -v a="${tdet_other:-0}" -v b="$tchange" 'BEGIN {printf "%.1f", a - b}')
			gap=$(awk -v a="$tres" -v b="$tdet" 'BEGIN {printf "%.2f", a - b}')
			gap2=$(awk -v a="$tres" -v b="${tdet_other:-$tdet}" 'BEGIN {printf "%.2f", a - b}')
			echo "offerer (peer$offerer) detected $det s after the change, answerer $det2 s;" \
				"traffic resumed $gap s after the offerer's detection ($gap2 s after the answerer's)"
			awk -v g="$gap" 'BEGIN {exit !(g <= 3.0)}' &&
				ok "traffic resumes within 3 s of the offerer's detection ($gap s)" ||
				bad "traffic resumed $gap s after the offerer's detection (> 3 s)"
		else
			bad "could not time detection ('$tdet') / resume ('$tres')"
		fi
		[ "$(nat_peer_type 4 3)" != "" ] && ok "new pair: $(nat_peer_type 4 3)" || bad "no candidate pair after reconnect"
	else
		bad "tunnel back after the address change"
	fi
else
	bad "tunnel up before the address change"
fi
if grep -l "ERROR: AddressSanitizer\|runtime error:" "$MESH_DIR"/p*.log 2>/dev/null; then
	bad "sanitizer report in an agent log"
else
	ok "no sanitizer reports"
fi
[ "$fails" -eq 0 ]
