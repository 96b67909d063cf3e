#!/usr/bin/env bash
# riftgate as a service (issue 18), without systemd on the machine: peer 1 runs the way
# riftgate@.service runs it (`up --foreground`, Type=notify) with a NOTIFY_SOCKET and a journald
# socket this test binds (in a private mount namespace, so the host's /run is untouched), and
# JOURNAL_STREAM naming its stderr. Checks: READY=1/STATUS= once the TUN is up and the hub
# answered; native journal records with PRIORITY, IFACE, PEER, PATH_TYPE; SIGHUP reloads the
# STUN servers while a ping goes on without loss, and keeps the running config on a missing,
# half-written or group-readable file; SIGTERM, SIGINT and SIGHUP-then-TERM leave no control or
# UAPI socket; a SIGKILLed agent's stale sockets are cleaned by the next `up`.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
work=$(mktemp -d /tmp/rgag-sv.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=200

mesh_setup "$build" "$work" rgag-sv rgsv
if1=$(mesh_ifname 1)
ctl1=$RIFTGATE_RUN_DIR/$if1.ctl
uapi1=/var/run/wireguard/$if1.sock
report()
{
	[ -f "$work/recv.pid" ] && kill "$(cat "$work/recv.pid")" 2>/dev/null
	[ "$fails" -gt 0 ] && { mesh_dump_logs; echo "--- notify:"; cat "$work/notify.txt";
		echo "--- journal:"; tail -c 3000 "$work/journal.txt"; }
	echo "e2e service: $passes passed, $fails failed"
	check_counts e2e-service
	rm -rf "$work"
}
lab_on_cleanup report

# A receiver for sd_notify datagrams and native journal records: one file each, records
# separated by a line "--".
cat >"$work/recv.py" <<'PY'
import os, socket, sys, select
socks = {}
for path, out in zip(sys.argv[1::2], sys.argv[2::2]):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    socks[s] = open(out, "ab", buffering=0)
open(os.environ["RECV_PID"], "w").write(str(os.getpid()))
while True:
    for s in select.select(list(socks), [], [])[0]:
        socks[s].write(s.recv(65536) + b"\n--\n")
PY

mesh_build 2
mesh_hub_start || { bad "hub starts"; exit 1; }
mesh_peer_start 2

# start1 [up args]: peer 1 as systemd would run it
start1()
{
	local log=$MESH_DIR/p1.log
	: >"$work/notify.txt"
	echo "=== start $(date -u +%T)" >>"$log"
	RECV_PID=$work/recv.pid NOTIFY_SOCKET=$work/notify.sock \
	JOURNAL_STREAM=$(stat -c '%d:%i' "$log") \
		ip netns exec "$(lab_ns p1)" unshare -m bash -c '
		mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/journal || exit 1
		rm -f "$1"; python3 "$2" "$1" "$3" /run/systemd/journal/socket "$4" &
		for i in $(seq 50); do [ -S /run/systemd/journal/socket ] && [ -S "$1" ] && break; sleep 0.1; done
		shift 4; exec "$@"' _ "$work/notify.sock" "$work/recv.py" "$work/notify.txt" \
		"$work/journal.txt" "$MESH_RIFTGATE" up --foreground --config "$MESH_DIR/p1.toml" "$@" \
		>>"$log" 2>&1 &
	P1=$!
	LAB_PIDS+=("$P1")
}
stop_recv() { [ -f "$work/recv.pid" ] && kill "$(cat "$work/recv.pid")" 2>/dev/null; rm -f "$work/recv.pid"; }
notified() { grep -q "^$1" "$work/notify.txt"; }
journal_has() { awk -v RS='\n--\n' "/$1/ && /$2/" "$work/journal.txt" | grep -q .; }
no_sockets() { [ ! -e "$ctl1" ] && [ ! -e "$uapi1" ]; }

start1
check "READY=1 sent" lab_wait 30 "READY=1" notified READY=1
check "READY came after the interface was up" lab_exec p1 ip link show "$if1"
check "STATUS says connected to the hub" grep -q "^STATUS=up (mtu [0-9]*), connected to the hub" "$work/notify.txt"
check "STATUS before READY (startup phase)" grep -q "^STATUS=interface up, connecting to the hub" "$work/notify.txt"
check "tunnel up" lab_wait 60 "peer1 sees peer2 up" mesh_is_up 1 2
check "ping over the tunnel" lab_wait 20 ping lab_ping p1 "$(mesh_tun_ip 2)"
check "STATUS= follows the mesh (1/1 peer connected)" lab_wait 15 "STATUS peers" \
	grep -q "^STATUS=up, 1/1 peer connected, hub connected" "$work/notify.txt"
# Least privilege (issue 15 item 11): CAP_NET_ADMIN alone once set up (root-owned config)
caps() { sed -n "s/^$1:\t//p" "/proc/$P1/status"; }
check "CapEff is CAP_NET_ADMIN only ($(caps CapEff))" test "$(caps CapEff)" = 0000000000001000
check "CapPrm and CapBnd the same" test "$(caps CapPrm) $(caps CapBnd)" = "0000000000001000 0000000000001000"
check "no ambient capabilities" test "$(caps CapAmb)" = 0000000000000000

# Journal: native records, not stderr lines
check "journal: records arrive" lab_wait 10 "journal records" test -s "$work/journal.txt"
check "journal: identifier, iface and priority info" \
	journal_has "SYSLOG_IDENTIFIER=riftgate" "IFACE=$if1\nPRIORITY=6|PRIORITY=6\n.*IFACE=$if1"
check "journal: peer record with PEER= and PATH_TYPE=host" \
	journal_has "PEER=peer2" "PATH_TYPE=host"
check "journal: MESSAGE without a date prefix" journal_has "MESSAGE=peer peer2: .* -> up via host" "PRIORITY=6"
check "stderr got no log lines (they went to the journal)" \
	test "$(sed -n '/=== start/,$p' "$MESH_DIR/p1.log" | grep -c ' info  ')" = 0

# Reload while a ping runs: the tunnel must not drop a packet.
lab_exec p1 ping -i 0.2 -c 40 -W 1 "$(mesh_tun_ip 2)" >"$work/ping.txt" 2>&1 &
pingpid=$!
sleep 1
cp "$MESH_DIR/p1.toml" "$work/good.toml"
sed -i 's|^servers = \[\]|servers = ["stun:10.98.0.1:3478"]|' "$MESH_DIR/p1.toml"
: >"$work/notify.txt"
: >"$work/journal.txt"; kill -HUP "$P1"
check "reload: STUN servers applied" lab_wait 10 "reload line" journal_has "reload: 1 STUN and 0 TURN" "PRIORITY=6"
check "reload: RELOADING=1 then READY=1" lab_wait 5 "READY after reload" sh -c \
	"grep -q '^RELOADING=1' '$work/notify.txt' && grep -q '^READY=1' '$work/notify.txt'"
check "reload: STATUS says reloaded" grep -q "^STATUS=up (config reloaded)" "$work/notify.txt"
# half-written file (cut in the middle of a table header), then missing, then group-readable
head -c 40 "$work/good.toml" >"$MESH_DIR/p1.toml"; echo -n "[devi" >>"$MESH_DIR/p1.toml"
: >"$work/journal.txt"; kill -HUP "$P1"
check "reload: half-written file keeps the running config" lab_wait 10 "warning" \
	journal_has "reload: .*p1.toml.*keeping the running config" "PRIORITY=4"
check "reload: STATUS says the reload was refused" lab_wait 5 "STATUS refused" \
	grep -q "^STATUS=up (reload refused, the running config stays" "$work/notify.txt"
rm -f "$MESH_DIR/p1.toml"
: >"$work/journal.txt"; kill -HUP "$P1"
check "reload: missing file keeps the running config" lab_wait 10 "warning" \
	journal_has "reload: .*keeping the running config" "cannot open|No such file"
cp "$work/good.toml" "$MESH_DIR/p1.toml"; chmod 640 "$MESH_DIR/p1.toml"
: >"$work/journal.txt"; kill -HUP "$P1"
check "reload: group-readable file refused" lab_wait 10 "warning" journal_has "chmod 600" "keeping the running config"
cp "$work/good.toml" "$MESH_DIR/p1.toml"; chmod 600 "$MESH_DIR/p1.toml"
sed -i 's|^address = .*|address = "10.98.100.77/24"|' "$MESH_DIR/p1.toml"
: >"$work/journal.txt"; kill -HUP "$P1"
check "reload: an address change is named as needing a restart" lab_wait 10 "warning" \
	journal_has "reload: .device. address changed" "PRIORITY=4"
cp "$work/good.toml" "$MESH_DIR/p1.toml"
wait "$pingpid"
check "ping went on through the reloads (40/40)" grep -q "40 packets transmitted, 40 received" "$work/ping.txt"
check "agent alive after five SIGHUPs" kill -0 "$P1"
check "status still answers" mesh_status 1 --json

# Stopping never leaves sockets behind.
check "sockets exist while up" test -S "$ctl1" -a -S "$uapi1"
lab_stop "$P1" TERM 15; rc=$?
check "SIGTERM: exit 0 (was $rc)" test "$rc" = 0
check "SIGTERM: STOPPING=1" notified STOPPING=1
check "SIGTERM: no control or UAPI socket left" no_sockets
stop_recv
start1
check "up again after SIGTERM" lab_wait 30 "READY" notified READY=1
lab_stop "$P1" INT 15; rc=$?
check "SIGINT: exit 0 (was $rc)" test "$rc" = 0
check "SIGINT: no socket left" no_sockets
stop_recv

# A crash (SIGKILL) leaves both sockets; the next up replaces them.
start1
check "up a third time" lab_wait 30 "READY" notified READY=1
kill -KILL "$P1"; wait "$P1" 2>/dev/null
check "SIGKILL leaves stale sockets (the case being tested)" test -S "$ctl1" -a -S "$uapi1"
lab_exec p1 ip link del "$if1" 2>/dev/null	# the kernel removes the TUN with its last fd anyway
stop_recv
start1
check "up after a crash: stale sockets cleaned" lab_wait 30 "READY" notified READY=1
check "wg show works on the new UAPI socket" lab_exec p1 timeout 10 wg show "$if1"
check "tunnel up after the crash" lab_wait 60 "peer1 sees peer2 up" mesh_is_up 1 2
lab_stop "$P1" TERM 15
check "no socket left at the end" no_sockets
stop_recv

# Log levels of the hub's failures: unreachable is one warning (not info, not one per retry),
# with the ws:// URL as configured; a refused token is one error, not two.
mesh_hub_stop
: >"$work/journal.txt"
start1
check "hub down: READY=1 anyway after the wait" lab_wait 30 "READY" notified READY=1
check "hub down: STATUS says it keeps retrying" grep -q "^STATUS=up, hub not reachable yet (retrying)" "$work/notify.txt"
sleep 4	# a few reconnect attempts
check "hub down: a warning names ws://10.98.0.1:$MESH_HUB_PORT/connect" \
	journal_has "MESSAGE=hub: cannot connect to ws:\/\/10.98.0.1:$MESH_HUB_PORT\/connect" "PRIORITY=4"
n=$(awk -v RS='\n--\n' '/cannot connect/ && /PRIORITY=[0-4]\n/' "$work/journal.txt" | grep -c "^MESSAGE=")
check "hub down: one warning for the outage, retries below warning (got $n)" test "$n" = 1
check "no http:// URL in any record" sh -c "! grep -q 'http://' '$work/journal.txt'"
lab_stop "$P1" TERM 15
stop_recv
mesh_hub_start || bad "hub restarts"
sed -i 's|^auth_token = .*|auth_token = "wrong-token"|' "$MESH_DIR/p1.toml"
: >"$work/journal.txt"
start1
lab_wait_exit "$P1" 30; rc=$?
check "refused token: up exits 1 (was $rc)" test "$rc" = 1
check "refused token: no READY=1" sh -c "! grep -q '^READY=1' '$work/notify.txt'"
n=$(awk -v RS='\n--\n' '/rejected token/ && /PRIORITY=3\n/' "$work/journal.txt" | grep -c "^MESSAGE=")
check "refused token: logged once as an error (got $n)" test "$n" = 1
check "refused token: the hint names the config" journal_has "auth_token in .*p1.toml" "PRIORITY=6"
check "refused token: no socket left" no_sockets
stop_recv
cp "$work/good.toml" "$MESH_DIR/p1.toml"
[ "$fails" -eq 0 ]
