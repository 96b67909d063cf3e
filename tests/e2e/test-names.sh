#!/usr/bin/env bash
# Peer names (docs/routes.md#names): each agent answers NAME.<network>.<domain> on its tunnel
# address, port 53. Two peers, network "lab", domain "rift" (peer2 sets domain = "mesh.test"):
# A records for peers and for the device itself (any letter case), NXDOMAIN for an unknown name
# in the zone, no record for AAAA of an IPv4 peer, REFUSED outside the zone, and malformed
# packets (truncated, a compression loop) answered with FORMERR or dropped, the responder still
# answering afterwards. DNS push: peer1 has dns = [a tiny upstream server in its namespace on
# 127.0.0.2 that answers every A with 192.0.2.7] and search = ["corp.example"]: other names are
# forwarded there (answer passed on with the asker's id), peer names still answered locally;
# peer2 (no dns) refuses them; the printed resolvectl line carries the search domain and "~.".
# systemd-resolved: a private dbus-daemon with a stand-in resolve1 (tests/agent/fake-resolved.c)
# in peer1's namespace, which answers the first two Set* calls NoSuchLink (a link resolved has not
# seen yet): peer1 registers (SetLinkDNS, SetLinkDomains with the exact arguments, asked again after
# NoSuchLink), reverts on down (RevertLink), and after a kill -9 the next up reverts the crashed
# agent's link first; peer2 (no bus named, in another namespace than PID 1) registers nothing and
# says resolved is unavailable. Counters: answered/forwarded/failed/refused/malformed in status and metrics.
# Reload: a new domain, dns (a second upstream on 127.0.0.3) and search in peer1's file, then
# `riftgate reload`: exactly one new SetLinkDNS + SetLinkDomains, the new zone answered, other names
# forwarded to the new upstream; a reload without a change asks resolved nothing; a bad dns value
# is refused (exit 1) and the running settings stay.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgnm-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=150

mesh_setup "$build" "$work" rgnm- rgn
report()
{
	[ "$fails" -gt 0 ] && mesh_dump_logs
	echo "e2e names: $passes passed, $fails failed"
	rm -rf "$work"
}
lab_on_cleanup report
command -v dig >/dev/null || { echo "SKIP: dig not installed (dnsutils)"; exit 77; }

mesh_build 2
sed -i '/^\[network\]/a domain = "mesh.test"' "$work/p2.toml"
sed -i '/^\[network\]/a dns = ["127.0.0.2"]\nsearch = ["corp.example"]' "$work/p1.toml"
# the upstream: answers any question with A 192.0.2.7 (TTL 30), counts what it answered
ip netns exec "$(lab_ns p1)" "$src/tests/lab/dns-stub.py" 127.0.0.2 192.0.2.7 30 "$work/upstream.count" &
upstream_pid=$!
LAB_PIDS+=("$upstream_pid")
# the private system bus and the stand-in resolved (in peer1's namespace)
bus="unix:path=$work/system_bus"
dbus-daemon --session --nofork --nopidfile --address="$bus" >"$work/dbus.log" 2>&1 &
LAB_PIDS+=("$!")
lab_wait 10 "private dbus-daemon" test -S "$work/system_bus" || bad "dbus-daemon starts"
lab_exec p1 "$build/tests/agent/fake-resolved" "$bus" "$work/resolved.log" 2 2>>"$work/dbus.log" &
LAB_PIDS+=("$!")
check "fake resolved owns its name" lab_wait 10 "fake resolved" grep -qx ready "$work/resolved.log"
# only peer1 is pointed at that bus; peer2 (another namespace than PID 1, no bus named) must not
# use the system's resolved, whose link numbers are not its own
p1_start() { export DBUS_SYSTEM_BUS_ADDRESS="$bus"; mesh_peer_start 1 -v; unset DBUS_SYSTEM_BUS_ADDRESS; }
t1=$(mesh_tun_ip 1)
t2=$(mesh_tun_ip 2)
mesh_hub_start || { bad "hub starts"; exit 1; }
p1_start
mesh_peer_start 2 -v
check "tunnel up" lab_wait 60 "peer1 sees peer2 up" mesh_is_up 1 2

