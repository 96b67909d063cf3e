#!/usr/bin/env bash
# End-to-end direct path (issue 20, docs/agent.md "Direct path"): two riftgate peers on one
# bridge put WireGuard straight on the ICE-selected UDP 5-tuple (first byte 8, RFC 7983's
# unassigned range) once both advertise a=x-rg-wg-direct. Asserts: status says "path: direct"
# on both sides; a capture on peer1's veth during a ping shows direct frames and no DTLS
# records carrying the traffic; an nftables drop of the framing (first UDP payload byte 8) in
# peer1's namespace moves both sides to "path: data channel" within a few seconds with the
# ping still answered and the same WireGuard session (latest handshake unchanged); removing the
# drop brings "path: direct" back, same session; the per-peer packet limit follows the path
# (1440 direct, 1360 on the data channel, 'frag needed' for a bigger DF packet). A third peer with [webrtc] direct_path = false
# talks to peer1 over the data channel only (no frame sent either way), and with the hub relay
# forced (relay = "always") no direct frame is sent.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgdp-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=240

mesh_setup "$build" "$work" rgdp- rgd
command -v tcpdump >/dev/null || { echo "SKIP: tcpdump missing (scripts/deps/diag.txt)"; exit 77; }
report()
{
	if [ "$fails" -gt 0 ]; then
		mesh_dump_logs
		keep="$build/meson-logs/$(basename "$0" .sh)-$(date +%H%M%S)"
		mkdir -p "$keep" && cp "$work"/*.log "$keep"/ 2>/dev/null && echo "logs kept in $keep"
	fi
	echo "e2e direct: $passes passed, $fails failed"
	check_counts e2e-direct
	rm -rf "$work"
}
lab_on_cleanup report
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}

# field F of peer J in peer I's status
field() { mesh_status "$1" --json | jq -r --arg id "peer$2" --arg f "$3" '.peers[] | select(.peerId == $id) | .[$f]'; }
path_is() { [ "$(field "$1" "$2" path)" = "$3" ]; }
# UDP datagrams on peer1's veth whose payload starts with byte B in [LO, HI], over a ping burst
capture()
{
	local lo=$1 hi=$2 pid
	local f="$work/cap-$lo.pcap"
	lab_exec p1 timeout 4 tcpdump -i eth0 -n -U -w "$f" "udp and udp[8] >= $lo and udp[8] <= $hi" \
		>"$work/tcpdump.log" 2>&1 &
	pid=$!
	sleep 1
	lab_exec p1 ping -c 20 -i 0.05 -q "$(mesh_tun_ip 2)" >/dev/null 2>&1
	wait "$pid"
	tcpdump -n -r "$f" 2>/dev/null | wc -l
}

mesh_build 3
mesh_hub_start || { bad "hub starts"; exit 1; }
mesh_peer_start 1 -v
mesh_peer_start 2 -v
if ! mesh_wait_up 1 2 60 || ! mesh_wait_up 2 1 30; then
	bad "peers 1 and 2 up"
	exit 1
fi
ok "peers 1 and 2 up"

# --- negotiated ---
check "peer1 -> peer2: path direct" lab_wait 15 "path direct" path_is 1 2 direct
check "peer2 -> peer1: path direct" lab_wait 15 "path direct" path_is 2 1 direct
if mesh_status 1 | grep -q '^  path: direct$'; then ok "text: path: direct"; else bad "text: path: direct"; fi
# the log agrees: its last path line for peer2 (the hub relay's end included) names the direct path
last=$(grep -o 'peer peer2: path: [a-z]*' "$MESH_DIR/p1.log" | tail -1)
check "log: peer1's last path line for peer2 says direct ($last)" test "$last" = "peer peer2: path: direct"
frames=$(capture 8 8)
dtls=$(capture 20 63)
echo "capture: $frames direct frames, $dtls DTLS datagrams during 20 pings"
check "capture: direct frames carry the pings ($frames >= 40)" test "$frames" -ge 40
check "capture: no DTLS carrying them ($dtls <= 8: SCTP heartbeats of both sides, not the 40 ping datagrams)" test "$dtls" -le 8
check "peer1 counted direct datagrams both ways" test "$(field 1 2 directTx)" -gt 0 -a "$(field 1 2 directRx)" -gt 0
check "nothing dropped or refused on the direct path ($(field 1 2 directDropped) dropped, $(field 1 2 directRejected) refused)" \
	test "$(field 1 2 directDropped)" = 0 -a "$(field 1 2 directRejected)" = 0

# --- frames from an unknown 5-tuple: never delivered as tunnel traffic, counted ---
# peer2's end of the selected pair; a forged data frame (type 4, unknown receiver index) and a
# forged probe answer from another port of peer1's address
ep=$(field 1 2 endpoint); port=${ep##*:}
rx0=$(field 2 1 directRx); bad0=$(( $(field 2 1 directDropped) + $(field 2 1 directRejected) ))
lab_exec p1 python3 - "$(mesh_lan_ip 2)" "$port" <<'EOP'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
frame = bytes([8, 4]) + struct.pack(">H", 96) + b"\x11\x22\x33\x44" + bytes(88)
for _ in range(5):
    s.sendto(frame, (sys.argv[1], int(sys.argv[2])))
    s.sendto(bytes([8, 0x81, 0, 16]) + b"12345678" + bytes(4), (sys.argv[1], int(sys.argv[2])))
EOP
sleep 1
rx1=$(field 2 1 directRx); bad1=$(( $(field 2 1 directDropped) + $(field 2 1 directRejected) ))
echo "forged frames from an unknown port: directRx $rx0 -> $rx1, dropped+rejected $bad0 -> $bad1"
check "forged frames from an unknown 5-tuple: dropped (counted) or never delivered by libnice" \
	test "$((bad1 - bad0))" -eq 10 -o "$((bad1 - bad0))" -eq 0
check "peer2 still on the direct path" path_is 2 1 direct

# --- fallback on a drop of the framing, and back ---
hs1=$(field 1 2 lastHandshake)
lab_exec p1 nft -f - <<'EON'
table inet rgdirect {
	chain out { type filter hook output priority 0; udp length > 8 @th,64,8 8 drop; }
	chain in { type filter hook input priority 0; udp length > 8 @th,64,8 8 drop; }
}
EON
t0=$SECONDS
lab_exec p1 ping -c 100 -i 0.1 -q "$(mesh_tun_ip 2)" >"$work/ping-fallback.txt" 2>&1 &
ppid=$!
if lab_wait 8 "peer1 falls back" path_is 1 2 "data channel"; then
	ok "peer1 -> peer2: data channel after the drop ($((SECONDS - t0)) s)"
else
	bad "peer1 -> peer2: data channel after the drop (path $(field 1 2 path))"
fi
check "peer2 -> peer1: data channel after the drop" lab_wait 8 "peer2 falls back" path_is 2 1 "data channel"
check "ping through the data channel" lab_exec p1 ping -c 3 -W 2 -q "$(mesh_tun_ip 2)"
check "same WireGuard session on the data channel" test "$(field 1 2 lastHandshake)" = "$hs1"
# The TUN MTU is the direct path's (1440 on this 1500-byte bridge); on the data channel a peer
# takes 1360 per packet, and a bigger one is answered like a router does.
check "peer1 -> peer2 on the data channel: packets up to 1360" test "$(field 1 2 peerMtu)" = 1360
out=$(lab_exec p1 ping -c 1 -W 3 -M do -s 1412 "$(mesh_tun_ip 2)" 2>&1)
echo "$out" | head -3
check "a 1440-byte packet (DF) on the data channel: 'frag needed, mtu 1360'" \
	sh -c "echo '$out' | grep -Eqi 'mtu ?= ?1360'"
lab_exec p1 nft delete table inet rgdirect
t0=$SECONDS
if lab_wait 8 "peer1 back on direct" path_is 1 2 direct; then
	ok "peer1 -> peer2: direct again after the drop is lifted ($((SECONDS - t0)) s)"
else
	bad "peer1 -> peer2: direct again (path $(field 1 2 path))"
fi
check "peer2 -> peer1: direct again" lab_wait 8 "peer2 back on direct" path_is 2 1 direct
check "peer1 -> peer2 direct again: packets up to 1440" test "$(field 1 2 peerMtu)" = 1440
# the PMTU the ICMP taught the kernel is flushed by the next packet to peer2 (the ping running)
check "1440-byte packets (DF) pass again on the direct path" lab_wait 10 "1440 bytes pass" \
	lab_exec p1 ping -c 1 -W 2 -M do -s 1412 "$(mesh_tun_ip 2)"
wait "$ppid"
loss=$(grep -o '[0-9.]*% packet loss' "$work/ping-fallback.txt" | cut -d% -f1)
echo "ping during fallback and return: ${loss:-?}% loss"
check "ping survived fallback and return (loss ${loss:-?}% <= 40%)" awk -v l="${loss:-100}" 'BEGIN { exit !(l <= 40) }'
check "same WireGuard session back on direct" test "$(field 1 2 lastHandshake)" = "$hs1"
check "ping over direct" lab_exec p1 ping -c 3 -W 2 -q "$(mesh_tun_ip 2)"

# --- a peer that turned it off: never negotiated ---
sed -i 's/^max_retransmits = 0$/max_retransmits = 0\ndirect_path = false/' "$MESH_DIR/p3.toml"
mesh_peer_start 3 -v
if mesh_wait_up 1 3 60 && mesh_wait_up 3 1 30; then
	ok "peer3 (direct_path = false) up with peer1"
	lab_exec p1 ping -c 10 -i 0.05 -q "$(mesh_tun_ip 3)" >/dev/null 2>&1
	check "peer1 -> peer3: path data channel" path_is 1 3 "data channel"
	check "peer1 -> peer3: direct off" test "$(field 1 3 direct)" = off
	check "peer1 -> peer3: no direct datagram either way" test "$(field 1 3 directTx)" = 0 -a "$(field 1 3 directRx)" = 0
	check "peer3 -> peer1: no direct datagram either way" test "$(field 3 1 directTx)" = 0 -a "$(field 3 1 directRx)" = 0
else
	bad "peer3 up with peer1"
fi

# --- the hub relay forced: never direct ---
mesh_peer_stop 3
mesh_peer_stop 2
sed -i 's/^direct_path = false$//' "$MESH_DIR/p3.toml"
sed -i 's|^\[network\]$|[network]\nrelay = "always"|' "$MESH_DIR/p2.toml"
mesh_peer_start 2 -v
if lab_wait 60 "peer1 pings peer2 through the hub" lab_ping p1 "$(mesh_tun_ip 2)"; then
	lab_exec p1 ping -c 10 -i 0.05 -q "$(mesh_tun_ip 2)" >/dev/null 2>&1
	check "peer2 -> peer1: path relay" path_is 2 1 relay
	check "peer2 sent no direct datagram on the hub relay" test "$(field 2 1 directTx)" = 0
else
	bad "peer1 pings peer2 through the hub relay"
fi

for i in 1 2; do
	check "peer$i stops cleanly" mesh_peer_stop "$i"
done
check "no sanitizer report" sh -c "! grep -l 'ERROR: AddressSanitizer\|runtime error:' $work/p*.log"

[ "$fails" -eq 0 ]
