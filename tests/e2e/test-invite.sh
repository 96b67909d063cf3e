#!/usr/bin/env bash
# End-to-end invite: peer1's config (the lab's hub address and token inside) invites, peer2 joins
# from the token alone (only its interface name is chosen, since the lab's control sockets share
# one directory), both `riftgate up` and ping each other through the tunnel at the address the
# invite picked. While both are up, `invite` asks peer1's agent and stays off the addresses and
# names it knows. Budget: 60 s.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgiv-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=55

mesh_setup "$build" "$work" rgiv- rgv
report()
{
	if [ "$fails" -gt 0 ]; then
		mesh_dump_logs
		for f in "$work"/*.err; do [ -f "$f" ] && { echo "----- $(basename "$f")"; cat "$f"; }; done
	fi
	echo "e2e invite: $passes passed, $fails failed ($SECONDS s)"
	check_counts e2e-invite
	rm -rf "$work"
}
lab_on_cleanup report
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}

mesh_build 2
rm -f "$work/p2.toml" "$work/p2.key"	# peer2 gets its config from the invite only
if1=$(mesh_ifname 1)
if2=$(mesh_ifname 2)
mesh_hub_start || { bad "hub starts"; exit 1; }
mesh_peer_start 1
check "peer1's agent answers" lab_wait 20 "peer1 status" mesh_status 1 --json

# invite on peer1, with its agent running
lab_exec p1 "$MESH_RIFTGATE" invite --config "$work/p1.toml" --name peer2 \
	>"$work/token" 2>"$work/invite.err"
check "invite prints a token" grep -qE '^rgi1-[A-Za-z0-9_-]+$' "$work/token"
check "invite asked the running agent" \
	grep -q "Checked: this device's address and the 1 address the running agent on $if1 knows" \
	"$work/invite.err"
addr2=$(sed -n 's/^Picked address \([^,]*\),.*/\1/p' "$work/invite.err")
ip2=${addr2%/*}
check "picked an address in peer1's subnet" eval '[[ $addr2 == 10.98.100.*/24 && $ip2 != 10.98.100.1 ]]'

# join on peer2 from the token alone (stdin, as the docs recommend)
lab_exec p2 "$MESH_RIFTGATE" join - --config "$work/p2.toml" --interface "$if2" \
	<"$work/token" >"$work/join.out" 2>"$work/join.err"
check "join wrote the config" test -f "$work/p2.toml"
# the lab hub speaks ws:// on a LAN address, which `up` refuses without this
sed -i 's|^\[network\]$|[network]\nallow_insecure_transport = true|' "$work/p2.toml"
check "join: config mode 0600" test "$(stat -c %a "$work/p2.toml" 2>/dev/null)" = 600
check "join: device and address from the token" \
	grep -qx "Device: peer2" "$work/join.out"
check "join: address line" grep -qx "Address: $addr2" "$work/join.out"
check "riftgate check passes" lab_exec p2 "$MESH_RIFTGATE" check --config "$work/p2.toml"
rm -f "$work/token"

mesh_peer_start 2
check "peer1 sees peer2 up" lab_wait 40 "peer1 sees peer2" mesh_is_up 1 2
check "peer2 sees peer1 up" lab_wait 20 "peer2 sees peer1" mesh_is_up 2 1
check "peer1 pings peer2 at the invited address" lab_wait 10 "ping p1->p2" lab_ping p1 "$ip2"
check "peer2 pings peer1" lab_wait 10 "ping p2->p1" lab_ping p2 "$(mesh_tun_ip 1)"
seen=$(mesh_status 1 --json | jq -r '.peers[] | select(.peerId == "peer2") | .address' 2>/dev/null)
check "peer1's status shows peer2 at the invited address" test "$seen" = "$addr2"

# a second invite sees peer2 through the agent
lab_exec p1 "$MESH_RIFTGATE" invite --config "$work/p1.toml" >"$work/token2" 2>"$work/invite2.err"
check "second invite counts peer2's address" \
	grep -q "the 2 addresses the running agent on $if1 knows" "$work/invite2.err"
addr3=$(sed -n 's/^Picked address \([^,]*\),.*/\1/p' "$work/invite2.err")
check "second invite picks neither peer's address" \
	eval '[[ -n $addr3 && $addr3 != "$addr2" && $addr3 != 10.98.100.1/24 ]]'
out=$(lab_exec p1 "$MESH_RIFTGATE" invite --config "$work/p1.toml" --name peer2 2>&1 >/dev/null)
check "invite refuses a name the agent knows" eval '[[ $out == *"--name peer2 is already used by a device the running agent knows"* ]]'
out=$(lab_exec p1 "$MESH_RIFTGATE" invite --config "$work/p1.toml" --address "$addr2" 2>&1 >/dev/null)
check "invite refuses an address the agent knows" eval '[[ $out == *"is already used by a device the running agent knows"* ]]'
rm -f "$work/token2"

if grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$work"/p*.log; then
	bad "sanitizer reports in agent logs"
else
	ok "no sanitizer reports"
fi
[ "$fails" -eq 0 ]