q() { lab_exec p1 dig +time=2 +tries=1 @"$t1" "$@"; }	# from peer1 to its own responder
short_is() { [ "$(q +short "$1" "$2")" = "$3" ]; }
status_is() { q "$1" "$2" | grep -q "status: $3"; }
check "peer2.lab.rift A" short_is peer2.lab.rift A "$t2"
check "own name A" short_is peer1.lab.rift A "$t1"
check "letter case ignored" short_is PEER2.Lab.RIFT A "$t2"
check "unknown name: NXDOMAIN" status_is nobody.lab.rift A NXDOMAIN
check "AAAA of an IPv4 peer: no record" sh -c "[ -z \"\$(ip netns exec $(lab_ns p1) dig +time=2 +tries=1 +short @$t1 peer2.lab.rift AAAA)\" ]"
check "AAAA of an IPv4 peer: NOERROR" status_is peer2.lab.rift AAAA NOERROR
check "outside the zone: forwarded to dns[0]" short_is www.example.com A 192.0.2.7
check "the upstream saw the query" test "$(cat "$work/upstream.count" 2>/dev/null)" -ge 1
check "forwarded answer keeps the asker's id and RD" sh -c "ip netns exec $(lab_ns p1) dig +time=2 +tries=1 @$t1 other.example.net A | grep -q 'flags: qr rd ra'"
before=$(cat "$work/upstream.count")
check "peer names answered locally" short_is peer2.lab.rift A "$t2"
check "peer names not forwarded" test "$(cat "$work/upstream.count")" = "$before"
check "without dns (peer2): outside the zone REFUSED" sh -c "ip netns exec $(lab_ns p2) dig +time=2 +tries=1 @$t2 example.com A | grep -q 'status: REFUSED'"
check "printed line: search domain and ~." grep -q "resolvectl domain $(mesh_ifname 1) '~lab.rift' corp.example '~.'" "$work/p1.log"
check "answers are authoritative" sh -c "ip netns exec $(lab_ns p1) dig +time=2 +tries=1 @$t1 peer2.lab.rift A | grep -q 'flags: qr aa'"
check "over the tunnel from peer2" sh -c "[ \"\$(ip netns exec $(lab_ns p2) dig +time=2 +tries=1 +short @$t1 peer1.lab.rift A)\" = $t1 ]"
check "another domain (peer2: mesh.test)" sh -c "[ \"\$(ip netns exec $(lab_ns p2) dig +time=2 +tries=1 +short @$t2 peer1.lab.mesh.test A)\" = $t1 ]"

# malformed queries: a truncated header is dropped, a compression loop gets FORMERR
raw() # HEX: send one UDP datagram to peer1's responder, print the answer's rcode or "none"
{
	lab_exec p1 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(bytes.fromhex(sys.argv[2]), (sys.argv[1], 53))
try:
    d = s.recv(600); print(d[3] & 15)
except socket.timeout:
    print("none")
' "$t1" "$1"
}
check "truncated header dropped" test "$(raw 1234)" = none
check "compression loop: FORMERR" test "$(raw 123401000001000000000000c00c00010001)" = 1
check "pointer past the end: FORMERR" test "$(raw 123401000001000000000000c0ff00010001)" = 1
check "two questions: NOTIMP" test "$(raw 1234010000020000000000000000010001)" = 4
check "still answering after garbage" short_is peer2.lab.rift A "$t2"
check "status shows the zone" sh -c "ip netns exec $(lab_ns p1) $MESH_RIFTGATE status $(mesh_ifname 1) | grep -q 'names: NAME.lab.rift (answered on $t1:53)'"

