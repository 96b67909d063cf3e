#!/usr/bin/env bash
# riftgate-wg against Debian's wireguard-go, both configured with Debian's wg(8), in two network
# namespaces joined by a veth pair (suite 'interop'). Usage: interop-wg.sh PATH/TO/riftgate-wg
# Each check is one counted sub-case; counts go to $RG_COUNTS_DIR/interop-wg.
set -u
umask 077
RGWG=${1:?usage: interop-wg.sh riftgate-wg}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
command -v wireguard-go >/dev/null || { echo "wireguard-go not installed"; exit 77; }
command -v iperf3 >/dev/null || { echo "iperf3 not installed"; exit 77; }

id=$(( $$ % 100000 ))
wgl_init "rgwg-i$id-"
A=$(wgl_ns a) B=$(wgl_ns b)
OURS=rgwg${id}a GO=rgwg${id}b OURS2=rgwg${id}c
MIN_MBIT=${RG_INTEROP_MIN_MBIT:-30}
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish()
{
	echo "interop-wg: $pass passed, $fail failed"
	if [ -n "${RG_COUNTS_DIR:-}" ]; then mkdir -p "$RG_COUNTS_DIR"; echo "$pass $fail" > "$RG_COUNTS_DIR/interop-wg"; fi
	if [ "$fail" -ne 0 ]; then
		echo "--- riftgate-wg log"; cat "$WGL_TMP/ours.log"; echo "--- wireguard-go log"; tail -30 "$WGL_TMP/go.log"
	fi
	[ "$fail" -eq 0 ]
	exit $?
}

wg genkey > "$WGL_TMP/a.key"; wg pubkey < "$WGL_TMP/a.key" > "$WGL_TMP/a.pub"
wg genkey > "$WGL_TMP/b.key"; wg pubkey < "$WGL_TMP/b.key" > "$WGL_TMP/b.pub"
wg genkey > "$WGL_TMP/c.key"; wg pubkey < "$WGL_TMP/c.key" > "$WGL_TMP/c.pub"
wg genpsk > "$WGL_TMP/psk1"; wg genpsk > "$WGL_TMP/psk2"
PA=$(cat "$WGL_TMP/a.pub") PB=$(cat "$WGL_TMP/b.pub") PC=$(cat "$WGL_TMP/c.pub")

wgl_pair a b || { bad "namespaces"; finish; }
wgl_start a "$OURS" "$WGL_TMP/ours.log" "$RGWG" || { bad "riftgate-wg starts"; finish; }
OURS_PID=$WGL_LASTPID
wgl_start b "$GO" "$WGL_TMP/go.log" wireguard-go || { bad "wireguard-go starts"; finish; }
wgl_conf a "$OURS" 10.77.0.1/24 "$WGL_TMP/a.key" 51820 || bad "configure riftgate-wg"
wgl_conf b "$GO" 10.77.0.2/24 "$WGL_TMP/b.key" 51821 || bad "configure wireguard-go"

ping_from() { ip netns exec "$1" ping -c1 -W1 "$2"; }
hs_of() { ip netns exec "$1" wg show "$2" latest-handshakes | awk -v k="$3" '$1 == k { print $2 }'; }
ep_of() { ip netns exec "$1" wg show "$2" endpoints | awk -v k="$3" '$1 == k { print $2 }'; }
has_hs() { local t; t=$(hs_of "$@"); [ -n "$t" ] && [ "$t" != 0 ]; }
no_hs() { local t; t=$(hs_of "$@"); [ "$t" = 0 ]; }
alive() { kill -0 "$OURS_PID" 2>/dev/null; }
says() { [ "$1" -eq 1 ] && grep -q -- "$2" <<<"$3"; }	# says RC PATTERN OUTPUT

# 1. We initiate: only our side knows the other's endpoint.
ip netns exec "$A" wg set "$OURS" peer "$PB" allowed-ips 10.77.0.2/32 endpoint 192.168.77.2:51821
ip netns exec "$B" wg set "$GO" peer "$PA" allowed-ips 10.77.0.1/32
check "ping riftgate-wg -> wireguard-go (we initiate)" wgl_wait 20 ping_from "$A" 10.77.0.2
check "wg show: handshake recorded on our side" has_hs "$A" "$OURS" "$PB"
check "wireguard-go learnt our endpoint" test "$(ep_of "$B" "$GO" "$PA")" = 192.168.77.1:51820

