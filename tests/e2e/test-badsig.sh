#!/usr/bin/env bash
# Bad signaling never takes a working tunnel down: two agents (peer1, peer2) with a tunnel up,
# then a misbehaving signaling client (fakepeer.py) joins the hub with a malformed key, sends
# garbage/huge/incomplete offers, stray answers and candidates, races an offer against peer1's
# (glare) and joins with peer2's id and another key. Asserts both agents survive, the tunnel
# keeps working and is not rebuilt, the bad peer is reported with its error, and no sanitizer
# report appears. The hub itself refuses the malformed key and the duplicate id (docs/
# signaling.md, hub rules 2 and 5), so those two never reach the agents.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgag-bad.XXXXXX)
. "$src/tests/lab/check.sh"
# A time budget below meson's timeout, so a broken run still reports (and keeps its logs).
CHECK_BUDGET_S=140

mesh_setup "$build" "$work" rgag-b rgb
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
	echo "e2e badsig: $passes passed, $fails failed"
	check_counts e2e-badsig
	rm -rf "$work"
}
lab_on_cleanup report

mesh_build 2
mesh_hub_start || { bad "hub starts"; exit 1; }
mesh_peer_start 1 -v
mesh_peer_start 2 -v
if ! mesh_wait_up 1 2 60 || ! mesh_wait_up 2 1 30; then
	bad "tunnel up"
	exit 1
fi
ok "tunnel up"
since=$(mesh_status 1 --json | jq -r '.peers[] | select(.peerId == "peer2") | .since')

lab_exec hub timeout 60 /usr/bin/python3 "$src/tests/e2e/fakepeer.py" \
	"ws://10.98.0.1:$MESH_HUB_PORT/connect" "$MESH_TOKEN" >"$work/fake.log" 2>&1
rc=$?
cat "$work/fake.log"
check "fake peer ran (rc=$rc)" test "$rc" = 0

for i in 1 2; do
	check "agent $i still running" kill -0 "${MESH_PID[$i]}"
done
check "tunnel still works 1->2" lab_wait 10 ping lab_ping p1 "$(mesh_tun_ip 2)"
check "tunnel still works 2->1" lab_wait 10 ping lab_ping p2 "$(mesh_tun_ip 1)"
sleep 7	# past the probe of the duplicate id
check "tunnel still works after the duplicate-id probe" lab_ping p1 "$(mesh_tun_ip 2)"
check "peer1 still sees peer2 up" mesh_is_up 1 2
check "peer2 still sees peer1 up" mesh_is_up 2 1
since2=$(mesh_status 1 --json | jq -r '.peers[] | select(.peerId == "peer2") | .since')
check "tunnel was not rebuilt" test "$since" = "$since2"
check "the malformed key was refused by the hub" grep -q "peer0: got error bad-message" "$work/fake.log"
check "the garbage offer was refused" grep -q "peer peer00: bad offer" "$work/p1.log"
check "status reports the bad peer's error" \
	test -n "$(mesh_status 1 --json | jq -r '.peers[] | select(.peerId == "peer00") | .lastError')"
check "glare resolved by the smaller id" grep -q "peer zzz: glare, keeping our own offer" "$work/p1.log"
check "duplicate id refused by the hub" grep -q "peer2: got error id-in-use" "$work/fake.log"
mesh_status 1

for i in 1 2; do
	mesh_peer_stop "$i" TERM; rc=$?
	check "peer$i exits cleanly (rc=$rc)" test "$rc" = 0
done
if grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$work"/p*.log; then
	bad "sanitizer reports in agent logs"
else
	ok "no sanitizer reports"
fi
[ "$fails" -eq 0 ]
