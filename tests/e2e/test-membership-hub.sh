#!/usr/bin/env bash
# End-to-end hub enforcement of signed membership (docs/membership.md): riftgate-hub with
# --trust-anchor admits a join only with a valid, unrevoked certificate for its peerId, key and
# address, and never gives a seated peerId to a second socket. peer1 (admin) and peer2 (invited)
# connect; peer3 holds the hub token but no certificate: refused at every join, and its agent
# backs off (a handful of attempts a minute at most); peer4 runs a copy of peer2's config and
# certificate: refused, peer2 keeps its seat and its tunnel; peer2 revoked: the hub learns the
# revocation from the frames it relays and keeps it in its --revoked file, and refuses peer2
# when it comes back, at the upgrade (by the serial it sends), a handful of times a minute and
# never as far as a join. Budget: 190 s.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgmh-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=240

mesh_setup "$build" "$work" rgmh- rgh
report()
{
	if [ "$fails" -gt 0 ]; then
		mesh_dump_logs
	fi
	echo "e2e membership-hub: $passes passed, $fails failed ($SECONDS s)"
	check_counts e2e-membership-hub
	rm -rf "$work"
}
lab_on_cleanup report
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
rg=$MESH_RIFTGATE

mesh_build 4		# p3 keeps the lab's plain config: the token, no certificate
rm -f "$work/p1.toml" "$work/p2.toml" "$work/p4.toml"
mesh_signed_init
anchor=$(sed -n 's/^Trust anchor: //p' "$work/init.out")
mesh_signed_join 2
check "peer2 enrolled" "$rg" check --config "$work/p2.toml"
# peer4: a copy of peer2's identity (config, key, certificate) on another interface.
sed "s/^interface = .*/interface = \"$(mesh_ifname 4)\"/" "$work/p2.toml" >"$work/p4.toml"
chmod 600 "$work/p4.toml"
cp -a "$work/p2.trust" "$work/p4.trust"

hub_start()
{
	lab_bg hub "$work/hub.log" "$MESH_HUB" --addr "10.98.0.1:$MESH_HUB_PORT" --token "$MESH_TOKEN" \
		--trust-anchor "$anchor" --trust-network lab --revoked "$work/hub-revoked" \
		--trust-state "$work/hub-state"
	hubpid=$LAB_LAST_PID
}
hub_start
check "hub with --trust-anchor listening" lab_wait 20 "hub" lab_tcp_listening hub "$MESH_HUB_PORT"
mesh_peer_start 1
mesh_peer_start 2
check "peer1 sees peer2" mesh_wait_up 1 2 45
check "peer2 sees peer1" mesh_wait_up 2 1 20

# peer3: token, no certificate.
mesh_peer_start 3
sleep 30
n3=$(grep -c 'event=refused .*peer=peer3 ' "$work/hub.log")
check "the hub refused peer3's joins (no certificate): $n3 in 30 s" test "$n3" -ge 1
check "peer3 backs off: at most 3 attempts in 30 s" test "$n3" -le 3
check "peer3 never joined" eval '! grep -q "event=join .*peer=peer3 " "$work/hub.log"'
check "peer1 never saw peer3" eval '[ -z "$(mesh_peer_state 1 3)" ]'
check "up noted once that peer3's network is not signed" \
	test "$(grep -c "is not signed" "$work/p3.log")" = 1
check "peer1's up printed no such note" eval '! grep -q "is not signed" "$work/p1.log"'
mesh_peer_stop 3

# peer4: peer2's identity on a second socket: refused, peer2 keeps its seat and tunnel.
mesh_peer_start 4
check "the hub refused the second socket for peer2" \
	lab_wait 20 "peer-id-taken" grep -q 'peer-id-taken\|this peerId is connected' "$work/p4.log"
check "peer2's tunnel still up" lab_ping p1 "$(mesh_tun_ip 2)"
check "peer2 still seated (no replace)" eval '! grep -q "replaced" "$work/p2.log"'
mesh_peer_stop 4

# --trust-state: the hub keeps peer2's ticket binding across a restart. A second device enrolled
# on peer2's invite (another key), arriving first after the restart, is refused.
check "the hub recorded peer2's ticket binding" grep -q '^binding ' "$work/hub-state"
mesh_peer_stop 2
lab_stop "$hubpid" TERM 5
hub_start
check "the hub is back" lab_wait 20 "hub" lab_tcp_listening hub "$MESH_HUB_PORT"
check "the hub read its state back" grep -q 'event=trust-state .*bindings=1' "$work/hub.log"
"$rg" join - --force --config "$work/p3.toml" --interface "$(mesh_ifname 3)" <"$work/tok2" >/dev/null
j2=$(grep -c "event=join .*peer=peer2 " "$work/hub.log")
mesh_peer_start 3
check "after the restart, a second key on peer2's invite is refused" lab_wait 20 "reused" \
	grep -q 'event=refused .*peer=peer2 reason="invite ticket already used by another key"' \
	"$work/hub.log"
check "and never joined" eval '[ "$(grep -c "event=join .*peer=peer2 " "$work/hub.log")" = "$j2" ]'
mesh_peer_stop 3
mesh_peer_start 2
check "the real peer2 is admitted after the restart" mesh_wait_up 1 2 45

# revoke peer2; restarted without the record (as if it had been offline), the hub refuses it.
lab_exec p1 "$rg" devices revoke peer2 --config "$work/p1.toml" >/dev/null 2>&1
check "the hub learned the revocation from the revoke frames it relayed" \
	lab_wait 10 "hub revoked" grep -q "event=revoked .*peer=peer2 " "$work/hub.log"
check "the hub persisted it" test "$(wc -l <"$work/hub-revoked" 2>/dev/null)" = 1
mesh_peer_stop 2
check "peer2 had received its own revocation" test -s "$work/p2.trust/revoked"
out=$(lab_exec p2 timeout 20 "$rg" up --foreground --config "$work/p2.toml" 2>&1)
check "an agent that knows its certificate is revoked does not start" \
	eval '[[ $out == *revoked* ]]'
rm -f "$work/p2.trust/revoked"
joins_before=$(grep -c 'event=join ' "$work/hub.log")
mesh_peer_start 2
check "the hub refused revoked peer2 at the upgrade (its serial is revoked)" \
	lab_wait 20 "refused at upgrade" grep -q 'event=refused-upgrade reason=revoked' "$work/hub.log"
# Cost guard at the upgrade: no WebSocket, no join frame, a handful of attempts a minute.
sleep 30
nu=$(grep -c 'event=refused-upgrade reason=revoked' "$work/hub.log")
check "revoked peer2: at most 3 upgrade attempts in 30 s ($nu)" test "$nu" -ge 1 -a "$nu" -le 3
check "revoked peer2 never reached join (no join-level refusal, no join)" \
	eval '! grep -q "event=refused .*peer=peer2 reason=\"revoked\"" "$work/hub.log" &&
	      [ "$(grep -c "event=join " "$work/hub.log")" = "$joins_before" ]'
check "peer2's agent says the hub refused it at the upgrade" \
	grep -q 'refused this device at the upgrade' "$work/p2.log"

lab_stop "$hubpid" TERM 5
if grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$work"/*.log; then
	bad "sanitizer reports in logs"
else
	ok "no sanitizer reports"
fi
[ "$fails" -eq 0 ]