# An idle daemon sleeps: no periodic wakeups (timers only when the core needs them).
ticks() { awk '{ print $14 + $15 }' "/proc/$OURS_PID/stat"; }
sleep 1; t0=$(ticks); sleep 4; t1=$(ticks)
check "idle: riftgate-wg used $((t1 - t0)) CPU ticks in 4 s (<= 2)" test $((t1 - t0)) -le 2

# 2. Peer removal on both sides, re-add: now wireguard-go initiates; we learn its endpoint.
ip netns exec "$A" wg set "$OURS" peer "$PB" remove
check "peer removed from wg show" test -z "$(ip netns exec "$A" wg show "$OURS" peers)"
ip netns exec "$B" wg set "$GO" peer "$PA" remove
ip netns exec "$A" wg set "$OURS" peer "$PB" allowed-ips 10.77.0.2/32
check "re-added peer has no handshake yet" no_hs "$A" "$OURS" "$PB"
ip netns exec "$B" wg set "$GO" peer "$PA" allowed-ips 10.77.0.1/32 endpoint 192.168.77.1:51820
check "ping wireguard-go -> riftgate-wg (they initiate)" wgl_wait 20 ping_from "$B" 10.77.0.1
check "we learnt wireguard-go's endpoint" test "$(ep_of "$A" "$OURS" "$PB")" = 192.168.77.2:51821
check "ping back riftgate-wg -> wireguard-go" wgl_wait 10 ping_from "$A" 10.77.0.2

# 3. iperf3 TCP both directions, 5 s each.
ip netns exec "$B" iperf3 -s -B 10.77.0.2 -p 5201 -D --logfile "$WGL_TMP/iperf-s.log" -I "$WGL_TMP/iperf.pid"
wgl_wait 10 ip netns exec "$B" ss -ltn 'sport = :5201' | grep -q 5201
iperf_mbit()
{
	local out
	out=$(ip netns exec "$A" timeout 30 iperf3 -c 10.77.0.2 -p 5201 -t 5 -J "$@" 2>/dev/null) || return 1
	echo "$out" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(int(d["end"]["sum_received"]["bits_per_second"]/1e6))'
}
up=$(iperf_mbit || echo 0); down=$(iperf_mbit -R || echo 0)
echo "iperf3 TCP riftgate-wg -> wireguard-go: $up Mbit/s; wireguard-go -> riftgate-wg: $down Mbit/s"
check "iperf3 upload >= $MIN_MBIT Mbit/s ($up)" test "$up" -ge "$MIN_MBIT"
check "iperf3 download >= $MIN_MBIT Mbit/s ($down)" test "$down" -ge "$MIN_MBIT"
[ -f "$WGL_TMP/iperf.pid" ] && kill "$(cat "$WGL_TMP/iperf.pid")" 2>/dev/null

# Data integrity both ways (iperf3 does not check payload): 24 MiB of random bytes, SHA-256 compared.
head -c $((24 << 20)) /dev/urandom > "$WGL_TMP/blob"
want=$(sha256sum "$WGL_TMP/blob" | cut -d' ' -f1)
xfer()	# xfer FROM_NS TO_NS TO_ADDR PORT
{
	ip netns exec "$2" timeout 90 /usr/bin/python3 "$here/xfer.py" recv "$3" "$4" > "$WGL_TMP/xfer.out" &
	local rp=$!
	wgl_wait 10 bash -c "ip netns exec $2 ss -ltn 'sport = :$4' | grep -q $4"
	ip netns exec "$1" timeout 90 /usr/bin/python3 "$here/xfer.py" send "$3" "$4" "$WGL_TMP/blob"
	wait "$rp"
	test "$(cat "$WGL_TMP/xfer.out")" = "$want"
}
check "24 MiB riftgate-wg -> wireguard-go arrives intact" xfer "$A" "$B" 10.77.0.2 5210
check "24 MiB wireguard-go -> riftgate-wg arrives intact" xfer "$B" "$A" 10.77.0.1 5211

