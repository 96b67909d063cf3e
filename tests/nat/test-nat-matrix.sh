#!/usr/bin/env bash
# NAT-pair matrix: `riftgate up` agents behind every pair of NAT types (full-cone, addr-restricted,
# port-restricted, symmetric) connect and ping through the tunnel; `riftgate status` names the
# candidate type; pairs that no direct path can serve (symmetric with port-restricted or
# symmetric) go through the coturn relay; with TURN removed, symmetric<->symmetric reports
# "no path ... TURN" in status and the log instead of retrying silently.
#   round A: sites 1-4 (one of each type) on one hub: the 6 mixed pairs
#   round B: sites 1-4 with 5-8 (same types) on one hub per pair: the 4 same-type pairs
#            (site 8 uses a static [[turn]] username/credential, the rest REST credentials)
#   round T: sites 4 and 8 (symmetric) with TURN over TCP
#   round C: sites 4 and 8 (symmetric) without TURN
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
. "$src/tests/lab/nat.sh"

work=$(mktemp -d /tmp/rgnt-matrix.XXXXXX)
. "$src/tests/lab/check.sh"
report()
{
	if [ "$fails" -gt 0 ]; then
		mesh_dump_logs
		tail -n 30 "$NAT_DIR/turnserver.log" 2>/dev/null
	fi
	echo "nat matrix: $passes passed, $fails failed"
	check_counts nat-matrix
	[ -n "${NAT_RESULTS:-}" ] && cp "$work/results.tsv" "$NAT_RESULTS" 2>/dev/null
	rm -rf "$work"
}

mesh_setup "$build" "$work" rgnt-mx rgn7
lab_on_cleanup report
NAT_DIR="$work/nat"
nat_init
NAT_TURN_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
nat_turn_start "$NAT_TURN_SECRET" || { bad "coturn starts"; exit 1; }
for i in 1 2 3 4 5 6 7 8; do
	nat_site "$i" "${NAT_TYPES[$(((i - 1) % 4))]}"
done
printf 'pair\ttypes\tcandidate\tseconds_to_first_ping\n' >"$work/results.tsv"

# expected candidate type per pair of NAT types (either side's worst: relay > prflx/srflx > host)
needs_relay()
{
	case "$1/$2" in
	symmetric/symmetric | symmetric/port-restricted | port-restricted/symmetric) return 0 ;;
	*) return 1 ;;
	esac
}

# check_pair I J T0: both see each other up, ping both ways, candidate type as expected.
check_pair()
{
	local i=$1 j=$2 t0=$3 ti tj ct
	ti=${NAT_TYPE[$i]} tj=${NAT_TYPE[$j]}
	if ! nat_wait_up "$i" "$j" 90; then
		bad "$ti(peer$i) <-> $tj(peer$j): up and pinging (status: $(nat_peer_error "$i" "$j"))"
		return
	fi
	printf '%s\t%s\t' "peer$i-peer$j" "$ti/$tj" >>"$work/results.tsv"
	local dt=$((SECONDS - t0))
	if lab_exec "p$j" ping -c 3 -i 0.2 -W 3 -q "$(nat_tun_ip "$i")" >/dev/null 2>&1; then
		ok "$ti(peer$i) <-> $tj(peer$j): ping both ways through the tunnel"
	else
		bad "$ti(peer$j) -> $tj(peer$i): ping back"
	fi
	ct=$(nat_peer_type "$i" "$j")
	printf '%s\t%s\n' "$ct" "$dt" >>"$work/results.tsv"
	if [ "$ti/$tj" = port-restricted/port-restricted ] || [ "$ti/$tj" = addr-restricted/symmetric ]; then
		# a direct pair exists only once both sides have sent (prflx discovery): it works,
		# but the relay pair may validate first and win the nomination race
		case "$ct" in
		srflx | prflx | relay) ok "$ti <-> $tj: connected ($ct; direct or relay both valid)" ;;
		*) bad "$ti <-> $tj: candidate '$ct'" ;;
		esac
	elif needs_relay "$ti" "$tj"; then
		[ "$ct" = relay ] && ok "$ti <-> $tj: via TURN relay" || bad "$ti <-> $tj: candidate '$ct', expected relay"
	else
		case "$ct" in
		srflx | prflx) ok "$ti <-> $tj: direct ($ct)" ;;
		*) bad "$ti <-> $tj: candidate '$ct', expected a direct srflx/prflx pair" ;;
		esac
	fi
	lab_exec "p$i" "$MESH_RIFTGATE" status "$(mesh_ifname "$i")" 2>/dev/null | grep -q "candidate pair: $ct" &&
		ok "status text shows the candidate pair ($ct)" || bad "status text lacks 'candidate pair: $ct'"
	check_direct "$i" "$j" "$ct"
}

