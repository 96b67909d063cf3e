#!/usr/bin/env bash
# `riftgate status --json` against docs/status.schema.json in every state a person meets: no agent,
# a named interface that is not up, one interface with the hub down (unreachable) or refusing the
# token, two interfaces up (endpoints shown), and a peer with no path (UDP dropped). Every
# document is validated by python3-jsonschema, then the fields that tell the state are checked.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || { echo "SKIP: python3-jsonschema missing"; exit 77; }

work=$(mktemp -d /tmp/rgag-status.XXXXXX)
schema="$src/docs/status.schema.json"
fails=0
passes=0
ok() { echo "ok: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

mesh_setup "$build" "$work" rgag-s rgs
lab_on_cleanup 'rm -rf "$work"'
mesh_build 2
if1=$(mesh_ifname 1)
if2=$(mesh_ifname 2)

# doc NAME [ARGS]: status --json (from namespace p1) into $work/NAME.json, its exit status in
# $work/NAME.rc; validated against the schema.
doc()
{
	local name=$1 rc out; shift
	lab_exec p1 timeout 15 "$MESH_RIFTGATE" status --json "$@" >"$work/$name.json" 2>"$work/$name.err"
	echo $? >"$work/$name.rc"
	if out=$(/usr/bin/python3 "$src/tests/e2e/check-status-schema.py" "$schema" <"$work/$name.json"); then
		ok "$name: valid against the schema"
	else
		bad "$name: schema: $out"; cat "$work/$name.json"
	fi
}
# q NAME FILTER: jq -r on the document NAME
q() { jq -r "$2" "$work/$1.json" 2>/dev/null; }

doc none
check "no agent: exit 1" test "$(cat "$work/none.rc")" = 1
check "no agent: no interfaces, no errors" test "$(q none '"\(.interfaces|length) \(.errors|length)"')" = "0 0"
doc named "$if1"
check "named, not up: one error naming it" test "$(q named '.errors[0].interface')" = "$if1"
check "named, not up: says not up" grep -q "not up" <<<"$(q named '.errors[0].error')"

# One interface, no hub running: unreachable, with the reason.
mesh_peer_start 1
lab_wait 20 "agent 1 answers" mesh_status 1 --json >/dev/null || bad "agent 1 starts"
hub_kind() { [ "$(mesh_status 1 --json | jq -r .hubErrorKind)" = "$1" ]; }
lab_wait 15 "hub unreachable reported" hub_kind unreachable
doc hubdown
check "hub down: exit 0" test "$(cat "$work/hubdown.rc")" = 0
check "hub down: one interface" test "$(q hubdown '.interfaces|length')" = 1
check "hub down: not connected, kind unreachable" \
	test "$(q hubdown '.interfaces[0] | "\(.hubConnected) \(.hubErrorKind)"')" = "false unreachable"
check "hub down: reason given" test -n "$(q hubdown '.interfaces[0].hubError')"
lab_exec p1 "$MESH_RIFTGATE" status "$if1" >"$work/hubdown.txt" 2>&1
check "hub down: text shows the reason" grep -q "hub error: " "$work/hubdown.txt"

# Two interfaces up: both in the document, the peer's endpoint shown.
mesh_hub_start || { bad "hub starts"; exit 1; }
mesh_peer_start 2
mesh_wait_up 1 2 60 || bad "peers up"
mesh_wait_up 2 1 30 || bad "peers up (2)"
doc two
check "two: exit 0" test "$(cat "$work/two.rc")" = 0
names=$(q two '[.interfaces[].interface] | join(" ")')
check "two: both interfaces ($names)" test "$names" = "$if1 $if2"
check "two: the agents' version" test "$(q two '[.interfaces[].version] | unique | join(",")')" = "$("$MESH_RIFTGATE" --version 2>/dev/null | sed -n 's/^riftgate \(.*\)$/\1/p')"
check "two: hub connected, no error" \
	test "$(q two '[.interfaces[] | "\(.hubConnected)\(.hubError)\(.hubErrorKind)"] | unique | join(",")')" = true
ep=$(q two ".interfaces[] | select(.interface == \"$if1\") | .peers[0].endpoint")
check "two: peer2's endpoint is its LAN address ($ep)" grep -qE "^$(mesh_lan_ip 2):[0-9]+$" <<<"$ep"
check "two: local endpoint is ours" \
	grep -qE "^$(mesh_lan_ip 1):[0-9]+$" <<<"$(q two ".interfaces[] | select(.interface == \"$if1\") | .peers[0].localEndpoint")"
check "two: host/host" test "$(q two ".interfaces[0].peers[0] | \"\(.localCandidateType) \(.remoteCandidateType)\"")" = "host host"
mesh_status 1 >"$work/two.txt" 2>&1
check "text: endpoint line" grep -qE "endpoint: $(mesh_lan_ip 2):[0-9]+ \(host\), from $(mesh_lan_ip 1):[0-9]+ \(host\)" "$work/two.txt"