# 4. wg show on our side: handshake and byte counters that match the traffic.
read -r _ rx tx < <(ip netns exec "$A" wg show "$OURS" transfer | awk -v k="$PB" '$1 == k')
check "wg show transfer counts the iperf traffic (rx=$rx tx=$tx)" test "${rx:-0}" -gt 10000000 -a "${tx:-0}" -gt 10000000
check "wg show: latest handshake within the last 3 minutes" \
	test $(( $(date +%s) - $(hs_of "$A" "$OURS" "$PB") )) -lt 180
show=$(ip netns exec "$A" wg show "$OURS")
check "wg show lists interface, port, peer, allowed ips" \
	bash -c '[[ "$1" == *"listening port: 51820"* && "$1" == *"peer: '"$PB"'"* && "$1" == *"allowed ips: 10.77.0.2/32"* ]]' _ "$show"

# IPv6 inside the tunnel (TCP segmentation offload on our TUN splits IPv6 super-segments too).
ip -n "$A" addr add fd78::1/64 dev "$OURS" nodad
ip -n "$B" addr add fd78::2/64 dev "$GO" nodad
ip netns exec "$A" wg set "$OURS" peer "$PB" allowed-ips 10.77.0.2/32,fd78::2/128
ip netns exec "$B" wg set "$GO" peer "$PA" allowed-ips 10.77.0.1/32,fd78::1/128
check "ping6 through the tunnel" wgl_wait 10 ip netns exec "$A" ping -6 -c1 -W1 fd78::2
ip netns exec "$B" iperf3 -s -B fd78::2 -p 5203 -D --logfile "$WGL_TMP/iperf6-s.log" -I "$WGL_TMP/iperf6.pid"
wgl_wait 10 bash -c "ip netns exec $B ss -ltn 'sport = :5203' | grep -q 5203"
i6=$(ip netns exec "$A" timeout 30 iperf3 -6 -c fd78::2 -p 5203 -t 3 -J 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e6))' 2>/dev/null || echo 0)
echo "iperf3 TCP over IPv6 inside, riftgate-wg -> wireguard-go: $i6 Mbit/s"
check "iperf3 IPv6 inside >= $MIN_MBIT Mbit/s ($i6)" test "$i6" -ge "$MIN_MBIT"
[ -f "$WGL_TMP/iperf6.pid" ] && kill "$(cat "$WGL_TMP/iperf6.pid")" 2>/dev/null

# 5. Roaming: wireguard-go moves to a new address and port; we follow its authenticated packets.
ip -n "$A" addr add 192.168.78.1/24 dev eth0
ip -n "$B" addr add 192.168.78.2/24 dev eth0
ip netns exec "$B" wg set "$GO" listen-port 51999 peer "$PA" endpoint 192.168.78.1:51820
check "ping after wireguard-go roamed" wgl_wait 15 ping_from "$B" 10.77.0.1
check "our endpoint followed to 192.168.78.2:51999" wgl_wait 10 test "$(ep_of "$A" "$OURS" "$PB")" = 192.168.78.2:51999
ip -n "$B" addr del 192.168.77.2/24 dev eth0
check "ping from us over the new path (old address gone)" wgl_wait 10 ping_from "$A" 10.77.0.2

