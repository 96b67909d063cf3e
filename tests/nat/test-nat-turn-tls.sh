#!/usr/bin/env bash
# TURN over TLS (turns:, through the agent's loopback TLS bridge) and over TCP
# (turn:...?transport=tcp), both sides behind symmetric NATs so the relay is the only path.
# The test makes a throwaway CA and a coturn certificate for the lab's TURN address (IP SAN), and
# a second CA that signed nothing coturn holds.
#   round S: turns: + ca_file = the lab CA on both agents: tunnel up, ping, status relay, coturn
#            logs the agents' sessions as TLS/TCP, status shows verified TLS connections
#   round T: turn:198.18.0.1:3478?transport=tcp on both agents: the same over plain TCP
#   round B: peer1 trusts another CA, peer2 the system store (which lacks the lab CA): no relay,
#            no tunnel, status and log name the server and "certificate refused"
#   probe:   the first bytes an agent sends to a turns: server are a TLS ClientHello (16 03)
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
. "$src/tests/lab/nat.sh"

work=$(mktemp -d /tmp/rgtt-tls.XXXXXX)
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

mesh_setup "$build" "$work" rgtt- rgt
lab_on_cleanup report
NAT_DIR="$work/nat"
nat_init

# ---- certificates: lab CA -> coturn (IP SAN = the TURN address); another CA for round B
pki() { openssl "$@" 2>>"$work/openssl.log"; }
mkca()
{
	pki req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj "/CN=$1" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign -keyout "$work/$2-key.pem" -out "$work/$2.pem"
}
(
	umask 077
	mkca "riftgate lab CA" ca && mkca "some other CA" other-ca &&
		pki req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=turn.riftgate.lab \
			-keyout "$work/turn-key.pem" -out "$work/turn.csr" &&
		printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$NAT_SRV_IP" >"$work/turn.ext" &&
		pki x509 -req -in "$work/turn.csr" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" \
			-CAcreateserial -days 1 -extfile "$work/turn.ext" -out "$work/turn-cert.pem"
) || { bad "certificates: $(tail -1 "$work/openssl.log")"; exit 1; }
chmod 644 "$work/ca.pem" "$work/other-ca.pem"
NAT_TURN_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
NAT_TURN_CERT="$work/turn-cert.pem"
NAT_TURN_PKEY="$work/turn-key.pem"
nat_turn_start "$NAT_TURN_SECRET" || { bad "coturn starts"; exit 1; }
nat_tcp_listening() { lab_exec "$1" ss -Htln "sport = :$2" 2>/dev/null | grep -q .; }
lab_wait 20 "coturn TLS port" nat_tcp_listening srv "$NAT_TURN_TLS_PORT" && ok "coturn listens for TLS on $NAT_TURN_TLS_PORT" ||
	bad "coturn not listening on $NAT_TURN_TLS_PORT"
if echo | lab_exec srv timeout 10 openssl s_client -connect "$NAT_SRV_IP:$NAT_TURN_TLS_PORT" \
	-CAfile "$work/ca.pem" -verify_ip "$NAT_SRV_IP" -verify_return_error >"$work/s_client.log" 2>&1; then
	ok "coturn's TLS port serves the lab certificate (openssl s_client verifies chain and IP)"
else
	bad "TLS handshake with coturn: $(grep -m1 -i error "$work/s_client.log")"
fi
nat_site 1 symmetric
nat_site 2 symmetric

# set_ca I FILE: ca_file for peer I's turns: entry ("" = none: the system store)
set_ca()
{
	[ -n "$2" ] && sed -i "/^url = \"turns:/a ca_file = \"$2\"" "$MESH_DIR/p$1.toml"
	return 0
}
turn_json() { mesh_status "$1" --json 2>/dev/null | jq -r ".turnTls[0].$2 // empty" 2>/dev/null; }

# round KIND PORT LABEL CA1 CA2: both agents use TURN config KIND; they must meet via the relay.
round()
{
	local kind=$1 port=$2 label=$3 t0
	nat_hub_start "$port" || { bad "hub starts"; return; }
	nat_write_config 1 "$port" "$kind"
	nat_write_config 2 "$port" "$kind"
	set_ca 1 "${4:-}"
	set_ca 2 "${5:-}"
	t0=$SECONDS
	mesh_peer_start 1 -v
	mesh_peer_start 2 -v
	if nat_wait_up 1 2 90 && nat_wait_up 2 1 30; then
		ok "$label: symmetric<->symmetric up and pinging ($((SECONDS - t0)) s)"
		ct=$(nat_peer_type 1 2)
		[ "$ct" = relay ] && ok "$label: status shows relay" || bad "$label: candidate pair '$ct', want relay"
		lab_exec p1 ping -c 5 -i 0.2 -W 2 -q "$(nat_tun_ip 2)" >/dev/null 2>&1 &&
			ok "$label: 5/5 pings through the relayed tunnel" || bad "$label: pings lost"
		if [ "$kind" = rest-tls ]; then
			n=$(turn_json 1 tlsOk)
			e=$(turn_json 1 lastError)
			[ "${n:-0}" -ge 1 ] && [ -z "$e" ] &&
				ok "$label: status: $n TLS connection(s) verified, no error" ||
				bad "$label: status turnTls: ok '${n:-}', error '$e'"
			mesh_status 1 | grep -q "turn turns:$NAT_SRV_IP:$NAT_TURN_TLS_PORT: TLS ok" &&
				ok "$label: status text shows the turns: server TLS ok" ||
				bad "$label: status text: $(mesh_status 1 | grep -m1 'turn ')"
		fi
	else
		bad "$label: symmetric<->symmetric up (status: $(nat_peer_error 1 2); TLS: $(turn_json 1 lastError))"
	fi
	mesh_peer_stop 1
	mesh_peer_stop 2
	nat_hub_stop "$port"
}