# The hub goes away (lost), then comes back with another token (refused). An agent whose token
# is refused at start exits (test-cli.sh); one that was connected keeps retrying and says why.
mesh_hub_stop
# First "lost" (the connection closed), then "unreachable" once a reconnect is refused.
hub_gone() { [ "$(mesh_status 1 --json | jq -r .hubErrorKind)" != "" ]; }
lab_wait 20 "hub loss reported" hub_gone
doc lost
got=$(q lost '.interfaces[0] | "\(.hubConnected) \(.hubErrorKind)"')
check "hub lost: not connected, kind lost or unreachable ($got)" grep -qE "^false (lost|unreachable)$" <<<"$got"
check "hub lost: reason given" test -n "$(q lost '.interfaces[0].hubError')"
good_token=$MESH_TOKEN
MESH_TOKEN=another-token
mesh_hub_start || { bad "hub restarts"; exit 1; }
MESH_TOKEN=$good_token
lab_wait 40 "token refusal reported" hub_kind token
doc token
check "token refused: kind token" test "$(q token '.interfaces[0].hubErrorKind')" = token
check "token refused: reason names the token" grep -q "rejected token" <<<"$(q token '.interfaces[0].hubError')"
mesh_hub_stop
mesh_hub_start || { bad "hub restarts"; exit 1; }

# wss:// to a hub that speaks plain ws: the TLS handshake fails, kind tls.
mesh_peer_stop 2
sed 's|^server_url = "ws://|server_url = "wss://|' "$work/p2.toml" >"$work/tls.toml"
chmod 600 "$work/tls.toml"
ip netns exec "$(lab_ns p2)" "$MESH_RIFTGATE" up --foreground --config "$work/tls.toml" >>"$work/tls.log" 2>&1 &
LAB_PIDS+=($!); tlspid=$!
hub_kind2() { [ "$(mesh_status 2 --json | jq -r .hubErrorKind)" = "$1" ]; }
lab_wait 20 "TLS failure reported" hub_kind2 tls
lab_exec p2 timeout 15 "$MESH_RIFTGATE" status --json "$if2" >"$work/tls.json" 2>/dev/null
check "TLS error: kind tls ($(jq -r '.interfaces[0] | "\(.hubErrorKind): \(.hubError)"' "$work/tls.json"))" \
	test "$(jq -r '.interfaces[0].hubErrorKind' "$work/tls.json")" = tls
check "TLS error: valid against the schema" \
	/usr/bin/python3 "$src/tests/e2e/check-status-schema.py" "$schema" <"$work/tls.json"
lab_stop "$tlspid" TERM 15 >/dev/null

# No path: UDP between the peers dropped (the hub's TCP still works), fresh agents.
mesh_peer_stop 1
mesh_peer_stop 2
for i in 1 2; do
	lab_exec "p$i" nft add table inet rgnopath &&
	lab_exec "p$i" nft add chain inet rgnopath out '{ type filter hook output priority 0 ; }' &&
	lab_exec "p$i" nft add rule inet rgnopath out ip daddr 10.98.0.0/24 meta l4proto udp drop ||
		bad "nft rules in p$i"
done
mesh_peer_start 1
mesh_peer_start 2
# peer2 answers: once its answer is out it runs ICE checks like the offerer, and must say so
# (it used to fall back to "signaling" when libnice reported "checking" before the answer).
state_is() { [ "$(mesh_peer_state "$1" "$2")" = "$3" ]; }
check "answerer shows ice while checks run" lab_wait 30 "peer2 sees peer1 in ice" state_is 2 1 ice
nopath() { [ "$(mesh_status 1 --json | jq -r '.peers[0].lastError' | cut -c1-7)" = "no path" ]; }
lab_wait 90 "peer1 reports no path" nopath || mesh_dump_logs
doc nopath
check "no path: no STUN, no TURN: kind no-stun" test "$(q nopath '.interfaces[0].peers[0].lastErrorKind')" = no-stun
check "no path: names the peer's host candidates" grep -q "candidates (host) are unreachable" <<<"$(q nopath '.interfaces[0].peers[0].lastError')"
check "no path: no word of NATs (there are none)" test -z "$(q nopath '.interfaces[0].peers[0].lastError' | grep -i nat)"
check "no path: no endpoint" test "$(q nopath '.interfaces[0].peers[0].endpoint')" = ""
echo "no path reason: $(q nopath '.interfaces[0].peers[0] | "\(.lastErrorKind): \(.lastError)"')"

echo "e2e status: $passes passed, $fails failed"
[ -n "${RG_COUNTS_DIR:-}" ] && mkdir -p "$RG_COUNTS_DIR" && echo "$passes $fails" >"$RG_COUNTS_DIR/e2e-status"
[ "$fails" -eq 0 ]
