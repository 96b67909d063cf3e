#!/usr/bin/env bash
# TURN over TLS (turns:) and over TCP (turn:...?transport=tcp), both sides behind symmetric NATs
# so the relay is the only path. coturn gets a throwaway self-signed certificate made here.
#   round S: turns:198.18.0.1:5349 on both agents: tunnel up, ping, status says relay
#   round T: turn:198.18.0.1:3478?transport=tcp on both agents: the same
#   probe:   what libnice sends first to a turns: server (a listener that records the bytes):
#            a TLS ClientHello (0x16 0x03) or a plain STUN Allocate (0x00 0x03)?
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
. "$src/tests/lab/nat.sh"

work=$(mktemp -d /tmp/rgir-tls.XXXXXX)
. "$src/tests/lab/check.sh"
report()
{
	if [ "$fails" -gt 0 ]; then
		mesh_dump_logs
		tail -n 40 "$NAT_DIR/turnserver.log" 2>/dev/null
	fi
	echo "nat turn-tls: $passes passed, $fails failed"
	check_counts nat-turn-tls
	[ -n "${RG_KEEP_LOGS:-}" ] && mkdir -p "$RG_KEEP_LOGS" && cp -r "$work"/. "$RG_KEEP_LOGS"/
	rm -rf "$work"
}

mesh_setup "$build" "$work" rgir-tl rgit
lab_on_cleanup report
NAT_DIR="$work/nat"
nat_init
NAT_TURN_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
NAT_TURN_CERT="$work/turn-cert.pem"
NAT_TURN_PKEY="$work/turn-key.pem"
(umask 077; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=turn.riftgate.lab -keyout "$NAT_TURN_PKEY" -out "$NAT_TURN_CERT" 2>"$work/openssl.log") ||
	{ bad "self-signed certificate: $(tail -1 "$work/openssl.log")"; exit 1; }
nat_turn_start "$NAT_TURN_SECRET" || { bad "coturn starts"; exit 1; }
nat_tcp_listening() { lab_exec "$1" ss -Htln "sport = :$2" 2>/dev/null | grep -q .; }
lab_wait 20 "coturn TLS port" nat_tcp_listening srv "$NAT_TURN_TLS_PORT" && ok "coturn listens for TLS on $NAT_TURN_TLS_PORT" ||
	bad "coturn not listening on $NAT_TURN_TLS_PORT"
# coturn answers a real TLS client on that port with our certificate
if echo | lab_exec srv timeout 10 openssl s_client -connect "$NAT_SRV_IP:$NAT_TURN_TLS_PORT" \
	-CAfile "$NAT_TURN_CERT" -verify_return_error >"$work/s_client.log" 2>&1; then
	ok "coturn's TLS port serves the lab certificate (openssl s_client verifies it)"
else
	bad "TLS handshake with coturn: $(grep -m1 -i error "$work/s_client.log")"
fi
nat_site 1 symmetric
nat_site 2 symmetric

# round KIND PORT LABEL: both agents use TURN config KIND; they must meet through the relay.
round()
{
	local kind=$1 port=$2 label=$3 t0
	nat_hub_start "$port" || { bad "hub starts"; return; }
	nat_write_config 1 "$port" "$kind"
	nat_write_config 2 "$port" "$kind"
	: >"$NAT_DIR/turnserver.log.mark"
	t0=$SECONDS
	mesh_peer_start 1 -v
	mesh_peer_start 2 -v
	if nat_wait_up 1 2 90 && nat_wait_up 2 1 30; then
		ok "$label: symmetric<->symmetric up and pinging ($((SECONDS - t0)) s)"
		ct=$(nat_peer_type 1 2)
		[ "$ct" = relay ] && ok "$label: status shows relay" || bad "$label: candidate pair '$ct', want relay"
		lab_exec p1 ping -c 5 -i 0.2 -W 2 -q "$(nat_tun_ip 2)" >/dev/null 2>&1 &&
			ok "$label: 5/5 pings through the relayed tunnel" || bad "$label: pings lost"
	else
		bad "$label: symmetric<->symmetric up (status: $(nat_peer_error 1 2))"
	fi
	mesh_peer_stop 1
	mesh_peer_stop 2
	nat_hub_stop "$port"
}

round rest-tls 8090 "turns:$NAT_SRV_IP:$NAT_TURN_TLS_PORT"
# coturn names each closed session's transport: the agents' sessions on the TLS port
sess=$(grep -E "closed \(2nd stage\).*local $NAT_SRV_IP:$NAT_TURN_TLS_PORT, remote 198\.18\.0\.1[12]:" \
	"$NAT_DIR/turnserver.log" | grep -oE "reason: [A-Za-z/]+ connection" | sort | uniq -c)
echo "coturn sessions of the agents on port $NAT_TURN_TLS_PORT: ${sess:-none}"
if echo "$sess" | grep -q "TLS/TCP"; then
	ok "turns: sessions were TLS"
elif echo "$sess" | grep -q "reason: TCP connection"; then
	ok "turns: sessions reached coturn's TLS port as plain TCP (no TLS: libnice, documented)"
else
	bad "no agent session on coturn's TLS port"
fi
round rest-tcp 8091 "turn:$NAT_SRV_IP:$NAT_TURN_PORT?transport=tcp"
grep -q "tcp or tls connected to: $(nat_pub_ip 1)" "$NAT_DIR/turnserver.log" &&
	ok "coturn saw TCP connections from the NAT" || bad "no TCP connection from site 1 in the coturn log"

# ---- probe: the first bytes libnice writes to a turns: server
probe_port=5350
cat >"$work/first-bytes.py" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4)
s.settimeout(60)
c, _ = s.accept()
c.settimeout(10)
data = c.recv(16)
open(sys.argv[3], "w").write(data[:2].hex() + "\n")
PY
lab_bg srv "$work/probe.log" /usr/bin/python3 "$work/first-bytes.py" "$NAT_SRV_IP" "$probe_port" "$work/first-bytes"
probe_pid=$LAB_LAST_PID
lab_wait 10 "probe listening" nat_tcp_listening srv "$probe_port"
NAT_TURN_TLS_PORT_SAVED=$NAT_TURN_TLS_PORT
NAT_TURN_TLS_PORT=$probe_port
nat_hub_start 8092 || bad "hub starts"
nat_write_config 1 8092 rest-tls
nat_write_config 2 8092 rest-tls
NAT_TURN_TLS_PORT=$NAT_TURN_TLS_PORT_SAVED
mesh_peer_start 1 -v
mesh_peer_start 2 -v
got_bytes() { [ -s "$work/first-bytes" ]; }
if lab_wait 60 "an agent connects to the turns: probe" got_bytes; then
	fb=$(cat "$work/first-bytes")
	case "$fb" in
	1603) echo "libnice opens turns: with a TLS ClientHello"; ok "turns: probe: TLS ClientHello ($fb)" ;;
	0003) echo "libnice sends a plain STUN Allocate to a turns: server: no TLS at all (RFC 5245 mode)"
		ok "turns: probe: plain STUN Allocate ($fb), documented in docs/nat.md" ;;
	*) bad "turns: probe: unexpected first bytes $fb" ;;
	esac
else
	bad "no agent connected to the turns: probe"
fi
mesh_peer_stop 1
mesh_peer_stop 2
lab_stop "$probe_pid" TERM 5
if grep -l "ERROR: AddressSanitizer\|runtime error:" "$MESH_DIR"/p*.log 2>/dev/null; then
	bad "sanitizer report in an agent log"
else
	ok "no sanitizer reports"
fi
[ "$fails" -eq 0 ]
