#!/usr/bin/env bash
# End-to-end signed membership (docs/membership.md) against a HOSTILE hub (hostilehub.py: it relays
# honest frames but keeps lying to every agent: rewritten keys and addresses, swapped
# certificates, joins without certificates, forged peers entries and offers, replays of every
# join it ever saw, a `mallory` carrying another device's address and certificate, seat
# takeovers). peer1 is the admin device (init --new-network); peer2 and peer3 join from invites
# and connect to each other while the admin is down; then:
#   - no agent ever installs a key or allowed IP the network key did not issue (checked with
#     `wg show IF dump` in every namespace, every second), and honest tunnels keep pinging;
#   - one invite used by two devices: the second binding is never installed;
#   - revoking peer3 while it pings: every peer drops its tunnel within 5 s, and after a restart
#     it cannot get back in; peer4, down meanwhile, learns the revocation when it returns;
#   - peer2 rotates its key (riftgate rotate) while peer1 pings it and the hub replays its
#     pre-rotation joins: the ping goes on, and no agent installs the old key again.
# Budget: 200 s.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgmb-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=200

mesh_setup "$build" "$work" rgmb- rgb
report()
{
	if [ "$fails" -gt 0 ]; then
		mesh_dump_logs
		for f in "$work"/*.err; do [ -f "$f" ] && { echo "----- $(basename "$f")"; cat "$f"; }; done
	fi
	echo "e2e membership: $passes passed, $fails failed ($SECONDS s)"
	check_counts e2e-membership
	rm -rf "$work"
}
lab_on_cleanup report
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
rg=$MESH_RIFTGATE

mesh_build 5
rm -f "$work"/p*.toml "$work"/p*.key

# ---- enrollment: the admin device, then invites; the admin is not running ----
mesh_signed_init
check "init --new-network" grep -q '^Fingerprint: SHA256:' "$work/init.out"
for i in 2 3; do
	mesh_signed_join "$i"
	check "peer$i joined from its invite" "$rg" check --config "$work/p$i.toml"
done
# One invite, two devices (p4 and p5 both become "peer4" from the same token).
"$rg" invite --config "$work/p1.toml" --name peer4 --address "$(mesh_tun_ip 4)/24" \
	>"$work/tok4" 2>"$work/invite4.err"
"$rg" join - --config "$work/p4.toml" --interface "$(mesh_ifname 4)" <"$work/tok4" >/dev/null 2>&1
"$rg" join - --config "$work/p5.toml" --interface "$(mesh_ifname 5)" <"$work/tok4" >/dev/null 2>&1
check "both devices made a certificate from the same ticket (offline, nobody can tell yet)" \
	eval '"$rg" check --config "$work/p4.toml" >/dev/null && "$rg" check --config "$work/p5.toml" >/dev/null'

pubkey() { "$rg" check --config "$work/p$1.toml" | sed -n 's/^public key: //p'; }
declare -A KEY=()
for i in 1 2 3 4 5; do KEY[$i]=$(pubkey "$i"); done

# The WireGuard peers an agent has, as "KEY ALLOWED-IPS" lines.
wg_dump() { lab_exec "p$1" timeout 10 wg show "$(mesh_ifname "$1")" dump | awk 'NR > 1 {print $1, $4}'; }
# Every installed peer is an issued device at its issued address (peer5 never: its ticket was
# spent by peer4 first, and peer3 not once revoked when $2 says so).
honest_only()
{
	local i=$1 no3=${2:-0} key ips j found
	while read -r key ips; do
		[ -z "$key" ] && continue
		found=0
		for j in 1 2 3 4; do
			[ "$j" = 3 ] && [ "$no3" = 1 ] && continue
			if [ "$key" = "${KEY[$j]}" ] && [ "$ips" = "$(mesh_tun_ip "$j")/32" ]; then found=1; fi
		done
		if [ "$found" = 0 ]; then echo "peer$i has a foreign peer: $key $ips"; return 1; fi
	done < <(wg_dump "$i")
	return 0
}

# ---- the hostile hub; peer2 and peer3 meet while the admin device is down ----
lab_bg hub "$work/hub.log" /usr/bin/python3 "$src/tests/e2e/hostilehub.py" 10.98.0.1 \
	"$MESH_HUB_PORT" "$MESH_TOKEN"
hubpid=$LAB_LAST_PID
check "hostile hub listening" lab_wait 20 "hub" lab_tcp_listening hub "$MESH_HUB_PORT"
mesh_peer_start 2
mesh_peer_start 3
check "peer2 and peer3 connect without the admin device" mesh_wait_up 2 3 45
check "peer3 sees peer2" mesh_wait_up 3 2 20
mesh_peer_start 1
check "peer1 sees peer2" mesh_wait_up 1 2 45
check "peer1 sees peer3" mesh_wait_up 1 3 30
check "peer2 sees peer1" mesh_wait_up 2 1 20

# ---- under attack: nothing foreign installed, honest pings keep going ----
lab_exec p2 ping -c 20 -i 0.5 -W 2 "$(mesh_tun_ip 3)" >"$work/ping23.out" 2>&1 &
ping23=$!
lab_exec p1 ping -c 20 -i 0.5 -W 2 "$(mesh_tun_ip 2)" >"$work/ping12.out" 2>&1 &
ping12=$!
foreign=0
for t in $(seq 10); do
	for i in 1 2 3; do honest_only "$i" >>"$work/foreign.err" || foreign=1; done
	sleep 1
done
wait "$ping23" "$ping12"
check "no agent installed a key or allowed IP the authority did not issue (10 s of attacks)" \
	test "$foreign" = 0
rx() { sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1"; }
check "honest tunnel peer2->peer3 kept pinging ($(rx "$work/ping23.out")/20)" test "$(rx "$work/ping23.out")" -ge 18
check "honest tunnel peer1->peer2 kept pinging ($(rx "$work/ping12.out")/20)" test "$(rx "$work/ping12.out")" -ge 18
for i in 1 2 3; do
	check "peer$i has exactly its 2 honest WireGuard peers" test "$(wg_dump "$i" | wc -l)" = 2
done
check "agents logged rejections" grep -q "rejected:" "$work/p1.log" "$work/p2.log"
trust_of() { mesh_status "$1" --json | jq -r --arg id "$2" '.peers[] | select(.peerId == $id) | .trust'; }
check "status: mallory is rejected" eval '[[ $(trust_of 1 mallory) == rejected:* ]]'
check "status: peer2 is verified" eval '[[ $(trust_of 1 peer2) == verified* ]]'

# ---- one invite, two devices ----
mesh_peer_start 4
check "peer1 sees peer4 (first use of the ticket)" mesh_wait_up 1 4 45
mesh_peer_start 5
foreign=0
for t in $(seq 8); do
	for i in 1 2 3; do
		wg_dump "$i" | grep -qF "${KEY[5]}" && foreign=1
		honest_only "$i" >>"$work/foreign.err" || foreign=1
	done
	sleep 1
done
check "the second device on the same invite is installed nowhere" test "$foreign" = 0
mesh_peer_stop 5
mesh_peer_stop 4

# ---- revocation while pinging ----
lab_exec p3 ping -c 100 -i 0.1 -W 1 "$(mesh_tun_ip 2)" >"$work/ping32.out" 2>&1 &
ping32=$!
sleep 1
t0=$(date +%s.%N)
lab_exec p1 "$rg" devices revoke peer3 --config "$work/p1.toml" >"$work/revoke.out" 2>"$work/revoke.err"
check "revoke handed to the running agent" grep -q "The running agent is sending" "$work/revoke.err"
gone() { for i in 1 2; do wg_dump "$i" | grep -qF "${KEY[3]}" && return 1; done; return 0; }
if lab_wait 5 "peer3 removed everywhere" gone; then
	ok "peer3's tunnels dropped on peer1 and peer2 within 5 s ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}') s)"
else
	bad "peer3 still installed 5 s after the revocation"
fi
wait "$ping32"
check "status: peer3 revoked on peer2" eval '[[ $(trust_of 2 peer3) == "rejected: revoked"* ]]'
check "peer2 persisted the revocation" test -s "$work/p2.trust/revoked"
mesh_peer_stop 3
mesh_peer_start 3
sleep 10
foreign=0
for i in 1 2; do honest_only "$i" 1 >>"$work/foreign.err" || foreign=1; done
check "restarted, revoked peer3 is not installed again" test "$foreign" = 0
check "revoked peer3 cannot reach peer2" eval '! lab_exec p3 ping -c 2 -W 1 -q "$(mesh_tun_ip 2)" >/dev/null 2>&1'
check "peer1 and peer2 still ping each other" lab_ping p1 "$(mesh_tun_ip 2)"
# peer4 was down during the revocation: it learns it when it joins again.
check "peer4 did not hold the revocation" test ! -s "$work/p4.trust/revoked"
mesh_peer_start 4
check "peer4, back after being offline, learned the revocation" \
	lab_wait 20 "p4 revoked file" test -s "$work/p4.trust/revoked"
check "peer4 never installs peer3" eval '! wg_dump 4 | grep -qF "${KEY[3]}"'

# ---- key rotation under attack: peer2 rotates; the hub replays its pre-rotation joins ----
check "peer1 and peer4 see peer2" eval 'mesh_wait_up 1 2 30 && mesh_wait_up 4 2 30'
old2=${KEY[2]}
lab_exec p1 ping -c 20 -i 0.5 -W 2 "$(mesh_tun_ip 2)" >"$work/ping12r.out" 2>&1 &
ping12=$!
sleep 1
lab_exec p2 "$rg" rotate --config "$work/p2.toml" >"$work/rotate.out" 2>"$work/rotate.err"
KEY[2]=$(head -1 "$work/rotate.out")
check "peer2 rotated its key live" grep -q "the running agent switched" "$work/rotate.err"
foreign=0
for t in $(seq 8); do
	for i in 1 4; do honest_only "$i" 1 >>"$work/foreign.err" || foreign=1; done
	sleep 1
done
wait "$ping12"
check "after the rotation no agent installed peer2's old key again (8 s of replays)" test "$foreign" = 0
check "peer1 and peer4 hold peer2's new key" \
	eval 'wg_dump 1 | grep -qF "${KEY[2]}" && wg_dump 4 | grep -qF "${KEY[2]}"'
check "peer1 refused a replayed pre-rotation join" \
	grep -q "peer peer2: rejected: key replaced by a newer rotation" "$work/p1.log"
check "peer1 -> peer2 kept pinging through the rotation ($(rx "$work/ping12r.out")/20)" \
	test "$(rx "$work/ping12r.out")" -ge 19
check "peer2's old key is gone everywhere" eval '! wg_dump 1 | grep -qF "$old2" && ! wg_dump 4 | grep -qF "$old2"'

lab_stop "$hubpid" TERM 5
if grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$work"/p*.log; then
	bad "sanitizer reports in agent logs"
else
	ok "no sanitizer reports"
fi
[ "$fails" -eq 0 ]