# The direct path (WireGuard on the ICE 5-tuple, docs/agent.md): never on a TURN-relayed pair
# (no frame sent either way, status off), and taken through the NATs on the others.
direct_of() { mesh_status "$1" --json 2>/dev/null | jq -r --arg id "peer$2" '.peers[] | select(.peerId == $id) | "\(.path)|\(.direct)|\(.directTx)"'; }
is_direct() { [ "$(direct_of "$1" "$2" | cut -d'|' -f1)" = direct ]; }
check_direct()
{
	local i=$1 j=$2 ct=$3 a b
	lab_exec "p$i" ping -c 5 -i 0.1 -W 2 -q "$(nat_tun_ip "$j")" >/dev/null 2>&1
	if [ "$ct" = relay ]; then
		a=$(direct_of "$i" "$j"); b=$(direct_of "$j" "$i")
		case "$a $b" in
		"data channel|off|0 data channel|off|0" | "relay|off|0 data channel|off|0" | \
		"data channel|off|0 relay|off|0" | "relay|off|0 relay|off|0")
			ok "relayed pair: no direct path ($a / $b)" ;;
		*) bad "relayed pair: direct path used or negotiated ($a / $b)" ;;
		esac
	elif lab_wait 10 "peer$i: direct path to peer$j" is_direct "$i" "$j"; then
		ok "$ct pair: direct path through the NATs ($(direct_of "$i" "$j"))"
	else
		bad "$ct pair: no direct path ($(direct_of "$i" "$j"))"
	fi
}

# ---- round A: one site of each type on one hub
nat_hub_start 8080 || { bad "hub starts"; exit 1; }
for i in 1 2 3 4; do nat_write_config "$i" 8080 rest; mesh_peer_start "$i" -v; done
t0=$SECONDS
for i in 1 2 3 4; do
	for ((j = i + 1; j <= 4; j++)); do
		check_pair "$i" "$j" "$t0"
	done
done
for i in 1 2 3 4; do mesh_peer_stop "$i"; done
nat_hub_stop 8080

# ---- round B: same-type pairs, one hub each
for i in 1 2 3 4; do
	j=$((i + 4)); port=$((8080 + i))
	nat_hub_start "$port" || { bad "hub $port starts"; exit 1; }
	nat_write_config "$i" "$port" rest
	if [ "$j" = 8 ]; then nat_write_config "$j" "$port" static; else nat_write_config "$j" "$port" rest; fi
	mesh_peer_start "$i" -v
	mesh_peer_start "$j" -v
done
t0=$SECONDS
for i in 1 2 3 4; do check_pair "$i" $((i + 4)) "$t0"; done
for i in 1 2 3 4 5 6 7 8; do mesh_peer_stop "$i"; done
for i in 1 2 3 4; do nat_hub_stop $((8080 + i)); done

# ---- round T: symmetric <-> symmetric with TURN over TCP (?transport=tcp)
nat_hub_start 8089 || { bad "hub starts"; exit 1; }
nat_write_config 4 8089 rest-tcp
nat_write_config 8 8089 rest-tcp
mesh_peer_start 4 -v
mesh_peer_start 8 -v
if nat_wait_up 4 8 90; then
	ct=$(nat_peer_type 4 8)
	[ "$ct" = relay ] && ok "symmetric<->symmetric via TURN over TCP: relay" || bad "TURN/TCP pair: '$ct'"
	grep -q "tcp or tls connected to: $(nat_pub_ip 4)" "$NAT_DIR/turnserver.log" &&
		ok "coturn saw the TCP allocation" || bad "no TCP connection in the coturn log"
else
	bad "symmetric<->symmetric via TURN over TCP up"
fi
for i in 4 8; do mesh_peer_stop "$i"; done
nat_hub_stop 8089

# ---- round C: symmetric <-> symmetric without TURN: a clear error, not a silent retry loop
nat_hub_start 8090 || { bad "hub starts"; exit 1; }
nat_write_config 4 8090 none
nat_write_config 8 8090 none
mesh_peer_start 4 -v
mesh_peer_start 8 -v
no_path() { nat_peer_error 4 8 | grep -qi "no path.*TURN"; }
if lab_wait 120 "peer4 reports no path to peer8" no_path; then
	ok "symmetric<->symmetric without TURN: status says: $(nat_peer_error 4 8)"
else
	bad "symmetric<->symmetric without TURN: no 'no path ... TURN' error (state $(mesh_peer_state 4 8), error '$(nat_peer_error 4 8)')"
fi
grep -qi "no path.*TURN" "$MESH_DIR/p4.log" && ok "the log says no path / add TURN" || bad "the log lacks the no-path message"
mesh_is_up 4 8 && bad "symmetric<->symmetric came up without TURN (lab NAT not symmetric?)" || ok "no tunnel without TURN"
for i in 4 8; do mesh_peer_stop "$i"; done

if grep -l "ERROR: AddressSanitizer\|runtime error:" "$MESH_DIR"/p*.log 2>/dev/null; then
	bad "sanitizer report in an agent log"
else
	ok "no sanitizer reports"
fi
column -t "$work/results.tsv" 2>/dev/null || cat "$work/results.tsv"
[ "$fails" -eq 0 ]
