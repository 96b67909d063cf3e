#!/usr/bin/env bash
# Another VPN beside riftgate (issue 15 item 10): ICE must never gather host candidates on
# riftgate's own interface nor on another tunnel, so the pair is never selected through one.
# Two peers on the lab LAN also share two other working paths:
#   - a wireguard-go tunnel (a TUN device, named like nothing in particular): skipped by kind;
#   - a direct veth pair named tailscale0: skipped by the default [webrtc] exclude_interfaces.
# Both are faster routes than nothing: without the filter libnice binds host candidates on them.
# Then peer 1 restarts with `exclude_interfaces = []`: the veth is used for candidates again
# (the list is what excluded it), the TUN still is not (its kind is).
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

command -v wireguard-go >/dev/null || { echo "SKIP: wireguard-go not installed"; exit 77; }
work=$(mktemp -d /tmp/rgag-ot.XXXXXX)
. "$src/tests/lab/check.sh"

mesh_setup "$build" "$work" rgag-t rgt
report()
{
	[ "$fails" -gt 0 ] && { mesh_dump_logs; tail -20 "$work"/go*.log; }
	echo "e2e othertun: $passes passed, $fails failed"
	rm -rf "$work"
}
lab_on_cleanup report

mesh_build 2
# wireguard-go between p1 and p2 over the LAN: 10.201.0.0/24 (names distinct: UAPI sockets)
gofif() { echo "${MESH_IFPREFIX}x$1"; }
for i in 1 2; do
	(umask 077; wg genkey >"$work/go$i.key")
	wg pubkey <"$work/go$i.key" >"$work/go$i.pub"
	lab_bg "p$i" "$work/go$i.log" wireguard-go -f "$(gofif "$i")"
done
for i in 1 2; do
	j=$((3 - i))
	lab_wait 10 "wireguard-go $i" lab_exec "p$i" ip link show "$(gofif "$i")" || bad "wireguard-go $i starts"
	lab_exec "p$i" wg set "$(gofif "$i")" private-key "$work/go$i.key" listen-port $((51900 + i)) \
		peer "$(cat "$work/go$j.pub")" allowed-ips 10.201.0.0/24 \
		endpoint "$(mesh_lan_ip "$j"):$((51900 + j))"
	lab_exec "p$i" ip addr add "10.201.0.$i/24" dev "$(gofif "$i")"
	lab_exec "p$i" ip link set "$(gofif "$i")" up
done
# a direct veth p1 <-> p2 named like Tailscale's interface: 10.202.0.0/24
ip -n "$(lab_ns p1)" link add tailscale0 type veth peer name tailscale0 netns "$(lab_ns p2)"
for i in 1 2; do
	lab_exec "p$i" ip addr add "10.202.0.$i/24" dev tailscale0
	lab_exec "p$i" ip link set tailscale0 up
done
check "the wireguard-go tunnel works" lab_wait 20 "ping 10.201.0.2" lab_ping p1 10.201.0.2
check "the tailscale0 veth works" lab_wait 10 "ping 10.202.0.2" lab_ping p1 10.202.0.2

mesh_hub_start || { bad "hub starts"; exit 1; }
mesh_peer_start 1 -v
mesh_peer_start 2 -v
check "riftgate tunnel up" mesh_wait_up 1 2 60

# riftgate's UDP sockets in peer I's namespace, local addresses only: libnice's host candidates
# (the names responder, DNS on port 53 of the tunnel address, is no candidate: left out)
rg_udp() { lab_exec "p$1" ss -Huanp 2>/dev/null | awk '/"riftgate"/ {print $4}' | grep -v ':53$'; }
on_addr() { rg_udp "$1" | grep -q "^$2:"; }
not() { ! "$@"; }
for i in 1 2; do
	check "peer$i gathers on its LAN address" on_addr "$i" "$(mesh_lan_ip "$i")"
	check "peer$i: no candidate on the wireguard-go tunnel (TUN kind)" \
		not on_addr $i 10.201.0.$i
	check "peer$i: no candidate on tailscale0 (exclude_interfaces default)" \
		not on_addr $i 10.202.0.$i
	check "peer$i: no candidate on its own riftgate interface" \
		not on_addr "$i" "$(mesh_tun_ip "$i")"
done
sel=$(grep "ICE selected" "$work/p1.log" | tail -1)
echo "p1: $sel"
lan_pair() { echo "$sel" | grep -q 'host 10\.98\.0\.1[12]:[0-9]* <-> host 10\.98\.0\.1[12]:'; }
check "the selected pair is on the LAN" lan_pair

# exclude_interfaces = []: the list goes, the kind rule stays
mesh_peer_stop 1 TERM
echo "exclude_interfaces = []" >>"$work/p1.toml"	# [webrtc] is the last table
mesh_peer_start 1 -v
check "riftgate tunnel up again" mesh_wait_up 1 2 60
check "exclude_interfaces = []: peer1 gathers on tailscale0" lab_wait 10 "socket on 10.202.0.1" \
	on_addr 1 10.202.0.1
check "exclude_interfaces = []: still no candidate on the TUN" \
	not on_addr 1 10.201.0.1
for i in 1 2; do
	mesh_peer_stop "$i" TERM; rc=$?
	check "peer$i exits cleanly (rc=$rc)" test "$rc" = 0
done
check_counts e2e-othertun
[ "$fails" -eq 0 ]
