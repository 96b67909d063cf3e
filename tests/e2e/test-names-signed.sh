#!/usr/bin/env bash
# Network-signed DNS settings (docs/routes.md#signed-dns-settings) through a HOSTILE hub
# (hostilehub.py). peer1 is the admin device (init --new-network), peer2 joins from an invite and
# has no [network] dns. The admin signs `devices dns --server 127.0.0.2 --search corp.example`
# before starting; in peer2's namespace an upstream on 127.0.0.2 answers every A with 192.0.2.7.
#   - peer2 takes the settings from peer1 (status: dnsSettings "network ...", dnsServers), and its
#     responder forwards other names there;
#   - the hub keeps sending forged settings (random bytes; the genuine record with the server
#     changed to 127.0.0.66): refused, counted, each reason logged once, never used;
#   - the admin signs new settings while running (127.0.0.3): the running agents switch, keep
#     them on disk and start with them next time;
#   - a reload of peer2 with dns/search in its file and a new domain takes the domain, and the
#     signed settings keep precedence over the file's dns and search.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgns-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=150

mesh_setup "$build" "$work" rgns- rgs
report()
{
	[ "$fails" -gt 0 ] && mesh_dump_logs
	echo "e2e names-signed: $passes passed, $fails failed ($SECONDS s)"
	check_counts e2e-names-signed
	rm -rf "$work"
}
lab_on_cleanup report
command -v dig >/dev/null || { echo "SKIP: dig not installed (dnsutils)"; exit 77; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
rg=$MESH_RIFTGATE

mesh_build 2
rm -f "$work"/p*.toml "$work"/p*.key
mesh_signed_init
check "init --new-network" grep -q '^Fingerprint: SHA256:' "$work/init.out"
mesh_signed_join 2
check "peer2 joined from its invite" "$rg" check --config "$work/p2.toml"
check "devices dns: bad server refused" sh -c "! '$rg' devices dns --server 127.0.0.2/8 --config '$work/p1.toml' 2>/dev/null"
check "devices dns: bad domain refused" sh -c "! '$rg' devices dns --search 'a..b' --config '$work/p1.toml' 2>/dev/null"
check "devices dns: only on the admin device" sh -c "! '$rg' devices dns --server 127.0.0.2 --config '$work/p2.toml' 2>/dev/null"
check "devices dns signs the settings (no agent running)" \
	"$rg" devices dns --server 127.0.0.2 --search corp.example --config "$work/p1.toml" \
	>"$work/settings1.b64" 2>"$work/dns1.err"

# the upstreams in peer2's namespace: 127.0.0.2 and 127.0.0.3 answer every A with 192.0.2.7 / .8
upstream() # ADDR LAST-OCTET
{
	lab_exec p2 "$src/tests/lab/dns-stub.py" "$1" "192.0.2.$2" &
	LAB_PIDS+=("$!")
}
upstream 127.0.0.2 7
upstream 127.0.0.3 8

lab_bg hub "$work/hub.log" /usr/bin/python3 "$src/tests/e2e/hostilehub.py" 10.98.0.1 \
	"$MESH_HUB_PORT" "$MESH_TOKEN"
check "hostile hub listening" lab_wait 20 "hub" lab_tcp_listening hub "$MESH_HUB_PORT"
mesh_peer_start 1 -v
mesh_peer_start 2 -v
check "peer2 sees peer1" mesh_wait_up 2 1 45

json2() { mesh_status 2 --json; }
servers_are() { json2 | jq -e --arg s "$1" '(.dnsServers | join(",")) == $s and (.dnsSettings | startswith("network "))' >/dev/null; }
check "peer2 took the network's settings (status)" lab_wait 20 "settings" servers_are 127.0.0.2
t2=$(mesh_tun_ip 2)
fwd() { [ "$(lab_exec p2 dig +time=2 +tries=1 +short @"$t2" "$1" A)" = "$2" ]; }
check "peer2 forwards other names to the signed server" fwd www.example.com 192.0.2.7
check "peer names still answered locally" fwd peer1.lab.rift "$(mesh_tun_ip 1)"
check "status text: signed by the network" sh -c "ip netns exec $(lab_ns p2) $rg status $(mesh_ifname 2) | grep -q 'dns settings: signed by the network'"

# under attack: the hub has relayed the genuine record by now and forges from it every second
sleep 4
now=$(json2)
check "forged settings refused and counted ($(jq .dnsSettingsRefused <<<"$now"))" \
	jq -e '.dnsSettingsRefused >= 4' <<<"$now"
check "forged settings never used" servers_are 127.0.0.2
check "still forwarding to the signed server" fwd www.example.net 192.0.2.7
check "random bytes: logged once" test "$(grep -c 'network DNS settings from .* refused: malformed' "$work/p2.log")" = 1
check "tampered record: logged once" test "$(grep -c 'network DNS settings from .* refused: bad signature' "$work/p2.log")" = 1
check "the admin device refuses them too" test "$(grep -c 'network DNS settings from .* refused: bad signature' "$work/p1.log")" = 1

# new settings while running: the admin's agent takes them and passes them on
check "devices dns with the agent running" \
	"$rg" devices dns --server 127.0.0.3 --config "$work/p1.toml" >/dev/null 2>"$work/dns2.err"
check "... says the agent sends them" grep -q "The running agent is sending them" "$work/dns2.err"
check "peer2 switched to the new settings" lab_wait 20 "new settings" servers_are 127.0.0.3
check "peer2 forwards to the new server" fwd www.example.org 192.0.2.8
check "peer2 kept them on disk" cmp -s "$work/p2.trust/settings" "$work/p1.trust/settings"
# a reload of peer2 with its own dns/search (127.0.0.2, which answers 192.0.2.7) and a new domain:
# the domain is taken, the signed settings keep precedence over the file's dns and search
cp "$work/p2.toml" "$work/p2.toml.orig"
sed -i '/^\[network\]/a domain = "mesh9.test"\ndns = ["127.0.0.2"]\nsearch = ["file.example"]' "$work/p2.toml"
lab_exec p2 timeout 15 "$rg" reload "$(mesh_ifname 2)" >"$work/reload.out" 2>&1; rc=$?
check "reload with dns/search in the file: exit 0 (was $rc)" test "$rc" = 0
check "... the new domain is answered" fwd peer1.lab.mesh9.test "$(mesh_tun_ip 1)"
check "... the signed servers stay" servers_are 127.0.0.3
check "... forwarding stays on the signed server" fwd www.example.com 192.0.2.8
check "... the log says the signed settings stay" grep -q "reload: \[network\] dns/search changed; the network's signed DNS settings (network [0-9a-f]*) stay in use" "$work/p2.log"
check "... the link: the new zone, the signed (no) search domains" grep -q "resolvectl domain $(mesh_ifname 2) '~lab.mesh9.test' '~.'$" "$work/p2.log"
cp "$work/p2.toml.orig" "$work/p2.toml"
for i in 1 2; do
	mesh_peer_stop "$i" TERM; rc=$?
	check "peer$i exits cleanly (rc=$rc)" test "$rc" = 0
done
# the next start uses the stored settings before any peer is there
mesh_peer_start 2 -v
check "peer2 starts with the stored settings" lab_wait 20 "stored settings" servers_are 127.0.0.3
mesh_peer_stop 2 TERM
[ "$fails" -eq 0 ]