round rest-tls 8090 "turns:$NAT_SRV_IP:$NAT_TURN_TLS_PORT" "$work/ca.pem" "$work/ca.pem"
# coturn names each closed session's transport: the agents' sessions on the TLS port
sess=$(grep -E "closed \(2nd stage\).*local $NAT_SRV_IP:$NAT_TURN_TLS_PORT, remote 198\.18\.0\.1[12]:" \
	"$NAT_DIR/turnserver.log" | grep -oE "reason: [A-Za-z/]+" | sort | uniq -c)
echo "coturn sessions of the agents on port $NAT_TURN_TLS_PORT: ${sess:-none}"
if echo "$sess" | grep -q "TLS/TCP"; then
	ok "turns: sessions were TLS (coturn: TLS/TCP)"
else
	bad "no TLS session of the agents on coturn's TLS port"
fi
echo "$sess" | grep -q "reason: TCP$" && bad "a turns: session reached coturn as plain TCP"
grep -h "TURN turns:" "$MESH_DIR"/p1.log | grep -q "TLS bridge on 127.0.0.1:" &&
	ok "agent logs its loopback TLS bridge" || bad "no bridge line in the agent log"

round rest-tcp 8091 "turn:$NAT_SRV_IP:$NAT_TURN_PORT?transport=tcp"
grep -q "tcp or tls connected to: $(nat_pub_ip 1)" "$NAT_DIR/turnserver.log" &&
	ok "coturn saw TCP connections from the NAT" || bad "no TCP connection from site 1 in the coturn log"

# ---- round B: an untrusted certificate fails that server, clearly, and there is no relay
nat_hub_start 8093 || bad "hub starts"
nat_write_config 1 8093 rest-tls
nat_write_config 2 8093 rest-tls
set_ca 1 "$work/other-ca.pem"
mesh_peer_start 1 -v
mesh_peer_start 2 -v
refused() { turn_json "$1" lastError | grep -q "certificate refused"; }
lab_wait 60 "peer1 reports the refused certificate" refused 1 &&
	ok "bad CA: status names the TLS error: $(turn_json 1 lastError)" ||
	bad "bad CA: status turnTls error '$(turn_json 1 lastError)'"
lab_wait 30 "peer2 (system store) reports the refused certificate" refused 2 &&
	ok "system store: the lab certificate is refused: $(turn_json 2 lastError)" ||
	bad "system store: status turnTls error '$(turn_json 2 lastError)'"
turn_json 1 lastError | grep -q "issuer not trusted" && ok "bad CA: the reason is the issuer" ||
	bad "bad CA: reason '$(turn_json 1 lastError)'"
grep -q "TURN turns:$NAT_SRV_IP:$NAT_TURN_TLS_PORT: TLS: certificate refused" "$MESH_DIR/p1.log" &&
	ok "bad CA: the log line names the server" || bad "bad CA: no log line naming the server"
mesh_status 1 | grep -q "last error: TLS: certificate refused" &&
	ok "bad CA: status text shows the error" || bad "bad CA: status text lacks the error"
[ "$(turn_json 1 tlsOk)" = 0 ] && ok "bad CA: no TLS connection counted as verified" ||
	bad "bad CA: tlsOk $(turn_json 1 tlsOk)"
sleep 5
st=$(mesh_peer_state 1 2)
[ "$st" != up ] && ok "bad CA: no tunnel without the relay (peer2 is '${st:-unknown}')" ||
	bad "bad CA: peer2 is up without a trusted relay"
mesh_peer_stop 1
mesh_peer_stop 2
nat_hub_stop 8093

# ---- probe: the first bytes an agent writes to a turns: server
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
	1603) ok "turns: probe: the agent opens with a TLS ClientHello ($fb)" ;;
	0003) bad "turns: probe: plain STUN Allocate ($fb): no TLS" ;;
	*) bad "turns: probe: unexpected first bytes $fb" ;;
	esac
else
	bad "no agent connected to the turns: probe"
fi
mesh_peer_stop 1
mesh_peer_stop 2
nat_hub_stop 8092
lab_stop "$probe_pid" TERM 5
if grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$MESH_DIR"/p*.log 2>/dev/null; then
	bad "sanitizer report in an agent log"
else
	ok "no sanitizer reports"
fi
[ "$fails" -eq 0 ]
