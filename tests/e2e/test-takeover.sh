#!/usr/bin/env bash
# Takeover by announcement (issue 15 item 0), without signed membership: three agents with
# tunnels up, then a hostile participant holding the hub token (hostile.py) joins with peer2's
# tunnel address, then with peer2's public key under a new id, then as peer3 itself (another key)
# and offers peer1 and peer2 a new connection without publicKey (a hub that keeps the first
# socket of an id refuses that step itself). Asserts inside the namespaces,
# with `wg show`, that the honest tunnels keep their keys and allowed IPs, that no tunnel was
# rebuilt and ping keeps passing throughout, and that `riftgate status` names each refusal.
# Also: `up` refuses ws:// to a hub that is not on loopback unless allow_insecure_transport is set
# (issue 15 item 7).
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgag-tko.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=160

mesh_setup "$build" "$work" rgag-k rgtk
if ! /usr/bin/python3 -c 'import aiohttp' 2>/dev/null; then
	echo "SKIP: python3-aiohttp is not installed"
	exit 77
fi
report()
{
	if [ "$fails" -gt 0 ]; then
		mesh_dump_logs
		keep="$build/meson-logs/$(basename "$0" .sh)-$(date +%H%M%S)"
		mkdir -p "$keep" && cp "$work"/*.log "$keep"/ 2>/dev/null && echo "logs kept in $keep"
	fi
	echo "e2e takeover: $passes passed, $fails failed"
	check_counts e2e-takeover
	rm -rf "$work"
}
lab_on_cleanup report

mesh_build 3

# ws:// to the lab hub (a LAN address) without allow_insecure_transport: refused before anything
grep -v '^allow_insecure_transport' "$work/p1.toml" >"$work/clear.toml"
chmod 600 "$work/clear.toml"
lab_exec p1 timeout 20 "$MESH_RIFTGATE" up --foreground --config "$work/clear.toml" >"$work/clear.out" 2>&1
rc=$?
cat "$work/clear.out"
check "up refuses ws:// to a LAN hub (rc=$rc)" test "$rc" = 1
check "the refusal says why" grep -q "auth token would cross the network in clear" "$work/clear.out"
check "no interface was created" sh -c "! ip netns exec $(lab_ns p1) ip link show $(mesh_ifname 1) >/dev/null 2>&1"

mesh_hub_start || { bad "hub starts"; exit 1; }
for i in 1 2 3; do mesh_peer_start "$i" -v; done
if ! mesh_wait_all 90; then
	bad "mesh up"
	exit 1
fi
ok "mesh up"
check "up warned about the cleartext token" grep -q "warning: ws://.*crosses the network in clear" "$work/p1.log"

key2=$(mesh_pubkey <"$work/p2.key")
key3=$(mesh_pubkey <"$work/p3.key")
wg_ips() { lab_exec "p$1" timeout 10 wg show "$(mesh_ifname "$1")" allowed-ips | sort; }
since() { mesh_status "$1" --json | jq -r --arg id "peer$2" '.peers[] | select(.peerId == $id) | .since'; }
rejected() { mesh_status "$1" --json | jq -r --arg id "$2" '.peers[] | select(.peerId == $id) | .rejected'; }
for i in 1 2; do wg_ips "$i" >"$work/wg$i.before"; done
cat "$work/wg1.before"
check "peer1's wg: peer2 routes 10.98.100.2/32" grep -qx "$key2	10.98.100.2/32" "$work/wg1.before"
check "peer1's wg: peer3 routes 10.98.100.3/32" grep -qx "$key3	10.98.100.3/32" "$work/wg1.before"
s12=$(since 1 2); s13=$(since 1 3); s23=$(since 2 3)

# ping through the tunnels for the whole attack
lab_exec p1 ping -c 120 -i 0.2 -W 1 "$(mesh_tun_ip 2)" >"$work/ping12.log" 2>&1 &
ping12=$!
lab_exec p1 ping -c 120 -i 0.2 -W 1 "$(mesh_tun_ip 3)" >"$work/ping13.log" 2>&1 &
ping13=$!
lab_exec p2 ping -c 120 -i 0.2 -W 1 "$(mesh_tun_ip 3)" >"$work/ping23.log" 2>&1 &
ping23=$!

lab_exec hub timeout 60 /usr/bin/python3 "$src/tests/e2e/hostile.py" \
	"ws://10.98.0.1:$MESH_HUB_PORT/connect" "$MESH_TOKEN" peer2 "$(mesh_tun_ip 2)/24" "$key2" \
	peer1 peer3 >"$work/hostile.log" 2>&1
rc=$?
cat "$work/hostile.log"
check "hostile participant ran (rc=$rc)" test "$rc" = 0
wait "$ping12" "$ping13" "$ping23"

for p in 12 13 23; do
	rx=$(awk '/packets transmitted/ {print $4}' "$work/ping$p.log")
	echo "ping $p: ${rx:-0}/120 received"
	check "ping ${p:0:1}->${p:1:1} kept passing during the attack (${rx:-0}/120)" \
		test "${rx:-0}" -ge 114
done
for i in 1 2; do
	wg_ips "$i" >"$work/wg$i.after"
	check "peer$i's wg: every key and allowed IP unchanged" cmp -s "$work/wg$i.before" "$work/wg$i.after"
	check "peer$i's wg: no key or address of the intruder" \
		sh -c "! grep -q '10.98.100.77' '$work/wg$i.after'"
	check "peer$i's wg: two peers" test "$(wc -l <"$work/wg$i.after")" = 2
done
cat "$work/wg1.after"
check "peer1: tunnel to peer2 not rebuilt" test "$(since 1 2)" = "$s12"
check "peer1: tunnel to peer3 not rebuilt" test "$(since 1 3)" = "$s13"
check "peer2: tunnel to peer3 not rebuilt" test "$(since 2 3)" = "$s23"
for i in 1 2; do
	for j in 1 2 3; do
		[ "$i" = "$j" ] && continue
		check "peer$i still sees peer$j up" mesh_is_up "$i" "$j"
	done
done
check "status: mallory refused, peer2 owns the address" \
	test "$(rejected 1 mallory)" = "address 10.98.100.2 owned by peer2"
check "status: mallory2 refused, peer2 owns the key" \
	sh -c "test \"\$1\" = \"public key ${key2:0:8}... in use by peer2\"" _ "$(rejected 1 mallory2)"
mesh_status 1 | grep -q "rejected: address 10.98.100.2 owned by peer2" &&
	ok "status text: rejected: address 10.98.100.2 owned by peer2" ||
	bad "status text: rejected: address 10.98.100.2 owned by peer2"
check "the refusal is logged once" test "$(grep -c 'peer mallory: rejected: address' "$work/p1.log")" = 1
# A hub that keeps the first socket of an id refuses the intruder's join as peer3 itself; one
# that lets it in relays the join and the offers, and the agents must refuse them.
if grep -q "peer3: got error id-in-use\|peer3: refused by the hub\|peer3: socket closed" "$work/hostile.log"; then
	ok "peer3's id: the hub refused the intruder"
else
	check "peer3's id taken on the hub: the working tunnel answered, the intruder was refused" \
		grep -q "peer peer3: its tunnel answers; refusing" "$work/p1.log"
fi
mesh_status 1

for i in 1 2 3; do
	mesh_peer_stop "$i" TERM; rc=$?
	check "peer$i exits cleanly (rc=$rc)" test "$rc" = 0
done
if grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$work"/p*.log; then
	bad "sanitizer reports in agent logs"
else
	ok "no sanitizer reports"
fi
[ "$fails" -eq 0 ]
