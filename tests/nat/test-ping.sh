#!/usr/bin/env bash
# riftgate ping in the NAT lab: a direct pair (two full-cone sites: no relay on the path) and a
# relayed pair (two symmetric sites, coturn): every reply names the pair type status shows, both
# endpoints, an RTT; a peer named by its tunnel address works too; an unknown peer is refused.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
. "$src/tests/lab/nat.sh"
command -v turnserver >/dev/null || { echo "SKIP: coturn missing"; exit 77; }

work=$(mktemp -d /tmp/rgnt-ping.XXXXXX)
pass=0 fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

mesh_setup "$build" "$work" rgnt-pg rgp
NAT_DIR=$work/nat
lab_on_cleanup '[ "$fail" -eq 0 ] || mesh_dump_logs; rm -rf "$work"'
nat_init
NAT_TURN_SECRET=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
nat_turn_start "$NAT_TURN_SECRET" || { bad "coturn starts"; exit 1; }
nat_hub_start 8080 || { bad "hub 8080"; exit 1; }
nat_hub_start 8081 || { bad "hub 8081"; exit 1; }
nat_hub_start 8082 || { bad "hub 8082"; exit 1; }
nat_site 1 full-cone
nat_site 2 full-cone
nat_site 3 symmetric
nat_site 4 symmetric
nat_write_config 1 8080 rest
nat_write_config 2 8080 rest
nat_write_config 3 8081 rest
nat_write_config 4 8081 rest
# symmetric <-> symmetric without TURN: only the hub relay carries them
nat_site 5 symmetric
nat_site 6 symmetric
nat_write_config 5 8082 none
nat_write_config 6 8082 none
for i in 1 2 3 4 5 6; do mesh_peer_start "$i"; done
nat_wait_up 1 2 90 || bad "full-cone pair up"
nat_wait_up 3 4 90 || bad "symmetric pair up"

# pingcheck NAME I J WANT_TYPE [TARGET]: riftgate ping -c 3 from p$I to peer$J
pingcheck()
{
	local name=$1 i=$2 j=$3 want=$4 target=${5:-peer$3} out st
	out=$(lab_exec "p$i" timeout 30 "$MESH_RIFTGATE" ping -c 3 -i 0.3 "$target" 2>&1)
	echo "$out"
	st=$(nat_peer_type "$i" "$j")
	check "$name: status says $want ($st)" test "$st" = "$want"
	check "$name: 3 replies" test "$(grep -c '^pong from' <<<"$out")" = 3
	# The first packets after an idle spell may go through the hub relay (the agent calls the
	# direct path silent until it hears back): the last reply must be on the ICE pair.
	check "$name: replies via $want (or the hub relay) with endpoints and an RTT" \
		test "$(grep -cE "^pong from peer$j \($(nat_tun_ip "$j")\) seq [0-9]+ via ($want [0-9.]+:[0-9]+ -> [0-9.]+:[0-9]+|hub-relay) in [0-9.]+ ms$" <<<"$out")" = 3
	check "$name: the last reply via $want" \
		grep -qE "via $want [0-9.]+:[0-9]+ -> [0-9.]+:[0-9]+ in [0-9.]+ ms$" <<<"$(grep '^pong' <<<"$out" | tail -1)"
	check "$name: header names the path" grep -qE "^PING peer$j .* path: ($want, |hub relay)" <<<"$out"
	check "$name: summary" grep -qE "3 sent, 3 received, 0% loss, rtt min/avg/max" <<<"$out"
}
pingcheck direct 1 2 srflx
pingcheck relayed 3 4 relay
pingcheck "by address" 1 2 srflx "$(nat_tun_ip 2)"
lab_wait 40 "peer5 pings peer6 through the hub relay" lab_ping p5 "$(nat_tun_ip 6)" || bad "hub relay pair"
out=$(lab_exec p5 timeout 30 "$MESH_RIFTGATE" ping -c 3 -i 0.3 peer6 2>&1)
echo "$out"
check "hub relay: header says hub relay" grep -qE "^PING peer6 .* path: hub relay" <<<"$out"
check "hub relay: 3 replies via hub-relay" \
	test "$(grep -cE "^pong from peer6 \($(nat_tun_ip 6)\) seq [0-9]+ via hub-relay in [0-9.]+ ms$" <<<"$out")" = 3
out=$(lab_exec p1 "$MESH_RIFTGATE" ping -c 1 nobody 2>&1); rc=$?
check "unknown peer: exit 1 with a message ($out)" test "$rc" = 1 -a -n "$(grep "has a peer 'nobody'" <<<"$out")"
out=$(lab_exec p1 "$MESH_RIFTGATE" ping -c 1 --interface "$(mesh_ifname 1)" nobody 2>&1); rc=$?
check "unknown peer on a named interface ($out)" test "$rc" = 1 -a -n "$(grep "has no peer 'nobody'" <<<"$out")"

# A path change while pinging: site 1's router is renumbered. Seen from peer2 the pair's remote
# side moves to the new address (by an ICE restart, or a peer-reflexive candidate when the
# full-cone NAT keeps the port), maybe through the hub relay meanwhile; every change is
# reported and the replies after it name the new path.
lab_exec p2 timeout 60 "$MESH_RIFTGATE" ping -c 16 -i 0.5 peer1 >"$work/change.txt" 2>&1 &
pingpid=$!
sleep 1.5
nat_change_public_ip 1 41 || bad "renumbering router 1"
wait "$pingpid"
cat "$work/change.txt"
check "path change to the new address reported" \
	grep -qE "^path changed: .* => [a-z]+, [0-9.]+:[0-9]+ \([a-z]+\) -> 198.18.0.41:[0-9]+ " "$work/change.txt"
check "replies after it go to the new address" \
	grep -qE "^pong from peer1 .* via [a-z]+ [0-9.]+:[0-9]+ -> 198.18.0.41:[0-9]+ in" "$work/change.txt"
check "summary counts the change" grep -qE "[1-9] path changes?$" "$work/change.txt"

echo "nat ping: $pass passed, $fail failed"
[ -n "${RG_COUNTS_DIR:-}" ] && mkdir -p "$RG_COUNTS_DIR" && echo "$pass $fail" >"$RG_COUNTS_DIR/nat-ping"
[ "$fail" -eq 0 ]
