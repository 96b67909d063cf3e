#!/usr/bin/env bash
# Signed membership end to end through the Worker hub (docs/worker.md §Signed membership): the
# Worker (Miniflare in the lab's hub namespace, network "lab") runs with TRUST_ANCHOR and
# TRUST_NETWORK. peer1 (admin, init --new-network) and peer2 (invited, join) meet through it and
# ping; peer3 holds the token but no certificate: refused at every join, its agent backs off (at
# most 3 attempts in 30 s) and nobody sees it; peer2 is revoked while it pings: its tunnel on
# peer1 is gone within 5 s, the Worker learns the revocation from the frames it relays, and
# refuses peer2 at the upgrade (by the serial it sends) when it comes back without the record.
# Before that, peer2 rotates its key through the Worker while peer1 pings it (gap <= 1 s).
# Namespaces rgwm-XXXX-*.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/setup.sh"
src=$RG_SOURCE_ROOT
build=$RG_BUILD_ROOT
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgwm-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=200

mesh_setup "$build" "$work" rgwm rgwm
report()
{
	if [ "$fails" -gt 0 ]; then
		mesh_dump_logs
		tail -n 40 "$work/hub.log"
	fi
	echo "e2e membership via worker: $passes passed, $fails failed ($SECONDS s)"
	check_counts worker-e2e-membership
	rm -rf "$work"
}
lab_on_cleanup report
rg=$MESH_RIFTGATE

mesh_build 3		# p3 keeps the lab's plain config: the token, no certificate
sed -i 's#/connect"$#/connect/lab"#' "$work/p3.toml"
rm -f "$work/p1.toml" "$work/p2.toml"
"$rg" init --new-network --name peer1 --network lab --server "ws://10.98.0.1:$MESH_HUB_PORT/connect" \
	--token "$MESH_TOKEN" --address "$(mesh_tun_ip 1)/24" --interface "$(mesh_ifname 1)" \
	--config "$work/p1.toml" >"$work/init.out"
sed -i 's/^servers = .*/servers = []/' "$work/p1.toml"
anchor=$(sed -n 's/^Trust anchor: //p' "$work/init.out")
"$rg" invite --config "$work/p1.toml" --name peer2 --address "$(mesh_tun_ip 2)/24" >"$work/tok2" 2>/dev/null
"$rg" join - --config "$work/p2.toml" --interface "$(mesh_ifname 2)" <"$work/tok2" >/dev/null
check "peer2 enrolled" "$rg" check --config "$work/p2.toml"
check "configs point at /connect/lab" grep -q '/connect/lab"' "$work/p1.toml"

lab_bg hub "$work/hub.log" node "$here/serve.mjs" --host 10.98.0.1 --port "$MESH_HUB_PORT" \
	--token "$MESH_TOKEN" --trust-anchor "$anchor" --trust-network lab
hubpid=$LAB_LAST_PID
if ! lab_wait 60 "worker listening" lab_tcp_listening hub "$MESH_HUB_PORT"; then
	bad "Worker hub starts in the lab"
	exit 1
fi
mesh_peer_start 1
mesh_peer_start 2
check "peer1 sees peer2 through the Worker" mesh_wait_up 1 2 90
check "peer2 sees peer1" mesh_wait_up 2 1 30
check "ping peer1 -> peer2" lab_wait 10 "ping" lab_ping p1 "$(mesh_tun_ip 2)"

# peer3: the token, no certificate.
before=$(grep -c "hub: refused conn" "$work/hub.log")
mesh_peer_start 3
sleep 30
n3=$(( $(grep -c "hub: refused conn" "$work/hub.log") - before ))
check "the Worker refused peer3's joins (no certificate): $n3 in 30 s" test "$n3" -ge 1
check "peer3 backs off: at most 3 attempts in 30 s" test "$n3" -le 3
check "peer3 was told why" grep -q "hub error not-admitted: no certificate" "$work/p3.log"
check "peer1 never saw peer3" eval '[ -z "$(mesh_peer_state 1 3)" ]'
mesh_peer_stop 3

# peer2 rotates its key while peer1 pings it every 50 ms: the Worker takes the re-join with the
# rotation, peer1 switches to the new key, the largest gap between replies stays under 1 s.
old2=$(lab_exec p2 wg show "$(mesh_ifname 2)" public-key)
lab_exec p1 ping -D -n -i 0.05 -W 1 -w 6 "$(mesh_tun_ip 2)" >"$work/pingrot.out" 2>&1 &
pingrot=$!
sleep 2
lab_exec p2 "$rg" rotate --config "$work/p2.toml" >"$work/rotate.out" 2>"$work/rotate.err"
new2=$(head -1 "$work/rotate.out")
wait "$pingrot"
read -r gap nrep < <(awk -F'[][]' '/bytes from/ { t = $2 + 0; if (p && t - p > g) g = t - p; p = t; n++ }
	END { printf "%.3f %d\n", g, n }' "$work/pingrot.out")
echo "peer1 -> peer2 through the rotation via the Worker: largest gap ${gap} s, ${nrep} replies"
check "peer2 rotated its key live" grep -q "the running agent switched" "$work/rotate.err"
check "the Worker forwarded the rotated join: peer1 holds peer2's new key, not the old one" \
	lab_wait 10 "new key" eval 'lab_exec p1 wg show "$(mesh_ifname 1)" peers | grep -qxF "$new2" &&
		! lab_exec p1 wg show "$(mesh_ifname 1)" peers | grep -qxF "$old2"'
check "ping through the rotation: largest gap ${gap} s <= 1 s, ${nrep} replies" \
	awk -v g="$gap" -v n="$nrep" 'BEGIN { exit !(g <= 1.0 && n >= 90) }'

# revoke peer2 while it pings
key2=$(lab_exec p2 wg show "$(mesh_ifname 2)" public-key)
lab_bg p2 "$work/ping.log" ping -i 0.2 "$(mesh_tun_ip 1)"
pingpid=$LAB_LAST_PID
t0=$(date +%s.%N)
lab_exec p1 "$rg" devices revoke peer2 --config "$work/p1.toml" >/dev/null 2>&1
gone() { ! lab_exec p1 wg show "$(mesh_ifname 1)" peers | grep -qF "$key2"; }
if lab_wait 5 "peer2 removed on peer1" gone; then
	ok "peer2's tunnel dropped on peer1 within 5 s ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}') s)"
else
	bad "peer2 still installed on peer1 5 s after the revocation"
fi
check "the Worker learned the revocation from the frames it relayed" \
	lab_wait 10 "worker revoked" grep -q "hub: learned a revocation" "$work/hub.log"
lab_stop "$pingpid" INT 5
mesh_peer_stop 2
rm -f "$work/p2.trust/revoked"
mesh_peer_start 2
check "the Worker refused peer2 at the upgrade when it came back (its serial is revoked)" \
	lab_wait 30 "refused" grep -q "hub: refused a revoked device at the upgrade" "$work/hub.log"
check "peer2 was told it is revoked" lab_wait 10 "revoked" \
	grep -q "the hub refused this device at the upgrade (revoked)" "$work/p2.log"
sleep 3
check "peer1 did not install peer2 again" gone
mesh_peer_stop 2
mesh_peer_stop 1
lab_stop "$hubpid" TERM 5
if grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$work"/p*.log; then
	bad "sanitizer reports in agent logs"
else
	ok "no sanitizer reports"
fi
[ "$fails" -eq 0 ]
