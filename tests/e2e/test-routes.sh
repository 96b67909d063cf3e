#!/usr/bin/env bash
# Subnet routes (docs/routes.md) in namespaces: peer1 advertises the "home LAN" 192.168.77.0/24
# (a namespace "home" behind it, host 192.168.77.2) and 10.98.0.0/24, which is the lab LAN with
# the hub on it. peer2 is the client:
#   - without accept_routes: the routes are listed as not accepted / refused, nothing installed,
#     the home host unreachable;
#   - accept_routes = ["peer1"]: the home route is installed (kernel route to the TUN, allowed IP
#     on peer1), ping and TCP reach the host, which sees peer1's LAN address (masquerade); the
#     route covering the hub stays refused and the hub connection stays up;
#   - peer1 with masquerade = false: no nftables table, the host sees peer2's tunnel address and
#     answers only once it routes back itself;
#   - peer3 advertises the same prefix (another host behind it): peer2 (accept_routes = true)
#     keeps peer1's (the smaller name), shows peer3's as shadowed, TCP still reaches peer1's host;
#   - down removes the masquerade table and restores forwarding.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgrt-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=300

mesh_setup "$build" "$work" rgrt- rgr
report()
{
	[ "$fails" -gt 0 ] && mesh_dump_logs
	echo "e2e routes: $passes passed, $fails failed"
	rm -rf "$work"
}
lab_on_cleanup report
command -v nft >/dev/null || { echo "SKIP: nft not installed"; exit 77; }
py=/usr/bin/python3

mesh_build 3
if2=$(mesh_ifname 2)
table1="riftgate_$(mesh_ifname 1)"

# The home LANs: one host behind peer1, another with the same address behind peer3. Each runs a
# TCP service that answers with its name and the source address it sees.
lab_add_ns home1
lab_link p1 home1 192.168.77.1/24 192.168.77.2/24
lab_add_ns home3
lab_link p3 home3 192.168.77.1/24 192.168.77.2/24
serve() # NS NAME
{
	lab_bg "$1" "$work/$1.log" "$py" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7777)); s.listen(8)
while True:
    c, a = s.accept(); c.sendall(("%s %s\n" % (sys.argv[1], a[0])).encode()); c.close()
' "$2"
}
serve home1 home1
serve home3 home3

# set_key I SECTION KEY VALUE: (re)writes one key of peer I's config in SECTION.
set_key()
{
	local f="$work/p$1.toml"
	sed -i "/^$3 = /d" "$f"
	sed -i "/^\[$2\]/a $3 = $4" "$f"
}
set_key 1 device routes '["192.168.77.0/24", "10.98.0.0/24"]'
set_key 3 device routes '["192.168.77.0/24"]'

tcp_from2() { lab_exec p2 timeout 5 bash -c 'exec 3<>/dev/tcp/192.168.77.2/7777 && cat <&3' 2>/dev/null; }
ping_from2() { lab_exec p2 ping -c 1 -W 2 -q 192.168.77.2 >/dev/null 2>&1; }
route_state() { mesh_status 2 --json | jq -r --arg p "peer$1" --arg r "$2" \
	'.peers[] | select(.peerId == $p) | .routes[] | select(.prefix == $r) | .state'; }
route_note() { mesh_status 2 --json | jq -r --arg p "peer$1" --arg r "$2" \
	'.peers[] | select(.peerId == $p) | .routes[] | select(.prefix == $r) | .note'; }
has_state() { [ "$(route_state "$1" "$2")" = "$3" ]; }
kernel_route2() { lab_exec p2 ip route show dev "$if2" | grep -q "^$1"; }
restart() { mesh_peer_stop "$1" TERM; mesh_peer_start "$1" -v; }
not() { ! "$@"; }
note_has() { route_note "$1" "$2" | grep -q "$3"; }
no_table1() { not lab_exec p1 nft list table inet "$table1" >/dev/null 2>&1; }
both_up() { mesh_is_up 2 1 && mesh_is_up 2 3; }

mesh_hub_start || { bad "hub starts"; exit 1; }
mesh_peer_start 1 -v
mesh_peer_start 2 -v
check "tunnel up" lab_wait 60 "peer2 sees peer1 up" mesh_is_up 2 1

