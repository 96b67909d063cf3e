#!/usr/bin/env bash
# riftgate netcheck in the NAT lab (no agent runs): each router type is reported as what it is
# (full-cone, restricted, port-restricted, symmetric), UDP blocked by a firewall, a TURN server
# with wrong credentials, a refused hub token, and STUN servers that answer garbage, spoofed
# (wrong transaction id) or truncated replies, or nothing: a clear verdict, no crash, <= 10 s.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
. "$src/tests/lab/nat.sh"
command -v turnserver >/dev/null || { echo "SKIP: coturn missing"; exit 77; }

work=$(mktemp -d /tmp/rgnt-nc.XXXXXX)
pass=0 fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

mesh_setup "$build" "$work" rgnt-nc rgk
NAT_DIR=$work/nat
lab_on_cleanup '[ "$fail" -eq 0 ] || tail -n 20 "$NAT_DIR"/turnserver.log; rm -rf "$work"'
nat_init
lab_exec srv ip addr add 198.18.0.2/24 dev eth0
lab_exec srv ip addr add 198.18.0.3/24 dev eth0
NAT_TURN_SECRET=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
# TLS for turns: a throwaway lab CA, coturn's certificate names the TURN address; another CA
# that must be refused.
pki() { openssl "$@" 2>>"$work/openssl.log"; }
mkca() { pki req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "/CN=$1" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	-keyout "$work/$2-key.pem" -out "$work/$2.pem"; }
(
	umask 077
	mkca "netcheck lab CA" ca && mkca "another CA" other-ca &&
		pki req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=turn.lab \
			-keyout "$work/turn-key.pem" -out "$work/turn.csr" &&
		printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$NAT_SRV_IP" >"$work/turn.ext" &&
		pki x509 -req -in "$work/turn.csr" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" \
			-CAcreateserial -days 1 -extfile "$work/turn.ext" -out "$work/turn-cert.pem"
) || { bad "certificates: $(tail -1 "$work/openssl.log")"; exit 1; }
chmod 644 "$work/ca.pem" "$work/other-ca.pem"
NAT_TURN_CERT="$work/turn-cert.pem"
NAT_TURN_PKEY="$work/turn-key.pem"
# A second listening address gives coturn RFC 5780 (OTHER-ADDRESS, CHANGE-REQUEST).
nat_turn_start "$NAT_TURN_SECRET" --listening-ip 198.18.0.2 || { bad "coturn starts"; exit 1; }
nat_hub_start 8080 || { bad "hub starts"; exit 1; }
lab_bg srv "$work/liar-garbage.log" python3 "$src/tests/nat/stun-liar.py" 198.18.0.3:4001 garbage
lab_bg srv "$work/liar-spoof.log" python3 "$src/tests/nat/stun-liar.py" 198.18.0.3:4002 spoof
lab_bg srv "$work/liar-trunc.log" python3 "$src/tests/nat/stun-liar.py" 198.18.0.3:4003 truncated
lab_bg srv "$work/liar-silent.log" python3 "$src/tests/nat/stun-liar.py" 198.18.0.3:4004 silent
lab_bg srv "$work/liar-tcp.log" python3 "$src/tests/nat/stun-liar.py" 198.18.0.3:4010 tcp-silent

want_type=(x full-cone restricted port-restricted symmetric)
i=0
for t in full-cone addr-restricted port-restricted symmetric port-restricted; do
	i=$((i + 1))
	nat_site "$i" "$t"
	nat_write_config "$i" 8080 rest
done
# site 5: UDP dropped by a firewall on the host (TCP to the hub still works)
lab_exec p5 nft add table inet rgblock
lab_exec p5 nft add chain inet rgblock out '{ type filter hook output priority 0 ; }'
lab_exec p5 nft add rule inet rgblock out meta l4proto udp drop

# nc I NAME [CONFIG]: netcheck --json from p$I into $work/NAME.json; wall time in $work/NAME.ms
nc()
{
	local i=$1 name=$2 cfg=${3:-$MESH_DIR/p$1.toml} t0 t1
	t0=$(date +%s%N)
	lab_exec "p$i" timeout 20 "$MESH_RIFTGATE" netcheck --json --config "$cfg" \
		>"$work/$name.json" 2>"$work/$name.err"
	echo $? >"$work/$name.rc"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000)) >"$work/$name.ms"
	check "$name: exit 0, JSON" jq -e . "$work/$name.json" >/dev/null
	check "$name: within 10 s ($(cat "$work/$name.ms") ms)" test "$(cat "$work/$name.ms")" -le 10000
	echo "$name: $(jq -r '"\(.nat.type) udp=\(.udp) turn=\([.turn[].result] | join(",")) verdict=\(.verdictText)"' "$work/$name.json")"
}
q() { jq -r "$2" "$work/$1.json" 2>/dev/null; }

for i in 1 2 3 4; do
	nc "$i" "site$i"
	check "site$i: ${want_type[$i]}" test "$(q "site$i" .nat.type)" = "${want_type[$i]}"
	check "site$i: mapped address is the router's" \
		grep -q "^$(nat_pub_ip "$i"):" <<<"$(q "site$i" '.stun[0].mapped')"
	check "site$i: hub token accepted" test "$(q "site$i" .hub.result)" = ok
	check "site$i: TURN over UDP ok" test "$(q "site$i" '.turn[0].result')" = ok
	check "site$i: UDP ok" test "$(q "site$i" .udp)" = ok
