#!/usr/bin/env bash
# Subnet routes over an IPv6 tunnel (docs/routes.md): peer1 (fd98::1/64) advertises the home LAN
# fd77::/64 with a host fd77::2 behind it; peer2 accepts it: kernel route and allowed IP for
# the /64, ping6 and TCP reach the host, which sees peer1's LAN address (ip6 masquerade);
# IPv6 forwarding is turned on for the route and back off on down.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgr6-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=150

mesh_setup "$build" "$work" rgr6- rg6r
report()
{
	[ "$fails" -gt 0 ] && mesh_dump_logs
	echo "e2e routes6: $passes passed, $fails failed"
	rm -rf "$work"
}
lab_on_cleanup report
command -v nft >/dev/null || { echo "SKIP: nft not installed"; exit 77; }

mesh_build 2
if2=$(mesh_ifname 2)
for i in 1 2; do
	sed -i "s|^address = .*|address = \"fd98::$i/64\"|" "$work/p$i.toml"
done
sed -i '/^\[device\]/a routes = ["fd77::/64"]' "$work/p1.toml"
sed -i '/^\[network\]/a accept_routes = true' "$work/p2.toml"
lab_add_ns home
lab_link p1 home fd77::1/64 fd77::2/64
lab_exec p1 sysctl -qw net.ipv6.conf.all.forwarding=0
lab_bg home "$work/home.log" /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 7777)); s.listen(8)
while True:
    c, a = s.accept(); c.sendall(("%s\n" % a[0]).encode()); c.close()
'
settled() { [ -z "$(lab_exec home ip -6 addr show tentative)" ] && [ -z "$(lab_exec p1 ip -6 addr show tentative)" ]; }
ping_home() { lab_exec p2 ping -6 -c 1 -W 2 -q fd77::2 >/dev/null 2>&1; }
seen() { lab_exec p2 timeout 5 bash -c 'exec 3<>/dev/tcp/fd77::2/7777 && cat <&3' 2>/dev/null; }
route_state() { mesh_status 2 --json | jq -r '.peers[] | select(.peerId == "peer1") | .routes[0].state'; }
installed() { [ "$(route_state)" = installed ]; }

check "lab addresses settled" lab_wait 10 "DAD" settled
mesh_hub_start || { bad "hub starts"; exit 1; }
mesh_peer_start 1 -v
mesh_peer_start 2 -v
check "tunnel up" lab_wait 60 "peer2 sees peer1 up" mesh_is_up 2 1
check "route installed" lab_wait 20 "installed" installed
check "kernel route to the TUN" sh -c "ip -n $(lab_ns p2) -6 route show dev $if2 | grep -q '^fd77::/64'"
check "allowed IP fd77::/64 on peer1" sh -c "timeout 10 ip netns exec $(lab_ns p2) wg show $if2 allowed-ips | grep -q 'fd77::/64'"
check "IPv6 forwarding on at peer1" test "$(lab_exec p1 cat /proc/sys/net/ipv6/conf/all/forwarding)" = 1
check "ping6 reaches the home host" lab_wait 20 "ping6" ping_home
out=$(seen)
check "TCP over IPv6, masqueraded ($out)" test "$out" = fd77::1
mesh_peer_stop 1 TERM; rc=$?
check "peer1 exits cleanly (rc=$rc)" test "$rc" = 0
check "IPv6 forwarding back off" test "$(lab_exec p1 cat /proc/sys/net/ipv6/conf/all/forwarding)" = 0
mesh_peer_stop 2 TERM
check_counts e2e-routes6
[ "$fails" -eq 0 ]
