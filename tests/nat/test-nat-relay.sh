#!/usr/bin/env bash
# The hub relay in the NAT lab (issue 17, docs/agent.md §Relay), with riftgate-hub:
#   round S: symmetric <-> symmetric with no TURN server: ICE has no path, the pair talks through
#            the hub relay (ping both ways, status "path: relay (hub)", hub counters move)
#   round D: full-cone <-> full-cone: a ping and an iperf3 TCP stream started with `up` run
#            through the relay first (site 1's router holds UDP between the sites for the first
#            seconds, so ICE cannot win the race), then the pair moves to the data channel; the ping loses
#            (almost) nothing, the TCP stream carries on (no stall, no reconnect) and WireGuard
#            makes no new handshake (status lastHandshake, `wg show`); seconds from `up` to the
#            first answer, with the relay and with relay = "never"
#   round X: the same pair, the hub with small budgets (2 MiB/s per socket and per receiver):
#            a client flooding relay frames at full speed is closed (1008, counted as kicked);
#            one flooding peer8 at 3x its budget (under the close limit) keeps its socket while
#            its excess is dropped; the budgets hold (what the hub relays stays within them),
#            the honest pair keeps its ping and its share of peer8 for its TCP stream, and
#            the drops are counted in /metrics
#   round W: the same symmetric pair through the Worker hub (Miniflare) instead, its relay budgets
#            at 2 MiB/s: the agents pace to what it announced; a client flooding peer8 at 3x
#            its budget beside the pair: the pair's ping keeps going, the Worker counts the drops
#   round F: the direct path dies (the router drops UDP; the hub's TCP stays): traffic falls
#            back to the relay; the longest gap of a 10/s ping is measured against 3 s; then
#            the path comes back (ICE restart) and the pair returns to the data channel, with
#            one iperf3 TCP stream running through all three and still no new handshake
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
. "$src/tests/lab/nat.sh"