done
check "full-cone: direct" test "$(q site1 .verdict)" = direct
check "symmetric: relayed" test "$(q site4 .verdict)" = relayed
lab_exec p1 "$MESH_RIFTGATE" netcheck --config "$MESH_DIR/p1.toml" >"$work/site1.txt" 2>&1
check "text: verdict line" grep -q "^verdict: direct connections likely" "$work/site1.txt"
check "text: NAT line" grep -q "^nat: full-cone" "$work/site1.txt"

nc 5 blocked
check "UDP blocked: udp blocked" test "$(q blocked .udp)" = blocked
check "UDP blocked: verdict none (TURN over UDP blocked too)" test "$(q blocked .verdict)" = none
check "UDP blocked: hub still reached" test "$(q blocked .hub.result)" = ok

# Wrong TURN credentials, a wrong hub token.
sed -e 's/^turn_secret = .*/turn_secret = "not-the-secret"/' -e 's/^auth_token = .*/auth_token = "wrong"/' \
	"$MESH_DIR/p3.toml" >"$work/wrong.toml"
chmod 600 "$work/wrong.toml"
nc 3 wrong "$work/wrong.toml"
check "wrong TURN credentials: auth" test "$(q wrong '.turn[0].result')" = auth
check "wrong TURN credentials: says refused" grep -q "credentials refused" <<<"$(q wrong '.turn[0].detail')"
check "wrong token: token" test "$(q wrong .hub.result)" = token

# TURN over TCP and over TLS (certificate checked against ca_file; another CA refused), and the
# same over TCP with wrong credentials.
tcp_tls()
{
	sed '/^\[\[turn\]\]/,$d' "$MESH_DIR/p3.toml" >"$work/$1.toml"
	printf '\n[[turn]]\nurl = "turn:%s:%s?transport=tcp"\n\n[[turn]]\nurl = "turns:%s:%s"\nca_file = "%s"\n' \
		"$NAT_SRV_IP" "$NAT_TURN_PORT" "$NAT_SRV_IP" "$NAT_TURN_TLS_PORT" "$2" >>"$work/$1.toml"
	printf '\n[webrtc]\nordered = false\nmax_retransmits = 0\n' >>"$work/$1.toml"
	[ -n "${3:-}" ] && sed -i "s/^turn_secret = .*/turn_secret = \"$3\"/" "$work/$1.toml"
	chmod 600 "$work/$1.toml"
}
lab_wait 20 "coturn TLS port" lab_tcp_listening srv "$NAT_TURN_TLS_PORT" || bad "coturn TLS port"
tcp_tls streams "$work/ca.pem"
nc 3 streams "$work/streams.toml"
check "TURN over TCP: ok" test "$(q streams '.turn[0] | "\(.transport) \(.result)"')" = "tcp ok"
check "TURN over TLS: ok" test "$(q streams '.turn[1] | "\(.transport) \(.result)"')" = "tls ok"
tcp_tls otherca "$work/other-ca.pem"
nc 3 otherca "$work/otherca.toml"
check "TURN over TLS, another CA: tls ($(q otherca '.turn[1].detail'))" test "$(q otherca '.turn[1].result')" = tls
tcp_tls tcpwrong "$work/ca.pem" not-the-secret
nc 3 tcpwrong "$work/tcpwrong.toml"
check "TURN over TCP, wrong credentials: auth" test "$(q tcpwrong '.turn[0].result')" = auth
check "TURN over TLS, wrong credentials: auth" test "$(q tcpwrong '.turn[1].result')" = auth

# A TCP TURN server that accepts and never answers, twice: bounded, unreachable.
sed '/^\[\[turn\]\]/,$d' "$MESH_DIR/p3.toml" >"$work/tcpsilent.toml"
printf '\n[[turn]]\nurl = "turn:198.18.0.3:4010?transport=tcp"\n\n[[turn]]\nurl = "turn:198.18.0.3:4010?transport=tcp"\n' >>"$work/tcpsilent.toml"
chmod 600 "$work/tcpsilent.toml"
nc 3 tcpsilent "$work/tcpsilent.toml"
check "silent TCP TURN: unreachable" test "$(q tcpsilent '.turn[0].result')" = unreachable

# STUN servers that lie or say nothing (site 3, port-restricted: replies come back through the
# mapping because the host sent to them first).
for m in garbage:4001 spoof:4002 truncated:4003 silent:4004; do
	name=${m%%:*}; port=${m#*:}
	sed "s|^servers = .*|servers = [\"stun:198.18.0.3:$port\"]|" "$MESH_DIR/p3.toml" >"$work/$name.toml"
	chmod 600 "$work/$name.toml"
	nc 3 "$name" "$work/$name.toml"
	check "$name: no mapping taken" test "$(q "$name" '.stun[0].answered')" = false
	check "$name: NAT unknown" test "$(q "$name" .nat.type)" = unknown
	check "$name: a verdict" test -n "$(q "$name" .verdictText)"
	if [ "$name" = silent ]; then
		check "silent: nothing ignored" test "$(q "$name" '.stun[0].ignoredReplies')" = 0
		check "silent: UDP not called blocked (TURN answered over UDP)" test "$(q "$name" .udp)" = ok
	else
		check "$name: replies counted as ignored" test "$(q "$name" '.stun[0].ignoredReplies')" -gt 0
		check "$name: UDP passes" test "$(q "$name" .udp)" = ok
	fi
done

echo "netcheck: $pass passed, $fail failed"
[ -n "${RG_COUNTS_DIR:-}" ] && mkdir -p "$RG_COUNTS_DIR" && echo "$pass $fail" >"$RG_COUNTS_DIR/nat-netcheck"
[ "$fail" -eq 0 ]