# 6. Mismatched preshared keys: no handshake, no crash; then matching keys work again.
ip netns exec "$A" wg set "$OURS" peer "$PB" remove
ip netns exec "$B" wg set "$GO" peer "$PA" remove
ip netns exec "$A" wg set "$OURS" peer "$PB" allowed-ips 10.77.0.2/32 preshared-key "$WGL_TMP/psk1" endpoint 192.168.78.2:51999
ip netns exec "$B" wg set "$GO" peer "$PA" allowed-ips 10.77.0.1/32 preshared-key "$WGL_TMP/psk2" endpoint 192.168.78.1:51820
ip netns exec "$A" ping -c3 -i0.5 -W1 10.77.0.2 >/dev/null 2>&1
ip netns exec "$B" ping -c3 -i0.5 -W1 10.77.0.1 >/dev/null 2>&1
check "wrong psk: ping fails" bash -c "! ip netns exec $A ping -c1 -W2 10.77.0.2 >/dev/null 2>&1"
check "wrong psk: no handshake on our side" no_hs "$A" "$OURS" "$PB"
check "wrong psk: riftgate-wg still running" alive
check "wg show shows our (hidden) psk" bash -c "ip netns exec $A wg show $OURS preshared-keys | grep -q -- \"$(cat "$WGL_TMP/psk1")\""
ip netns exec "$B" wg set "$GO" peer "$PA" preshared-key "$WGL_TMP/psk1"
check "matching psk: ping works" wgl_wait 30 ping_from "$A" 10.77.0.2

# 7. riftgate-wg <-> riftgate-wg: a second daemon of ours replaces wireguard-go in B. It runs
# without offloads (RG_WG_NO_OFFLOAD=1), so the plain per-packet paths are covered too.
ip netns exec "$B" ip link set "$GO" down
RG_WG_NO_OFFLOAD=1 wgl_start b "$OURS2" "$WGL_TMP/ours2.log" "$RGWG" || bad "second riftgate-wg starts"
wgl_conf b "$OURS2" 10.78.0.2/24 "$WGL_TMP/c.key" 51822 || bad "configure second riftgate-wg"
ip -n "$A" addr add 10.78.0.1/24 dev "$OURS"
ip netns exec "$A" wg set "$OURS" peer "$PC" allowed-ips 10.78.0.2/32 endpoint "[fd77::2]:51822"
ip netns exec "$B" wg set "$OURS2" peer "$PA" allowed-ips 10.78.0.1/32
check "ours <-> ours: ping" wgl_wait 20 ping_from "$A" 10.78.0.2
check "ours <-> ours: ping back" wgl_wait 10 ping_from "$B" 10.78.0.1
check "ours <-> ours over IPv6: endpoint learnt as [fd77::1]:51820" test "$(ep_of "$B" "$OURS2" "$PA")" = "[fd77::1]:51820"
ip netns exec "$B" iperf3 -s -B 10.78.0.2 -p 5202 -D --logfile "$WGL_TMP/iperf2-s.log" -I "$WGL_TMP/iperf2.pid"
wgl_wait 10 ip netns exec "$B" ss -ltn 'sport = :5202' | grep -q 5202
o=$(ip netns exec "$A" timeout 30 iperf3 -c 10.78.0.2 -p 5202 -t 3 -J 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e6))' 2>/dev/null || echo 0)
echo "iperf3 TCP riftgate-wg -> riftgate-wg (IPv6 outer): $o Mbit/s"
check "ours <-> ours: iperf3 >= $MIN_MBIT Mbit/s ($o)" test "$o" -ge "$MIN_MBIT"
[ -f "$WGL_TMP/iperf2.pid" ] && kill "$(cat "$WGL_TMP/iperf2.pid")" 2>/dev/null
check "ours <-> ours: 24 MiB A -> B intact" xfer "$A" "$B" 10.78.0.2 5212
check "ours <-> ours: 24 MiB B -> A intact" xfer "$B" "$A" 10.78.0.1 5213

# 8. Bad UAPI input leaves the configuration unchanged.
before=$(ip netns exec "$A" wg showconf "$OURS")
printf 'set=1\nlisten_port=1234\npublic_key=%s\nallowed_ip=bogus\n\n' "$(echo "$PB" | base64 -d | od -An -tx1 | tr -d ' \n')" |
	ip netns exec "$A" /usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); print(s.recv(100).decode(), end="")' \
	"/var/run/wireguard/$OURS.sock" > "$WGL_TMP/bad.out"
check "bad set: errno=22" grep -qx 'errno=22' "$WGL_TMP/bad.out"
check "bad set: configuration unchanged" test "$before" = "$(ip netns exec "$A" wg showconf "$OURS")"