work=$(mktemp -d /tmp/rgnt-relay.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=420
report()
{
	if [ "$fails" -gt 0 ]; then
		mesh_dump_logs
		mkdir -p "$build/nat-relay-logs" && cp "$work"/ping-*.log "$work"/iperf-*.json "$MESH_DIR"/p*.log "$build/nat-relay-logs/" 2>/dev/null
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
# one relay metric of the hub on PORT: hub_metric PORT NAME (e.g. 'relay_bytes_total',
# 'relay_drops_total{reason="receiver"}'); "drops" sums every reason
hub_metric()
{
	lab_exec srv curl -s "http://$NAT_SRV_IP:$1/metrics" | awk -v m="riftgate_hub_$2" '
		m == "riftgate_hub_drops" && /^riftgate_hub_relay_drops_total\{/ { n += $2; next }
		index($0, m " ") == 1 { n = $2 }
		END { print n + 0 }'
}
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
# the peer's latest WireGuard handshake (Unix s) as status --json and `wg show` report it
last_hs() { mesh_status "$1" --json 2>/dev/null | jq -r --arg id "peer$2" '.peers[] | select(.peerId == $id) | .lastHandshake // 0' 2>/dev/null; }
wg_hs() { lab_exec "p$1" wg show "$(mesh_ifname "$1")" latest-handshakes 2>/dev/null | awk '{print $2}'; }
now_s() { date +%s.%N; }
# iperf_bg I J SECONDS FILE: an iperf3 TCP stream (10 Mbit/s, paced) from p$I to peer J's
# server in the background, JSON into FILE
iperf_bg()
{
	lab_exec "p$1" timeout $(($3 + 30)) iperf3 -c "$(nat_tun_ip "$2")" -t "$3" -b 10M -i 1 -J \
		--connect-timeout 10000 >"$4" 2>&1 &
	IPERF_PID=$!
}
# iperf_stats FILE T1 [T2]: bytes in the intervals that ended before Unix time T1, in those that
# began after T1 (and before T2 when given, then also those after T2), the longest run of
# intervals with no byte, and the retransmits
iperf_stats()
{
	jq -r --argjson t1 "$2" --argjson t2 "${3:-0}" '
		.start.timestamp.timesecs as $t0 |
		[.intervals[].sum | {s: ($t0 + .start), e: ($t0 + .end), b: .bytes}] as $iv |
		([$iv[] | select(.e <= $t1) | .b] | add // 0) as $before |
		([$iv[] | select(.s >= $t1 and ($t2 == 0 or .e <= $t2)) | .b] | add // 0) as $mid |
		([$iv[] | select($t2 != 0 and .s >= $t2) | .b] | add // 0) as $after |
		(reduce $iv[] as $x ({run: 0, max: 0};
			if $x.b == 0 then .run += 1 | .max = ([.max, .run] | max) else .run = 0 end) | .max) as $stall |
		"\($before) \($mid) \($after) \($stall) \(.end.sum_sent.retransmits // 0)"' "$1" 2>/dev/null
}
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

# ---- round X: a relay flood beside the honest symmetric pair, small budgets
lab_bg srv "$MESH_DIR/hub8083.log" "$MESH_HUB" --addr "$NAT_SRV_IP:8083" --token "$MESH_TOKEN" \
	--relay-rate 2M --relay-burst 256K --relay-receive-rate 2M --relay-receive-burst 256K \
	--relay-network-rate 8M --relay-network-burst 1M
x_hub=$LAB_LAST_PID
flood_ok=false
(. "$src/tests/worker/setup.sh") >"$work/flood-setup.log" 2>&1 && flood_ok=true
if lab_wait 20 "hub on 8083" lab_tcp_listening srv 8083; then
	for i in 4 8; do
		nat_write_config "$i" 8083 none
		mesh_peer_start "$i" -v
	done
	lab_bg p8 "$work/iperf-xs.log" iperf3 -s
	x_srv=$LAB_LAST_PID
	if lab_wait 40 "peer4 pings peer8 through the relay" lab_ping p4 "$(nat_tun_ip 8)" &&
		lab_wait 10 "iperf3 server" lab_tcp_listening p8 5201; then
		grep -q "relay pace 2097152 bytes/s, burst 262144 (announced by the hub)" "$MESH_DIR/p4.log" &&
			ok "the agent paces its relay frames to the 2 MiB/s the hub announced" ||
			bad "the agent did not take the hub's relay budget (log: $(grep 'relay pace' "$MESH_DIR/p4.log" | tail -1))"
		# the honest stream alone, for comparison
		lab_exec p4 timeout 40 iperf3 -c "$(nat_tun_ip 8)" -t 5 -J >"$work/iperf-x0.json" 2>&1
		alone=$(jq -r '.end.sum_received.bits_per_second // 0' "$work/iperf-x0.json" 2>/dev/null)
		if $flood_ok; then
			# full speed: past 8x the socket budget the hub closes the socket
			k0=$(hub_metric 8083 relay_kicked_total)
			lab_exec srv node "$src/tests/nat/relay-flood.mjs" "ws://$NAT_SRV_IP:8083/connect" \
				"$MESH_TOKEN" blaster peer8 4 0 >"$work/blast.json" 2>"$work/blast.err"
			k1=$(hub_metric 8083 relay_kicked_total)
			bclosed=$(jq -r '.closed // "no"' "$work/blast.json" 2>/dev/null)
			bsent=$(jq -r '.bytes // 0' "$work/blast.json" 2>/dev/null)
			bsecs=$(jq -r '.secs // 0' "$work/blast.json" 2>/dev/null)
			echo "  full-speed flood: $bsent bytes in $bsecs s, hub closed it: $bclosed (kicked $((k1 - k0)))"
			if [ "$bclosed" = 1008 ]; then
				[ $((k1 - k0)) -eq 1 ] && ok "a full-speed flooder is closed (1008) and counted as kicked" ||
					bad "flooder closed 1008 but kicked moved by $((k1 - k0))"
			else
				# the machine could not push past 8x the budget: then it must stay open
				awk -v b="$bsent" -v s="$bsecs" 'BEGIN { exit !(b < 8 * 2097152 * s + 8 * 262144) }' &&
					[ $((k1 - k0)) -eq 0 ] &&
					ok "a flooder under the close limit keeps its socket (sent $bsent bytes in $bsecs s)" ||
					bad "full-speed flooder: closed '$bclosed', kicked $((k1 - k0)), $bsent bytes in $bsecs s"
			fi
			in0=$(hub_metric 8083 relay_frames_in_total); out0=$(hub_metric 8083 relay_frames_total)
			b0=$(hub_metric 8083 relay_bytes_total); d0=$(hub_metric 8083 drops)
			r0=$(hub_metric 8083 'relay_drops_total{reason="receiver"}')
			t_x=$SECONDS
			lab_exec srv node "$src/tests/nat/relay-flood.mjs" "ws://$NAT_SRV_IP:8083/connect" \
				"$MESH_TOKEN" flooder peer8 12 6291456 >"$work/flood.json" 2>"$work/flood.err" &
			flood_pid=$!
			sleep 1
			ping_bg 4 8 10 "$work/ping-x.log"
			lab_exec p4 timeout 40 iperf3 -c "$(nat_tun_ip 8)" -t 8 -J >"$work/iperf-x.json" 2>&1
			x_rc=$?
			wait "$PING_PID"
			wait "$flood_pid"
			x_secs=$((SECONDS - t_x))
			in1=$(hub_metric 8083 relay_frames_in_total); out1=$(hub_metric 8083 relay_frames_total)
			b1=$(hub_metric 8083 relay_bytes_total); d1=$(hub_metric 8083 drops)
			r1=$(hub_metric 8083 'relay_drops_total{reason="receiver"}')
			flooded=$(jq -r '.sent // 0' "$work/flood.json" 2>/dev/null)
			fsecs=$(jq -r '.secs // 1' "$work/flood.json" 2>/dev/null)
			fclosed=$(jq -r '.closed // "no"' "$work/flood.json" 2>/dev/null)
			under=$(jq -r '.end.sum_received.bits_per_second // 0' "$work/iperf-x.json" 2>/dev/null)
			sent_p=$(grep -c "icmp_seq=" "$work/ping-x.log")
			got_p=$(answered "$work/ping-x.log" | wc -l)
			relayed_b=$((b1 - b0))
			# two receivers (peer8: stream + flood, peer4: the stream's acks), each at most
			# 2 MiB/s plus two bursts (its own, and its senders' debt within their shares)
			limit_b=$(( 2 * (2097152 * x_secs + 2 * 262144) ))
			echo "  flood at 3x: $flooded frames of 1206 bytes sent in $fsecs s (hub closed it: $fclosed); hub in $((in1 - in0)), out $((out1 - out0)), dropped $((d1 - d0)) (receiver $((r1 - r0))); relayed $relayed_b payload bytes in $x_secs s (limit $limit_b)"
			echo "  honest TCP: alone $(awk -v b="$alone" 'BEGIN{printf "%.2f", b/1e6}') Mbit/s, beside the flood $(awk -v b="$under" 'BEGIN{printf "%.2f", b/1e6}') Mbit/s (rc $x_rc); ping $got_p answered"
			printf 'flood_honest_tcp_mbit\t%s\nalone_tcp_mbit\t%s\n' \
				"$(awk -v b="$under" 'BEGIN{printf "%.2f", b/1e6}')" \
				"$(awk -v b="$alone" 'BEGIN{printf "%.2f", b/1e6}')" >>"$work/results.tsv"
			# it offered well over its budget (at least 1.5x), and kept its socket
			awk -v n="${flooded:-0}" -v s="$fsecs" 'BEGIN { exit !(n * 1270 >= 1.5 * 2097152 * s) }' &&
				ok "the flooder offered $flooded frames in $fsecs s (over 1.5x its budget)" ||
				bad "the flooder sent only '${flooded}' frames in $fsecs s ($(tail -2 "$work/flood.err"))"
			[ "$fclosed" = no ] && ok "a flooder under the close limit keeps its socket; its excess is dropped" ||
				bad "the 3x flooder was closed ($fclosed)"
			[ $((d1 - d0)) -gt 0 ] && [ $((in1 - in0)) -eq $((out1 - out0 + d1 - d0)) ] &&
				ok "drops counted in /metrics: every frame in is relayed or one drop ($((d1 - d0)) dropped)" ||
				bad "hub counters: in $((in1 - in0)), out $((out1 - out0)), drops $((d1 - d0))"
			[ "$relayed_b" -le "$limit_b" ] && ok "the budgets hold: $relayed_b bytes relayed (limit $limit_b)" ||
				bad "the hub relayed $relayed_b bytes in $x_secs s, over its budgets ($limit_b)"
			# The honest stream may take half of peer8's 2 MiB/s (~8 Mbit/s), but what the hub
			# admits to peer8 shares one FIFO (the hub's queue and the TCP socket to peer8), so
			# the stream's packets wait behind the flood's and TCP slows with the delay:
			# measured 1.2-4.9 Mbit/s beside the flood, ~10 alone. The floor only tells a
			# stream that keeps going from one that starved.
			awk -v u="$under" 'BEGIN { exit !(u >= 0.5e6) }' && [ "$x_rc" -eq 0 ] &&
				ok "the honest pair keeps relaying beside the flood ($(awk -v b="$under" 'BEGIN{printf "%.1f", b/1e6}') Mbit/s >= 0.5)" ||
				bad "the honest stream starved beside the flood: $under bit/s (rc $x_rc)"
			[ "$got_p" -ge 90 ] && ok "the honest ping beside the flood: $got_p of ~100 answered" ||
				bad "the honest ping beside the flood: $got_p answered"
		else
			echo "SKIP round X flood (Node): $(tail -1 "$work/flood-setup.log")"
		fi
	else
		bad "round X: no ping through the relay (state $(mesh_peer_state 4 8))"
	fi
	for i in 4 8; do mesh_peer_stop "$i"; done
	lab_stop "$x_srv" TERM 5
else
	bad "hub with small relay budgets starts"
fi
lab_stop "$x_hub" TERM 10

# ---- round W: the same pair through the Worker hub (Miniflare in srv), no TURN either
if (. "$src/tests/worker/setup.sh") >"$work/worker-setup.log" 2>&1; then
	export RG_WORKER_DIR=$src/worker RG_HUB_WASM=$build/worker/hub.wasm
	lab_bg srv "$MESH_DIR/worker.log" node "$src/tests/worker/serve.mjs" --host "$NAT_SRV_IP" \
		--port 8093 --token "$MESH_TOKEN" --var RELAY_RATE=2097152 --var RELAY_RECEIVE_RATE=2097152
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
			grep -q "relay pace 2097152 bytes/s, burst 524288 (announced by the hub)" "$MESH_DIR/p4.log" &&
				ok "the agent paces its relay frames to the 2 MiB/s the Worker announced" ||
				bad "the agent did not take the Worker's relay budget ($(grep 'relay pace' "$MESH_DIR/p4.log" | tail -1))"
			wstats() { lab_exec srv curl -s -H "Authorization: Bearer $MESH_TOKEN" \
				"http://$NAT_SRV_IP:8093/stats?network=natlab" | jq -r ".relay.$1 // 0"; }
			wi0=$(wstats framesIn); wo0=$(wstats framesOut); wr0=$(wstats dropReceiver)
			lab_exec srv node "$src/tests/nat/relay-flood.mjs" "ws://$NAT_SRV_IP:8093/connect/natlab" \
				"$MESH_TOKEN" flooder peer8 8 6291456 >"$work/wflood.json" 2>"$work/wflood.err" &
			wflood_pid=$!
			sleep 1
			ping_bg 4 8 6 "$work/ping-w.log"
			wait "$PING_PID"
			wait "$wflood_pid"
			wi1=$(wstats framesIn); wo1=$(wstats framesOut); wr1=$(wstats dropReceiver)
			wgot=$(answered "$work/ping-w.log" | wc -l)
			echo "  Worker flood: $(cat "$work/wflood.json" 2>/dev/null); frames in $((wi1 - wi0)), out $((wo1 - wo0)), receiver drops $((wr1 - wr0)); honest ping $wgot of ~60 answered"
			[ $((wr1 - wr0)) -gt 0 ] && [ "$(jq -r '.closed // "no"' "$work/wflood.json")" = no ] &&
				ok "the Worker drops the 3x flood at peer8's budget (counted), the flooder keeps its socket" ||
				bad "Worker flood: receiver drops $((wr1 - wr0)), flooder $(cat "$work/wflood.json" 2>/dev/null)"
			[ "$wgot" -ge 45 ] && ok "the honest ping through the Worker beside the flood: $wgot of ~60" ||
				bad "the honest ping through the Worker beside the flood: $wgot of ~60"
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
# the TCP sink, on every address of site 5 (its tunnel address comes with the agent)
lab_bg p5 "$work/iperf-s.log" iperf3 -s
iperf_srv=$LAB_LAST_PID
# UDP between the sites held at site 1's router (the lab's STUN server stays reachable, and so
# does the hub's TCP): ICE checks go unanswered until it is lifted, and libnice retransmits them
hold_direct()
{
	lab_exec r1 nft add table inet rghold &&
		lab_exec r1 nft add chain inet rghold holdudp '{ type filter hook forward priority -10; }' &&
		lab_exec r1 nft add rule inet rghold holdudp meta l4proto udp \
			ip saddr != "$NAT_SRV_IP" ip daddr != "$NAT_SRV_IP" drop
}
hold_direct || bad "site 1's router holds UDP between the sites"
t0=$SECONDS
mesh_peer_start 1 -v
mesh_peer_start 5 -v
lab_wait 20 "peer1's tunnel" tun_ready 1 || bad "peer1's tunnel address"
ping_bg 1 5 40 "$work/ping-d.log"
iperf_bg 1 5 30 "$work/iperf-d.json"
hs_relay=0
moved_at=0
# a few seconds of the TCP stream on the relay, then the direct path opens
sleep 6
[ "$(peer_path 1 5)" = relay ] && h=$(last_hs 1 5) && [ "${h:-0}" -gt 0 ] && hs_relay=$h
lab_exec r1 nft delete table inet rghold
# the handshake made over the relay, seen while the path still is the relay
while [ $((SECONDS - t0)) -lt 60 ] && ! path_is 1 5 direct; do
	[ "$(peer_path 1 5)" = relay ] && h=$(last_hs 1 5) && [ "${h:-0}" -gt 0 ] && hs_relay=$h
	sleep 0.2
done
if path_is 1 5 direct; then
	moved_at=$(now_s)
	ok "full-cone pair moved to the data channel after $((SECONDS - t0)) s"
else
	bad "full-cone pair never on the data channel (path '$(peer_path 1 5)', state $(mesh_peer_state 1 5))"
fi
sleep 3
hs_direct=$(last_hs 1 5)
echo "  latest handshake on the relay: ${hs_relay}, on the data channel: ${hs_direct}; wg show: $(wg_hs 1)"
[ "$hs_relay" -gt 0 ] && [ "$hs_relay" = "$hs_direct" ] && [ "$(wg_hs 1)" = "$hs_direct" ] &&
	ok "relay -> data channel: the same WireGuard session (no new handshake)" ||
	bad "relay -> data channel: handshake ${hs_relay} then ${hs_direct} (wg show $(wg_hs 1))"
wait "$IPERF_PID"
iperf_rc=$?
read -r before after _ stall retr < <(iperf_stats "$work/iperf-d.json" "$moved_at")
echo "  iperf3 TCP (rc $iperf_rc): ${before:-?} bytes on the relay, ${after:-?} on the data channel, longest stall ${stall:-?} s, ${retr:-?} retransmits"
printf 'move_tcp_stall_s\t%s\n' "${stall:-}" >>"$work/results.tsv"
if [ "$iperf_rc" -eq 0 ] && [ "${before:-0}" -gt 0 ] && [ "${after:-0}" -gt 0 ] && [ "${stall:-9}" -le 1 ]; then
	ok "one iperf3 TCP stream ran on the relay and carried on over the data channel (stall <= 1 s)"
else
	bad "iperf3 TCP stream across relay -> data channel: rc $iperf_rc, relay ${before:-?} B, direct ${after:-?} B, stall ${stall:-?} s"
	tail -5 "$work/iperf-d.json" | sed 's/^/    /'
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
# the line leaving the relay names the path taken (direct here: both sides are riftgate)
grep -Eq "peer peer5: path: (direct|data channel) \(the relay is no longer needed\)" "$MESH_DIR/p1.log" &&
	ok "log: moved off the relay" || bad "log: no move off the relay"
hs=$(grep -c "peer5.*handshake" "$MESH_DIR/p1.log")
echo "  handshake log lines for peer5: $hs"

# ---- round F: the direct path dies, the relay takes over, the path comes back
hs_before=$(last_hs 1 5)
ping_bg 1 5 20 "$work/ping-f.log"
iperf_bg 1 5 40 "$work/iperf-f.json"
sleep 3
died_at=$(now_s)
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
back_from=$(now_s)
lab_exec r1 nft delete table inet rgkill
back_at=0
if lab_wait 30 "peer1 back on the data channel" path_is 1 5 direct; then
	back_at=$(now_s)
	ok "the direct path came back: data channel again after $(awk -v a="$back_from" -v b="$back_at" 'BEGIN { printf "%.1f", b - a }') s"
else
	bad "never back on the data channel after the path returned (path '$(peer_path 1 5)', state $(mesh_peer_state 1 5))"
fi
wait "$IPERF_PID"
iperf_rc=$?
hs_after=$(last_hs 1 5)
read -r before mid after stall retr < <(iperf_stats "$work/iperf-f.json" "$died_at" "$back_at")
echo "  iperf3 TCP (rc $iperf_rc): ${before:-?} bytes direct, ${mid:-?} while the path was gone (relay), ${after:-?} back on the data channel, longest stall ${stall:-?} s, ${retr:-?} retransmits"
echo "  latest handshake before: $hs_before, after: $hs_after"
printf 'fallback_tcp_stall_s\t%s\n' "${stall:-}" >>"$work/results.tsv"
if [ "$iperf_rc" -eq 0 ] && [ "${before:-0}" -gt 0 ] && [ "${mid:-0}" -gt 0 ] && [ "${after:-0}" -gt 0 ] &&
	[ "${stall:-9}" -le 3 ]; then
	ok "one iperf3 TCP stream survived data channel -> relay -> data channel (stall <= 3 s)"
else
	bad "iperf3 TCP stream across the fallback and back: rc $iperf_rc, ${before:-?}/${mid:-?}/${after:-?} B, stall ${stall:-?} s"
	tail -5 "$work/iperf-f.json" | sed 's/^/    /'
fi
[ "${hs_before:-0}" -gt 0 ] && [ "$hs_before" = "$hs_after" ] &&
	ok "fallback and return: the same WireGuard session (no new handshake)" ||
	bad "fallback and return: handshake $hs_before then $hs_after"
for i in 1 5; do mesh_peer_stop "$i"; done
lab_stop "$iperf_srv" TERM 5
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