# counters: from here on, exactly 2 local answers, 1 forwarded, 1 refused (peer2), 1 malformed,
# and 1 failed (the upstream is stopped: SERVFAIL after 5 s)
json1() { mesh_status 1 --json; }
base=$(json1)
short_is peer2.lab.rift A "$t2" >/dev/null; short_is nobody.lab.rift A "" >/dev/null
short_is www.example.org A 192.0.2.7 >/dev/null
raw 123401000001000000000000c00c00010001 >/dev/null
ip netns exec "$(lab_ns p2)" dig +time=2 +tries=1 @"$t2" example.com A >/dev/null
delta() # FIELD: how much peer I's FIELD grew since base
{
	echo $(( $(jq ".$1" <<<"$now") - $(jq ".$1" <<<"$base") ))
}
now=$(json1)
check "status: 2 answered locally ($(delta dnsAnswered))" test "$(delta dnsAnswered)" = 2
check "status: 1 forwarded ($(delta dnsForwarded))" test "$(delta dnsForwarded)" = 1
check "status: 1 malformed ($(delta dnsMalformed))" test "$(delta dnsMalformed)" = 1
check "status: dns servers, the one in use" jq -e '.dnsServers == ["127.0.0.2"] and .dnsServer == "127.0.0.2"' <<<"$now"
json2() { mesh_status 2 --json; }
check "status (peer2): refused counted" jq -e '.dnsRefused >= 1 and .dnsServers == []' <<<"$(json2)"
kill "$upstream_pid" 2>/dev/null
# no answer: the slot expires after 5 s, seen when the next query is forwarded
q www.example.net A >/dev/null; sleep 4; q www.example.com A >/dev/null
now=$(json1)
check "status: a timed-out forward counts as failed ($(delta dnsFailed))" test "$(delta dnsFailed)" -ge 1
text1() { mesh_status 1 | grep -q "$1"; }
check "status text: the counters" text1 'dns queries: [0-9]* answered locally, [0-9]* forwarded, [0-9]* failed, [0-9]* refused, [0-9]* malformed'
check "status text: server in use" text1 'dns servers: 127.0.0.2 (in use)'

# systemd-resolved (the stand-in): exact calls and arguments from peer1, none from peer2
if1=$(lab_exec p1 cat "/sys/class/net/$(mesh_ifname 1)/ifindex")
want="ready
SetLinkDNS $if1 2:$t1
SetLinkDomains $if1 ~lab.rift corp.example ~.
SetLinkDNS $if1 2:$t1
SetLinkDomains $if1 ~lab.rift corp.example ~."
check "resolved: SetLinkDNS + SetLinkDomains, asked again after NoSuchLink" lab_wait 10 "registration" sh -c "[ \"\$(cat $work/resolved.log)\" = \"\$1\" ]" - "$want"
check "status: resolved registered" jq -e '.dnsResolved == "registered" and .dnsResolvedError == ""' <<<"$(json1)"
check "status (peer2): resolved unavailable, another namespace" jq -e '.dnsResolved == "unavailable" and (.dnsResolvedError | test("network namespace"))' <<<"$(json2)"
check "status text (peer1): registered" text1 'systemd-resolved: registered'
check "peer2 logs it once" test "$(grep -c 'systemd-resolved not available' "$work/p2.log")" = 1

