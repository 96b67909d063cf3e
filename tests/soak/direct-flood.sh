#!/usr/bin/env bash
# Long direct-path check (about two minutes; not in make test): two agents on the direct path
# (WireGuard on the ICE 5-tuple, read by rtc's own receive, src/rtc/ice.c), iperf3 TCP both ways,
# then a UDP flood at full rate that keeps the receiving socket backlogged, each for FLOOD_S
# seconds, longer than the 30 s ICE consent timeout. libnice's consent checks and answers must
# still get through while our own receive reads the flood: the path stays direct, no ICE
# restart, same selected pair, pings pass after. (libnice gets its turn whenever a STUN datagram
# reaches the head of the queue, so this passes even without the own receive's periodic step
# aside; /rtc/peer/own-receive is what checks that one.)
# Usage (root): bash tests/soak/direct-flood.sh [BUILD_DIR]   (make soak passes the release build)
# Env: FLOOD_S (default 60).
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${1:-${RG_BUILD_ROOT:-$src/build}}
secs=${FLOOD_S:-60}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

command -v iperf3 >/dev/null || { echo "direct flood soak: iperf3 missing"; exit 1; }
work=$(mktemp -d /tmp/rgdf-soak.XXXXXX)
passes=0 fails=0
ok() { echo "ok: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
report() { [ "$fails" -gt 0 ] && mesh_dump_logs; echo "direct flood soak: $passes passed, $fails failed"; rm -rf "$work"; }
lab_init rgdf-
mesh_init "$build" "$work" rgdf0
lab_on_cleanup report
peer_field() { mesh_status "$1" --json 2>/dev/null | jq -r ".peers[] | select(.peerId == \"peer$2\") | .$3"; }
is_direct() { [ "$(peer_field "$1" "$2" path)" = direct ]; }

mesh_build 2
mesh_hub_start || { bad "hub starts"; exit 1; }
mesh_peer_start 1; mesh_peer_start 2
mesh_wait_up 1 2 60 && mesh_wait_up 2 1 30 || { bad "tunnel up"; exit 1; }
lab_wait 15 "direct path" is_direct 1 2 && lab_wait 15 "direct path" is_direct 2 1 ||
	{ bad "both sides on the direct path"; exit 1; }
ok "both sides on the direct path"
pair1=$(peer_field 1 2 endpoint) pair2=$(peer_field 2 1 endpoint)
addr=$(mesh_tun_ip 2)
lab_bg p2 "$work/iperf-s.log" iperf3 -s -1 -p 5311 -B "$addr"
lab_wait 10 "iperf3 server" lab_tcp_listening p2 5311 || { bad "iperf3 server"; exit 1; }
echo "flooding both ways for $secs s from $(date -u +%T)"
if lab_exec p1 timeout $((secs + 30)) iperf3 -c "$addr" -p 5311 -t "$secs" --bidir -J >"$work/iperf.json" 2>/dev/null; then
	mbps=$(jq '[.end.sum_received.bits_per_second, .end.sum_received_bidir_reverse.bits_per_second] | map(. / 1e6 | floor) | join(" / ")' "$work/iperf.json")
	ok "iperf3 both ways for $secs s ($mbps Mbit/s)"
else
	bad "iperf3 both ways for $secs s"
fi
# UDP at full rate keeps the receiving socket backlogged far more than TCP does
lab_bg p2 "$work/iperf-su.log" iperf3 -s -1 -p 5312 -B "$addr"
lab_wait 10 "iperf3 server" lab_tcp_listening p2 5312 || { bad "iperf3 server"; exit 1; }
echo "UDP flood peer1 -> peer2 for $secs s from $(date -u +%T)"
if lab_exec p1 timeout $((secs + 30)) iperf3 -c "$addr" -p 5312 -u -b 0 -l 1300 -t "$secs" -J >"$work/iperf-u.json" 2>/dev/null; then
	ok "UDP flood for $secs s ($(jq '.end.sum.bits_per_second / 1e6 | floor' "$work/iperf-u.json") Mbit/s sent, $(jq '.end.sum.lost_percent | floor' "$work/iperf-u.json") % lost)"
else
	bad "UDP flood for $secs s"
fi
for d in "1 2" "2 1"; do
	set -- $d
	is_direct "$1" "$2" && ok "peer$1 -> peer$2 still direct" || bad "peer$1 -> peer$2 path $(peer_field "$1" "$2" path)"
	r=$(peer_field "$1" "$2" iceRestarts)
	[ "$r" = 0 ] && ok "peer$1 -> peer$2: no ICE restart" || bad "peer$1 -> peer$2: $r ICE restarts"
done
[ "$(peer_field 1 2 endpoint)" = "$pair1" ] && [ "$(peer_field 2 1 endpoint)" = "$pair2" ] &&
	ok "same selected pairs ($pair1, $pair2)" || bad "selected pair changed"
lab_exec p1 ping -c 5 -i 0.2 -W 2 -q "$addr" >/dev/null && ok "ping after the flood" || bad "ping after the flood"
if grep -qiE "consent|ICE restart|path lost" "$work"/p*.log; then
	bad "consent or path loss logged: $(grep -hiE "consent|ICE restart|path lost" "$work"/p*.log | head -3)"
else
	ok "no consent loss, path loss or ICE restart logged"
fi
[ "$fails" -eq 0 ]
