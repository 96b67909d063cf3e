#!/usr/bin/env bash
# Exit node (docs/routes.md) in namespaces. peer1 offers itself as exit (`[device] exit_node =
# true`) and reaches the "internet" namespace (203.0.113.2) on a link of its own; peer2 reaches
# the same host directly through its own default route (198.18.0.2), so the address the host
# sees tells which way a connection went: 198.18.0.1 direct, 203.0.113.1 through the exit.
#   - `riftgate set --exit-node peer1`: TCP goes through the exit; the tunnel and the hub
#     connection stay up; the agent's sockets carry its fwmark (they bypass the exit's table);
#   - `--exit-node none`: `ip rule` and `ip route show table all` read byte for byte as before;
#   - kill switch: with the exit down, traffic is dropped instead of leaving directly; without
#     it, traffic goes direct again;
#   - DNS follows the exit: peer2 has dns = ["203.0.113.2"], a server in "internet" that answers
#     every A with the address it saw the query from: its responder's forwarded queries go
#     direct before, through the exit with it selected, direct again after none, and are
#     dropped by the kill switch;
#   - down leaves the routing as it was.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgex-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=320

mesh_setup "$build" "$work" rgex- rgx
report()
{
	[ "$fails" -gt 0 ] && mesh_dump_logs
	echo "e2e exit: $passes passed, $fails failed"
	rm -rf "$work"
}
lab_on_cleanup report
py=/usr/bin/python3

mesh_build 2
if2=$(mesh_ifname 2)
lab_add_ns inet
lab_link p1 inet 203.0.113.1/24 203.0.113.2/24
lab_link p2 inet 198.18.0.1/24 198.18.0.2/24
lab_exec p2 ip route add default via 198.18.0.2
# IPv6, which this IPv4 tunnel cannot carry: the host has 2001:db8:77::2, reached by peer2 only
# through its own IPv6 default route.
lab_exec p2 ip addr add fd99::1/64 dev to-inet nodad
lab_exec inet ip addr add fd99::2/64 dev to-p2 nodad
lab_exec inet ip addr add 2001:db8:77::2/128 dev lo
lab_exec p2 ip -6 route add default via fd99::2
lab_bg inet "$work/inet.log" "$py" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7777)); s.listen(8)
while True:
    c, a = s.accept(); c.sendall(("%s\n" % a[0]).encode()); c.close()
'
lab_bg inet "$work/inet-dns.log" "$src/tests/lab/dns-stub.py" 203.0.113.2 source 0
sed -i '/^\[device\]/a exit_node = true' "$work/p1.toml"
sed -i '/^\[network\]/a dns = ["203.0.113.2"]' "$work/p2.toml"
t2=$(mesh_tun_ip 2)
dns_seen() { lab_exec p2 dig +time=2 +tries=1 +short @"$t2" "q$RANDOM.example" A 2>/dev/null; }
dns_seen_is() { [ "$(dns_seen)" = "$1" ]; }

seen() { lab_exec p2 timeout 5 bash -c 'exec 3<>/dev/tcp/203.0.113.2/7777 && cat <&3' 2>/dev/null; }
seen_is() { [ "$(seen)" = "$1" ]; }
not() { ! "$@"; }
ping6_host() { lab_exec p2 ping -6 -c 1 -W 2 -q 2001:db8:77::2 >/dev/null 2>&1; }
# IPv6 link-local addresses add local routes once duplicate address detection is done: wait for
# that before a snapshot, or it would differ for reasons of its own.
settled() { [ -z "$(lab_exec p2 ip -6 addr show tentative)" ]; }
routing() { lab_wait 10 "IPv6 addresses settled" settled; lab_exec p2 sh -c 'ip rule; ip -6 rule; ip route show table all; ip -6 route show table all'; }
exit_state() { mesh_status 2 --json | jq -r .exitNodeState; }
state_is() { [ "$(exit_state)" = "$1" ]; }
set_exit() { lab_exec p2 "$MESH_RIFTGATE" set --interface "$if2" --exit-node "$1"; }
hub_marked() { lab_exec p2 ss -tnie dst 10.98.0.1 | grep -q "fwmark:0x5267"; }
offer_listed() { [ "$(mesh_status 2 --json | jq -r '.peers[] | select(.peerId == "peer1") | .routes[] | select(.prefix == "0.0.0.0/0") | .state')" = exit-offer ]; }