# 9. Clean shutdown: SIGTERM removes the socket and the TUN.
kill -TERM "$OURS_PID"
check "SIGTERM: daemon exits 0" bash -c "for i in \$(seq 100); do kill -0 $OURS_PID 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
wait "$OURS_PID"; rc=$?
check "SIGTERM: exit status 0 ($rc)" test "$rc" -eq 0
check "SIGTERM: UAPI socket removed" test ! -e "/var/run/wireguard/$OURS.sock"
check "SIGTERM: TUN gone" bash -c "! ip -n $A link show $OURS >/dev/null 2>&1"

# 10. Removing the socket file stops the daemon (what wg-quick down does for userspace).
rm -f "/var/run/wireguard/$OURS2.sock"
check "socket removed: second daemon exits and its TUN goes" wgl_wait 10 bash -c "! ip -n $B link show $OURS2"

# 11. Deleting the TUN stops a daemon cleanly; wg-quick up/down with riftgate-wg as the
# userspace implementation (no kernel module here, so wg-quick falls back to it).
wgl_start a "rgwg${id}d" "$WGL_TMP/ours3.log" "$RGWG"; p3=$WGL_LASTPID
ip -n "$A" link del "rgwg${id}d"
check "TUN deleted: daemon exits 0" bash -c "for i in \$(seq 100); do kill -0 $p3 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
wait "$p3"; rc=$?
check "TUN deleted: exit status 0 ($rc), socket removed" test "$rc" -eq 0 -a ! -e "/var/run/wireguard/rgwg${id}d.sock"
# SIGHUP (a closed terminal) is a clean stop too: no stale socket (issue 18).
wgl_start a "rgwg${id}h" "$WGL_TMP/ours4.log" "$RGWG"; p4=$WGL_LASTPID
wgl_wait 10 test -S "/var/run/wireguard/rgwg${id}h.sock"
kill -HUP "$p4"
wait "$p4"; rc=$?
check "SIGHUP: exit status 0 ($rc), socket removed, TUN gone" sh -c \
	"[ $rc -eq 0 ] && [ ! -e /var/run/wireguard/rgwg${id}h.sock ] && ! ip -n $A link show rgwg${id}h >/dev/null 2>&1"
if ! ip link add "rgwg${id}k" type wireguard 2>/dev/null; then
	q="rgwg${id}q"; WGL_IFS+=("$q")
	printf '[Interface]\nPrivateKey = %s\nAddress = 10.91.0.1/24\nListenPort = 51900\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.91.0.2/32\nEndpoint = 192.168.78.2:51999\n' \
		"$(cat "$WGL_TMP/a.key")" "$PB" > "$WGL_TMP/$q.conf"
	ip netns exec "$A" env WG_QUICK_USERSPACE_IMPLEMENTATION="$RGWG" wg-quick up "$WGL_TMP/$q.conf" >"$WGL_TMP/wgq.log" 2>&1
	check "wg-quick up: interface, address and peer" bash -c "ip -n $A addr show $q | grep -q 10.91.0.1/24 && ip netns exec $A wg show $q peers | grep -qx -- '$PB'"
	ip netns exec "$A" wg-quick down "$WGL_TMP/$q.conf" >>"$WGL_TMP/wgq.log" 2>&1
	check "wg-quick down: daemon gone, socket gone" wgl_wait 10 bash -c "! ip -n $A link show $q && ! test -e /var/run/wireguard/$q.sock && ! pgrep -f 'riftgate-wg $q\$'"
else
	ip link del "rgwg${id}k"
	echo "kernel WireGuard present: wg-quick would not use riftgate-wg; skipped"
fi

# 12. Clear errors.
out=$("$RGWG" -f abcdefghijklmnop 2>&1); rc=$?
check "name too long: exit 1 with a message" says "$rc" 'invalid interface name' "$out"
out=$(unshare -m sh -c "mount -t tmpfs none /dev/net && '$RGWG' -f rgwg${id}x" 2>&1); rc=$?
check "no /dev/net/tun: exit 1 with a message" says "$rc" '/dev/net/tun is missing' "$out"
out=$(ip netns exec "$A" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$RGWG" -f rgwg${id}y 2>&1); rc=$?
check "not root: exit 1 with a message" says "$rc" 'run as root' "$out"

finish