# --- before opting in
check "not accepted yet (status)" lab_wait 20 "route listed" has_state 1 192.168.77.0/24 not-accepted
check "route covering the hub refused (status)" has_state 1 10.98.0.0/24 refused
check "refusal says why" note_has 1 10.98.0.0/24 'covers the hub'
check "no kernel route before opting in" not kernel_route2 192.168.77.0/24
check "the tunnel itself carries traffic" lab_wait 20 "ping peer1" lab_ping p2 "$(mesh_tun_ip 1)"
check "home host unreachable before opting in" not ping_from2
check "peer1 forwards" test "$(lab_exec p1 cat /proc/sys/net/ipv4/ip_forward)" = 1
check "peer1 masquerade table" lab_exec p1 nft list table inet "$table1"

# --- opt in for peer1
set_key 2 network accept_routes '["peer1"]'
restart 2
check "tunnel up again" lab_wait 60 "peer2 sees peer1 up" mesh_is_up 2 1
check "route installed (status)" lab_wait 20 "installed" has_state 1 192.168.77.0/24 installed
check "kernel route to the TUN" kernel_route2 192.168.77.0/24
check "allowed IP on peer1" sh -c "timeout 10 ip netns exec $(lab_ns p2) wg show $if2 allowed-ips | grep -q '192.168.77.0/24'"
check "hub route still refused" has_state 1 10.98.0.0/24 refused
check "no kernel route for the refused prefix" not kernel_route2 10.98.0.0/24
check "ping reaches the home host" lab_wait 20 "ping" ping_from2
out=$(tcp_from2)
check "TCP reaches the home host, masqueraded ($out)" test "$out" = "home1 192.168.77.1"
check "hub connection up" test "$(mesh_status 2 --json | jq -r .hubConnected)" = true
status_text_has() { mesh_status 2 | grep -q "$1"; }
check "status text lists the route" status_text_has 'route: 192.168.77.0/24 installed'

# --- masquerade off: the home host must route back itself
set_key 1 device masquerade false
restart 1
check "tunnel up (peer1 restarted)" lab_wait 60 "peer2 sees peer1 up" mesh_is_up 2 1
check "no masquerade table" no_table1
check "the tunnel carries traffic again" lab_wait 30 "ping peer1" lab_ping p2 "$(mesh_tun_ip 1)"
check "no answer without a route back" not ping_from2
lab_exec home1 ip route add 10.98.100.0/24 via 192.168.77.1
check "ping with a route back" lab_wait 20 "ping" ping_from2
out=$(tcp_from2)
check "TCP sees the tunnel address ($out)" test "$out" = "home1 $(mesh_tun_ip 2)"

# --- the same prefix from peer3: the smaller name wins
set_key 3 device masquerade false
lab_exec home3 ip route add 10.98.100.0/24 via 192.168.77.1
mesh_peer_start 3 -v
set_key 2 network accept_routes true
restart 2
check "tunnels up" lab_wait 60 "peer2 sees peer1 and peer3 up" both_up
check "peer1's copy installed" lab_wait 20 "installed" has_state 1 192.168.77.0/24 installed
check "peer3's copy shadowed" has_state 3 192.168.77.0/24 shadowed
check "shadowed note names peer1" test "$(route_note 3 192.168.77.0/24)" = "peer1's is used"
out=$(tcp_from2)
check "TCP goes to peer1's host ($out)" test "$out" = "home1 $(mesh_tun_ip 2)"

# --- down: table gone, forwarding as before
set_key 1 device masquerade true
restart 1
check "masquerade table back" lab_wait 30 "table" lab_exec p1 nft list table inet "$table1"
for i in 1 2 3; do
	mesh_peer_stop "$i" TERM; rc=$?
	check "peer$i exits cleanly (rc=$rc)" test "$rc" = 0
done
check "down removed the masquerade table" no_table1
check "down restored forwarding" test "$(lab_exec p1 cat /proc/sys/net/ipv4/ip_forward)" = 0
check_counts e2e-routes
[ "$fails" -eq 0 ]