mesh_hub_start || { bad "hub starts"; exit 1; }
routing >"$work/pre.txt"
mesh_peer_start 1 -v
mesh_peer_start 2 -v
check "tunnel up" lab_wait 60 "peer2 sees peer1 up" mesh_is_up 2 1
check "peer1 offers to be an exit (status)" lab_wait 20 "exit offer" offer_listed
check "direct before selecting the exit" seen_is 198.18.0.1
check "DNS forwarded direct before selecting the exit" lab_wait 10 "dns direct" dns_seen_is 198.18.0.1
check "IPv6 direct before selecting the exit" lab_wait 10 "ping6" ping6_host
routing >"$work/before.txt"

check "set --exit-node peer1" set_exit peer1
check "exit active" lab_wait 20 "active" state_is active
check "TCP goes through the exit" lab_wait 10 "through the exit" seen_is 203.0.113.1
# libnftables is loaded at the first masquerade, not at start (src/net/masq.c)
check "the exit, which masquerades, loaded libnftables" grep -q libnftables "/proc/${MESH_PID[1]}/maps"
check "a device that masquerades nothing never loads libnftables" \
	not grep -q libnftables "/proc/${MESH_PID[2]}/maps"
check "ping through the exit" lab_exec p2 ping -c 1 -W 2 -q 203.0.113.2
check "DNS follows the exit (forwarded through the tunnel)" lab_wait 10 "dns through the exit" dns_seen_is 203.0.113.1
check "IPv6 still direct without the kill switch (tunnel is IPv4)" ping6_host
check "tunnel stays up" mesh_is_up 2 1
check "hub connection stays up" test "$(mesh_status 2 --json | jq -r .hubConnected)" = true
check "the agent's hub socket carries its fwmark" hub_marked
check "allowed IP 0.0.0.0/0 on peer1" sh -c "timeout 10 ip netns exec $(lab_ns p2) wg show $if2 allowed-ips | grep -q '0.0.0.0/0'"
check "status text names the exit" sh -c "ip netns exec $(lab_ns p2) $MESH_RIFTGATE status $if2 | grep -q 'using exit node: peer1 (active)'"
sleep 3
check "still through the exit after a while" seen_is 203.0.113.1

check "set --exit-node none" set_exit none
check "exit off" lab_wait 10 "none" state_is none
routing >"$work/after.txt"
check "ip rule / ip route show table all restored byte for byte" cmp -s "$work/before.txt" "$work/after.txt"
[ "$fails" -gt 0 ] && diff "$work/before.txt" "$work/after.txt"
check "direct again" seen_is 198.18.0.1
check "DNS direct again" lab_wait 10 "dns direct" dns_seen_is 198.18.0.1
check "a bad name is refused" not set_exit 'bad name'

# kill switch: the exit goes away, traffic is dropped
sed -i '/^\[network\]/a kill_switch = true' "$work/p2.toml"
mesh_peer_stop 2 TERM
mesh_peer_start 2 -v --exit-node peer1
check "tunnel up (peer2 restarted with --exit-node)" lab_wait 60 "peer2 sees peer1 up" mesh_is_up 2 1
check "exit active from --exit-node" lab_wait 20 "active" state_is active
check "through the exit" lab_wait 10 "through the exit" seen_is 203.0.113.1
check "kill switch: IPv6 (not carried by the tunnel) blocked" not ping6_host
mesh_peer_stop 1 KILL
check "exit down: blocked by the kill switch" lab_wait 120 "blocked" state_is blocked
check "no traffic leaves directly while blocked" not seen
check "ping blocked too" not lab_exec p2 ping -c 1 -W 2 -q 203.0.113.2
check "forwarded DNS blocked too (no answer)" not sh -c "ip netns exec $(lab_ns p2) dig +time=2 +tries=1 +short @$t2 blocked.example A | grep -qE '^[0-9.]+\$'"

# without the kill switch the same outage falls back to direct routing
mesh_peer_start 1 -v
sed -i '/^kill_switch = /d' "$work/p2.toml"
mesh_peer_stop 2 TERM
mesh_peer_start 2 -v --exit-node peer1
check "exit active again" lab_wait 60 "active" state_is active
mesh_peer_stop 1 TERM
check "exit down: waiting, no kill switch" lab_wait 120 "waiting" state_is waiting
check "direct while the exit is down" lab_wait 10 "direct" seen_is 198.18.0.1

mesh_peer_stop 2 TERM; rc=$?
check "peer2 exits cleanly (rc=$rc)" test "$rc" = 0
routing >"$work/down.txt"
check "down leaves the routing as before up" cmp -s "$work/pre.txt" "$work/down.txt"
check_counts e2e-exit
[ "$fails" -eq 0 ]
