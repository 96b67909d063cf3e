#!/usr/bin/env bash
# End-to-end key rotation (docs/membership.md §Key rotation), issue 14 item 7: a signed network on
# riftgate-hub --trust-anchor with three agents. peer2 runs `riftgate rotate` while peer1 and
# peer3 ping it every 20 ms: the largest gap between replies must stay under 1 s, `wg show` on
# peer1 and peer3 must list peer2's new key and not the old one, and peer2's old identity (its
# config and certificate from before the rotation, as a thief of the old key would hold them)
# is refused by the hub and installed by nobody. peer2 restarted with its rotated key comes back.
# Budget: 150 s.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgrk-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=150

mesh_setup "$build" "$work" rgrk- rgk
report()
{
	if [ "$fails" -gt 0 ]; then
		mesh_dump_logs
	fi
	echo "e2e rotate: $passes passed, $fails failed ($SECONDS s)"
	check_counts e2e-rotate
	rm -rf "$work"
}
lab_on_cleanup report
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
rg=$MESH_RIFTGATE

mesh_build 3
rm -f "$work"/p?.toml
mesh_signed_init
anchor=$(sed -n 's/^Trust anchor: //p' "$work/init.out")
mesh_signed_join 2 3
check "peer2 enrolled" "$rg" check --config "$work/p2.toml"

lab_bg hub "$work/hub.log" "$MESH_HUB" --addr "10.98.0.1:$MESH_HUB_PORT" --token "$MESH_TOKEN" \
	--trust-anchor "$anchor" --trust-network lab
hubpid=$LAB_LAST_PID
check "hub with --trust-anchor listening" lab_wait 20 "hub" lab_tcp_listening hub "$MESH_HUB_PORT"
for i in 1 2 3; do mesh_peer_start "$i"; done
check "every pair up" mesh_wait_all 60

# peer2's identity before the rotation, kept aside.
mkdir -p "$work/old"
cp -a "$work/p2.toml" "$work/p2.trust" "$work/old/"
old_key=$(sed -n 's/^private_key = "\(.*\)"/\1/p' "$work/p2.toml" | "$rg" pubkey)

# Pings every 20 ms from peer1 and peer3 to peer2, with timestamps; rotate in the middle.
for i in 1 3; do
	lab_exec "p$i" ping -D -n -i 0.02 -W 1 -w 8 "$(mesh_tun_ip 2)" >"$work/ping$i.out" 2>&1 &
	pings+=($!)
done
sleep 2
t_rotate=$(date +%s)
lab_exec p2 "$rg" rotate --config "$work/p2.toml" >"$work/rotate.out" 2>"$work/rotate.err"
check "riftgate rotate ran and told the agent" grep -q "the running agent switched" "$work/rotate.err"
new_key=$(head -1 "$work/rotate.out")
check "a new key was printed" test -n "$new_key" -a -n "$old_key" -a "$new_key" != "$old_key"
echo "peer2: old key ${old_key:0:8}..., new key ${new_key:0:8}..."
wait "${pings[@]}"

# The largest gap between consecutive replies (s), and replies received.
gap() { awk -F'[][]' '/bytes from/ { t = $2 + 0; if (p && t - p > g) g = t - p; p = t; n++ }
	END { printf "%.3f %d\n", g, n }' "$1"; }
for i in 1 3; do
	read -r g n < <(gap "$work/ping$i.out")
	echo "peer$i -> peer2 through the rotation: largest gap ${g} s, ${n} replies"
	check "peer$i -> peer2: largest ping gap ${g} s <= 1 s" awk -v g="$g" 'BEGIN { exit !(g <= 1.0) }'
	check "peer$i -> peer2: replies throughout ($n)" test "$n" -ge 200
done

wg_peers() { lab_exec "p$1" wg show "$(mesh_ifname "$1")" peers 2>/dev/null; }
for i in 1 3; do
	check "wg show on peer$i lists peer2's new key" eval 'wg_peers '"$i"' | grep -qxF "$new_key"'
	check "wg show on peer$i no longer lists the old key" eval '! wg_peers '"$i"' | grep -qxF "$old_key"'
done
hs_after() { lab_exec "p$1" wg show "$(mesh_ifname "$1")" latest-handshakes |
	awk -v k="$new_key" -v t="$t_rotate" '$1 == k && $2 >= t { f = 1 } END { exit !f }'; }
for i in 1 3; do
	check "peer$i completed a handshake with peer2's new key" lab_wait 10 "handshake" hs_after "$i"
done
check "peer2's own interface has the new key" \
	eval '[ "$(lab_exec p2 wg show "$(mesh_ifname 2)" public-key)" = "$new_key" ]'
# A reload after the rotation (issue 18): the file's new key is the one in use, not a change
# that needs a restart.
kill -HUP "${MESH_PID[2]}"
check "reload after the rotation: no private_key warning" sh -c "sleep 1; grep -q 'reload: reading' '$work/p2.log' && ! grep -q 'private_key changed' '$work/p2.log'"
check "peer1 logged the verified rotation" grep -q "peer peer2: key rotation 1 verified" "$work/p1.log"
check "status on peer3 shows the rotation" eval '[[ $(mesh_status 3 --json |
	jq -r ".peers[] | select(.peerId == \"peer2\") | .trust") == *"key rotation 1)"* ]]'
check "the hub took the rotated key in place" \
	grep -q "event=join .*peer=peer2 key=${new_key:0:8}" "$work/hub.log"

# The old identity (a thief of the old key): refused by the hub, installed nowhere.
mesh_peer_stop 2
sleep 1
mkdir -p "$work/new"
mv "$work/p2.toml" "$work/p2.trust" "$work/new/"
cp -a "$work/old/p2.toml" "$work/old/p2.trust" "$work/"
mesh_peer_start 2
check "the hub refused peer2's old key" lab_wait 20 "stale refused" \
	grep -q 'event=refused .*peer=peer2 reason="key replaced by a newer rotation"' "$work/hub.log"
sleep 2
for i in 1 3; do
	check "peer$i never installed the old key again" eval '! wg_peers '"$i"' | grep -qxF "$old_key"'
done
mesh_peer_stop 2

# Back with the rotated key (the config and rotation riftgate rotate wrote): up again.
rm -rf "$work/p2.toml" "$work/p2.trust"
mv "$work/new/p2.toml" "$work/new/p2.trust" "$work/"
mesh_peer_start 2
check "peer1 sees the rotated peer2 up again" mesh_wait_up 1 2 45
check "peer3 sees the rotated peer2 up again" mesh_wait_up 3 2 30

lab_stop "$hubpid" TERM 5
if grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$work"/*.log; then
	bad "sanitizer reports in logs"
else
	ok "no sanitizer reports"
fi
[ "$fails" -eq 0 ]