# reload (docs/config.md#reload): new domain, dns and search in peer1's file, `riftgate reload`:
# resolved is told again (exactly one SetLinkDNS + SetLinkDomains with the new domains), the
# responder answers the new zone, other names go to the new upstream (127.0.0.3, answers
# 192.0.2.8); then a bad dns value is refused and all of it stays
ip netns exec "$(lab_ns p1)" "$src/tests/lab/dns-stub.py" 127.0.0.3 192.0.2.8 &
LAB_PIDS+=("$!")
cp "$work/p1.toml" "$work/p1.toml.orig"
set_names() # DOMAIN DNS SEARCH: peer1's [network] domain, dns and search
{
	sed -i '/^domain = /d; /^dns = /d; /^search = /d' "$work/p1.toml"
	sed -i "/^\[network\]/a domain = $1\ndns = $2\nsearch = $3" "$work/p1.toml"
}
reload1() { lab_exec p1 timeout 15 "$MESH_RIFTGATE" reload "$(mesh_ifname 1)" >"$work/reload.out" 2>&1; }
not() { ! "$@"; }
new_calls() { tail -n +"$((calls + 1))" "$work/resolved.log"; }
calls=$(wc -l <"$work/resolved.log")
set_names '"mesh2.test"' '["127.0.0.3"]' '["corp2.example", "lab.example"]'
reload1; rc=$?
check "reload with new domain/dns/search: exit 0 (was $rc)" test "$rc" = 0
check "... no restart needed" grep -q ": config reloaded$" "$work/reload.out"
want="SetLinkDNS $if1 2:$t1
SetLinkDomains $if1 ~lab.mesh2.test corp2.example lab.example ~."
check "reload: resolved sees the new SetLinkDNS + SetLinkDomains" lab_wait 10 "re-registration" eval '[ "$(new_calls)" = "$want" ]'
check "reload: other names go to the new upstream" short_is www.example.com A 192.0.2.8
check "reload: the new zone is answered" short_is peer2.lab.mesh2.test A "$t2"
check "reload: status shows the new server and zone" jq -e '.dnsServers == ["127.0.0.3"] and .dnsZone == "lab.mesh2.test"' <<<"$(json1)"
check "reload: no restart warning for the names" not grep -q "reload: .*domain/dns/search changed" "$work/p1.log"
check "reload: printed line carries the new search domains" grep -q "resolvectl domain $(mesh_ifname 1) '~lab.mesh2.test' corp2.example lab.example '~.'" "$work/p1.log"
calls=$(wc -l <"$work/resolved.log")
reload1; rc=$?; sleep 1
check "reload without a change: exit 0 (was $rc), resolved not asked again" test "$rc:$(new_calls)" = 0:
set_names '"mesh3.test"' '["not-an-address"]' '["corp3.example"]'
reload1; rc=$?
check "reload: a bad dns value is refused (exit 1, was $rc)" test "$rc" = 1
check "... naming the value" grep -q "not-an-address" "$work/reload.out"
sleep 1
check "... resolved is not asked again" test -z "$(new_calls)"
check "... the new upstream stays in use" short_is www.example.org A 192.0.2.8
check "... the zone stays" short_is peer2.lab.mesh2.test A "$t2"
cp "$work/p1.toml.orig" "$work/p1.toml"
for i in 1 2; do
	mesh_peer_stop "$i" TERM; rc=$?
	check "peer$i exits cleanly (rc=$rc)" test "$rc" = 0
done
check "resolved: RevertLink on down" test "$(tail -n 1 "$work/resolved.log")" = "RevertLink $if1"
check "no marker left after down" test ! -e "$MESH_DIR/run/$(mesh_ifname 1).resolved"
# crash recovery: kill -9 leaves the marker; the next up reverts that link before registering
: >"$work/resolved.log"
p1_start
check "registered again" lab_wait 30 "registration" grep -q "^SetLinkDomains" "$work/resolved.log"
lab_wait 10 "marker" test -e "$MESH_DIR/run/$(mesh_ifname 1).resolved"
old=$(cat "$MESH_DIR/run/$(mesh_ifname 1).resolved")
mesh_peer_stop 1 KILL
check "a crash leaves the marker ($old)" test -n "$old"
: >"$work/resolved.log"
p1_start
check "next up: RevertLink of the crashed agent's link first" lab_wait 30 "revert" sh -c "head -n 1 $work/resolved.log | grep -qx 'RevertLink $old'"
if1=$(lab_exec p1 cat "/sys/class/net/$(mesh_ifname 1)/ifindex")
check "... then registers the new link" lab_wait 10 "registration" grep -qx "SetLinkDomains $if1 ~lab.rift corp.example ~." "$work/resolved.log"
mesh_peer_stop 1 TERM; rc=$?
check "peer1 exits cleanly (rc=$rc)" test "$rc" = 0
check "resolved: RevertLink on down" test "$(tail -n 1 "$work/resolved.log")" = "RevertLink $if1"
check_counts e2e-names
[ "$fails" -eq 0 ]
