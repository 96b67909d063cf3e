#!/usr/bin/env bash
# The hub relay in the NAT lab (issue 17, docs/agent.md §Relay), with riftgate-hub:
#   round S: symmetric <-> symmetric with no TURN server: ICE has no path, the pair talks through
#            the hub relay (ping both ways, status "path: relay (hub)", hub counters move)
#   round D: full-cone <-> full-cone: a ping started with `up` is answered through the relay
#            first, then the pair moves to the data channel, and the running ping loses
#            (almost) nothing on the way; seconds from `up` to the first answer, with the relay
#            and with relay = "never"
#   round W: the same symmetric pair through the Worker hub (Miniflare) instead
#   round F: the direct path dies (the router drops UDP; the hub's TCP stays): traffic falls
#            back to the relay; the longest gap of a 10/s ping is measured against 3 s
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
. "$src/tests/lab/nat.sh"

work=$(mktemp -d /tmp/rgnt-relay.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=330
report()
{
	if [ "$fails" -gt 0 ]; then
		mesh_dump_logs
		mkdir -p "$build/nat-relay-logs" && cp "$work"/ping-*.log "$MESH_DIR"/p*.log "$build/nat-relay-logs/" 2>/dev/null
	fi
	echo "nat relay: $passes passed, $fails failed"
	check_counts nat-relay
	[ -n "${RELAY_RESULTS:-}" ] && cp "$work/results.tsv" "$RELAY_RESULTS" 2>/dev/null
	rm -rf "$work"
}

mesh_setup "$build" "$work" rgnt-rl rgr7
lab_on_cleanup report
NAT_DIR="$work/nat"
nat_init
NAT_TURN_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
# coturn only as the lab's STUN server (no [[turn]] in any config)
nat_turn_start "$NAT_TURN_SECRET" || { bad "coturn starts"; exit 1; }
nat_site 1 full-cone
nat_site 4 symmetric
nat_site 5 full-cone
nat_site 8 symmetric
printf 'what\tvalue\n' >"$work/results.tsv"

# relay counters of the hub on PORT (riftgate_hub_relay_frames_total)
hub_relayed() { lab_exec srv curl -s "http://$NAT_SRV_IP:$1/metrics" | awk '/^riftgate_hub_relay_frames_total /{print $2}'; }
peer_path() { mesh_status "$1" --json 2>/dev/null | jq -r --arg id "peer$2" '.peers[] | select(.peerId == $id) | .path // ""' 2>/dev/null; }
status_says_relay() { mesh_status "$1" | grep -q 'path: relay (hub)'; }
state_is() { [ "$(mesh_peer_state "$1" "$2")" = "$3" ]; }
path_is() { [ "$(peer_path "$1" "$2")" = "$3" ]; }
with_relay() { sed -i 's/^auth_token = .*/&\nrelay = "'"$2"'"/' "$MESH_DIR/p$1.toml"; }
# tun_ready I: peer I's tunnel address is up (ping before that fails at once: no route)
tun_ready() { lab_exec "p$1" ip -4 addr show dev "$(mesh_ifname "$1")" 2>/dev/null | grep -q "$(nat_tun_ip "$1")"; }
# ping_log I J SECONDS FILE: a 10/s ping from p$I to peer J in the background, timestamped
ping_bg()
{
	lab_exec "p$1" ping -D -i 0.1 -W 1 -w "$3" "$(nat_tun_ip "$2")" >"$4" 2>&1 &
	PING_PID=$!
}
# the answered icmp_seq numbers of a ping log, one per line
answered() { sed -n 's/.*bytes from .*icmp_seq=\([0-9]*\) .*/\1/p' "$1" | sort -n -u; }
# seconds (10/s ping) from the first to the last answer not answered, and the longest gap
ping_stats()
{
	answered "$1" | awk 'NR == 1 { first = $1; prev = $1; next }
		{ gap = $1 - prev - 1; if (gap > maxgap) maxgap = gap; lost += gap; prev = $1 }
		END { printf "%d %d %d %d\n", first, prev, lost + 0, maxgap + 0 }'
}

# ---- round S: symmetric <-> symmetric, no TURN
nat_hub_start 8080 || { bad "hub starts"; exit 1; }
nat_write_config 4 8080 none
nat_write_config 8 8080 none
t0=$SECONDS
mesh_peer_start 4 -v
mesh_peer_start 8 -v
if lab_wait 40 "peer4 pings peer8 through the hub relay" lab_ping p4 "$(nat_tun_ip 8)"; then
	ok "symmetric<->symmetric without TURN: ping through the hub relay after $((SECONDS - t0)) s"
	printf 'symmetric_first_ping_s\t%s\n' "$((SECONDS - t0))" >>"$work/results.tsv"
	check "ping back peer8 -> peer4" lab_exec p8 ping -c 3 -i 0.2 -W 3 -q "$(nat_tun_ip 4)"
	check "status text: path: relay (hub)" status_says_relay 4
	[ "$(peer_path 8 4)" = relay ] && ok "status --json path=relay" || bad "status --json path '$(peer_path 8 4)'"
	n=$(hub_relayed 8080)
	[ "${n:-0}" -gt 6 ] && ok "hub counted $n relayed frames" || bad "hub relayed frames: '$n'"
	# ICE gives up (backoff) and retries: the relay keeps carrying the tunnel meanwhile
	if lab_wait 40 "peer4 gives up on ICE to peer8" state_is 4 8 backoff; then
		check "ping through the relay while ICE is in backoff" \
			lab_exec p4 ping -c 3 -i 0.2 -W 2 -q "$(nat_tun_ip 8)"
	else
		bad "ICE never gave up on symmetric<->symmetric (state $(mesh_peer_state 4 8))"
	fi
else
	bad "symmetric<->symmetric without TURN: no ping through the relay (state $(mesh_peer_state 4 8), error '$(nat_peer_error 4 8)')"
fi
lab_exec p4 "$MESH_RIFTGATE" status "$(mesh_ifname 4)" 2>/dev/null | sed 's/^/  /'
for i in 4 8; do mesh_peer_stop "$i"; done
nat_hub_stop 8080

# ---- round W: the same pair through the Worker hub (Miniflare in srv), no TURN either
if (. "$src/tests/worker/setup.sh") >"$work/worker-setup.log" 2>&1; then
	export RG_WORKER_DIR=$src/worker RG_HUB_WASM=$build/worker/hub.wasm
	lab_bg srv "$MESH_DIR/worker.log" node "$src/tests/worker/serve.mjs" --host "$NAT_SRV_IP" \
		--port 8093 --token "$MESH_TOKEN"
	w_pid=$LAB_LAST_PID
	if lab_wait 60 "Worker hub listening" lab_tcp_listening srv 8093; then
		for i in 4 8; do
			nat_write_config "$i" 8093 none
			sed -i 's#/connect"$#/connect/natlab"#' "$MESH_DIR/p$i.toml"
			mesh_peer_start "$i" -v
		done
		if lab_wait 60 "peer4 pings peer8 through the Worker relay" lab_ping p4 "$(nat_tun_ip 8)"; then
			ok "symmetric<->symmetric without TURN through the Worker's relay"
			check "ping back through the Worker" lab_exec p8 ping -c 3 -i 0.2 -W 3 -q "$(nat_tun_ip 4)"
			check "status: path relay (Worker)" path_is 4 8 relay
		else
			bad "symmetric<->symmetric through the Worker: no ping (state $(mesh_peer_state 4 8))"
		fi
		for i in 4 8; do mesh_peer_stop "$i"; done
	else
		bad "Worker hub starts in the lab"
		tail -20 "$MESH_DIR/worker.log"
	fi
	lab_stop "$w_pid" TERM 10
else
	echo "SKIP round W (Worker): $(tail -1 "$work/worker-setup.log")"
fi

# ---- round D: full-cone pair: relay first, then the data channel, one running ping
nat_hub_start 8081 || { bad "hub starts"; exit 1; }
nat_write_config 1 8081 none
nat_write_config 5 8081 none
t0=$SECONDS
mesh_peer_start 1 -v
mesh_peer_start 5 -v
lab_wait 20 "peer1's tunnel" tun_ready 1 || bad "peer1's tunnel address"
ping_bg 1 5 40 "$work/ping-d.log"
if lab_wait 60 "peer1 sees peer5 up with a direct path" path_is 1 5 direct; then
	ok "full-cone pair moved to the data channel after $((SECONDS - t0)) s"
else
	bad "full-cone pair never on the data channel (path '$(peer_path 1 5)', state $(mesh_peer_state 1 5))"
fi
wait "$PING_PID"
read -r first last lost maxgap < <(ping_stats "$work/ping-d.log")
first_s=$(awk -v s="${first:-0}" 'BEGIN { printf "%.1f", s / 10 }')
echo "  ping: first answer icmp_seq=$first (~${first_s} s after the tunnel came up), last $last, lost after the first $lost, longest gap ${maxgap}"
printf 'relay_first_ping_s\t%s\nmove_lost_pings\t%s\n' "$first_s" "$lost" >>"$work/results.tsv"
[ "${first:-0}" -ge 1 ] && [ "$first" -le 50 ] && ok "first ping answered within 5 s of up (icmp_seq $first)" ||
	bad "first ping answered late (icmp_seq '${first:-none}')"
[ "${lost:-99}" -le 3 ] && ok "moving relay -> data channel lost $lost of the running ping" ||
	bad "moving relay -> data channel lost ${lost:-?} pings (longest gap $maxgap)"
grep -q "peer peer5: path: relay (hub)" "$MESH_DIR/p1.log" && ok "log: started on the relay" || bad "log: no 'path: relay (hub)'"
grep -q "peer peer5: path: data channel" "$MESH_DIR/p1.log" && ok "log: moved to the data channel" || bad "log: no move to the data channel"
hs=$(grep -c "peer5.*handshake" "$MESH_DIR/p1.log")
echo "  handshake log lines for peer5: $hs"

# ---- round F: the direct path dies, the relay takes over
ping_bg 1 5 20 "$work/ping-f.log"
sleep 3
lab_exec r1 nft add table inet rgkill
lab_exec r1 nft add chain inet rgkill dropudp '{ type filter hook forward priority -10; }'
lab_exec r1 nft add rule inet rgkill dropudp meta l4proto udp drop
wait "$PING_PID"
read -r first last lost maxgap < <(ping_stats "$work/ping-f.log")
gap_s=$(awk -v g="${maxgap:-999}" 'BEGIN { printf "%.1f", g / 10 }')
echo "  ping while the direct path died: lost $lost, longest gap ${gap_s} s, last answer icmp_seq=$last"
printf 'fallback_gap_s\t%s\n' "$gap_s" >>"$work/results.tsv"
[ "${last:-0}" -ge 150 ] && ok "the ping keeps being answered after the direct path died (relay)" ||
	bad "no answers after the direct path died (last icmp_seq ${last:-none})"
awk -v g="${maxgap:-999}" 'BEGIN { exit !(g <= 30) }' && ok "fell back to the relay within 3 s (gap $gap_s s)" ||
	bad "fallback gap $gap_s s (over 3 s)"
[ "$(peer_path 1 5)" = relay ] && ok "status: path relay while the direct path is gone" || bad "status path '$(peer_path 1 5)'"
lab_exec r1 nft delete table inet rgkill
for i in 1 5; do mesh_peer_stop "$i"; done
nat_hub_stop 8081

# ---- relay = "never": time to first ping without the relay, for comparison
nat_hub_start 8082 || { bad "hub starts"; exit 1; }
nat_write_config 1 8082 none
nat_write_config 5 8082 none
with_relay 1 never
with_relay 5 never
mesh_peer_start 1 -v
mesh_peer_start 5 -v
lab_wait 20 "peer1's tunnel" tun_ready 1 || bad "peer1's tunnel address"
ping_bg 1 5 30 "$work/ping-n.log"
wait "$PING_PID"
read -r first last lost maxgap < <(ping_stats "$work/ping-n.log")
first_s=$(awk -v s="${first:-999}" 'BEGIN { printf "%.1f", s / 10 }')
echo "  relay = never: first answer ~${first_s} s after up"
printf 'never_first_ping_s\t%s\n' "$first_s" >>"$work/results.tsv"
[ "${first:-0}" -ge 1 ] && ok "relay = never still connects directly (first ping ~${first_s} s)" || bad "relay = never: no ping"
n=$(hub_relayed 8082)
[ "${n:-1}" -eq 0 ] && ok "relay = never: the hub relayed nothing" || bad "relay = never: hub relayed '$n'"
for i in 1 5; do mesh_peer_stop "$i"; done
nat_hub_stop 8082

if grep -l "ERROR: AddressSanitizer\|runtime error:" "$MESH_DIR"/p*.log 2>/dev/null; then
	bad "sanitizer report in an agent log"
else
	ok "no sanitizer reports"
fi
column -t "$work/results.tsv" 2>/dev/null || cat "$work/results.tsv"
[ "$fails" -eq 0 ]
