#!/usr/bin/env bash
# Descriptors at the peer cap (issue 18, LimitNOFILE): an agent's open files are counted with one,
# two and three tunnels up (peer1 in a 4-peer mesh), giving the fixed part and the cost of one
# peer. Checked: a peer costs no more than the agent's own estimate (one ICE socket per local
# address, docs/systemd.md); the fixed part fits the estimate's base; and the unit's LimitNOFILE
# holds the default max_peers (1024) at the measured cost with room to spare. Then the agent's
# own check at `up`: with a soft limit below the hard one it raises the soft limit (no warning);
# with a hard limit too small for max_peers it warns and says how many peers fit.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgnf-e2e.XXXXXX)
. "$src/tests/lab/check.sh"
CHECK_BUDGET_S=200

mesh_setup "$build" "$work" rgnf- rgn
report()
{
	[ "$fails" -gt 0 ] && mesh_dump_logs
	echo "e2e nofile: $passes passed, $fails failed"
	check_counts e2e-nofile
	rm -rf "$work"
}
lab_on_cleanup report

# The agent's estimate (src/cli/up.c): a fixed base and, per peer, one descriptor per local
# address ICE gathers on (one here: the lab LAN), plus some per TURN server (none here).
base_max=$(sed -n 's/.*UP_FDS_BASE = \([0-9]*\).*/\1/p' "$src/src/cli/up.c")
per_fixed=$(sed -n 's/.*UP_FDS_PER_PEER_FIXED = \([0-9]*\).*/\1/p' "$src/src/cli/up.c")
limit=$(sed -n 's/^LimitNOFILE=\([0-9]*\)$/\1/p' "$src/dist/riftgate@.service.in")
max_peers=1024
check "estimate base ($base_max), per peer ($per_fixed + 1 per address) and unit LimitNOFILE ($limit) found" \
	test -n "$base_max" -a -n "$per_fixed" -a -n "$limit"

mesh_build 4
mesh_hub_start || { bad "hub starts"; exit 1; }
fds1() { ls "/proc/${MESH_PID[1]}/fd" | wc -l; }
settle() { sleep 3; }	# candidate gathering and DTLS done, probes answered
mesh_peer_start 1
mesh_peer_start 2
check "1 tunnel up" lab_wait 60 "peer1 sees peer2 up" mesh_is_up 1 2
settle; n1=$(fds1)
kinds() { ls -l "/proc/${MESH_PID[1]}/fd" | sed -n 's/.*-> //p' | sed 's/[0-9]\+/N/g' | sort | uniq -c | tr -s ' ' | tr '\n' ';'; }
k1=$(kinds)
mesh_peer_start 3
check "2 tunnels up" lab_wait 60 "peer1 sees peer3 up" mesh_is_up 1 3
settle; n2=$(fds1)
mesh_peer_start 4
check "3 tunnels up" lab_wait 60 "peer1 sees peer4 up" mesh_is_up 1 4
settle; n3=$(fds1)
per=$((n3 - n2))
per2=$((n2 - n1))
fixed=$((n1 - per))
echo "descriptors of peer1: $n1 with 1 tunnel, $n2 with 2, $n3 with 3: $per per peer, fixed $fixed"
echo "kinds with 1 tunnel: $k1"
echo "kinds with 3 tunnels: $(kinds)"
check "a peer costs the same each time ($per2, $per)" test "$per" = "$per2"
check "a peer costs at most the estimate (1 local address: $per <= $((per_fixed + 1)))" \
	test "$per" -le $((per_fixed + 1))
check "the fixed part fits the estimate's base ($fixed <= $base_max)" test "$fixed" -le "$base_max"
need=$((fixed + max_peers * per))
check "LimitNOFILE=$limit holds $max_peers peers ($need descriptors) twice over" \
	test $((2 * need)) -le "$limit"
for i in 1 2 3 4; do mesh_peer_stop "$i" TERM; done

# The agent's own check at up: soft limit raised to the hard one; a hard limit too low warns.
log=$MESH_DIR/p1.log
: >"$log"
ip netns exec "$(lab_ns p1)" bash -c 'ulimit -Sn 256 && ulimit -Hn 16384 || exit 9; exec "$@"' _ \
	"$MESH_RIFTGATE" up --foreground --config "$MESH_DIR/p1.toml" >>"$log" 2>&1 &
pid=$!; LAB_PIDS+=("$pid")
check "soft 256, hard 16384: up" lab_wait 20 "up" grep -q " is up\| keeps retrying\|connected to" "$log"
check "soft limit raised to the hard one" lab_wait 5 "raised" sh -c \
	"grep -q '^Max open files *16384 *16384' /proc/$pid/limits"
check "no descriptor warning" sh -c "! grep -q 'open file limit' '$log'"
lab_stop "$pid" TERM 15
: >"$log"
ip netns exec "$(lab_ns p1)" bash -c 'ulimit -n 512; exec "$@"' _ \
	"$MESH_RIFTGATE" up --foreground --config "$MESH_DIR/p1.toml" >>"$log" 2>&1 &
pid=$!; LAB_PIDS+=("$pid")
check "hard 512: warns, naming the limit and how many peers fit" lab_wait 20 "warning" \
	grep -q "warn  open file limit 512 .* max_peers is 1024.* about [0-9]* peers fit" "$log"
check "hard 512: the agent runs anyway" kill -0 "$pid"
lab_stop "$pid" TERM 15
sed -i 's|^\[network\]$|[network]\nmax_peers = 100|' "$MESH_DIR/p1.toml"
: >"$log"
ip netns exec "$(lab_ns p1)" bash -c 'ulimit -n 512; exec "$@"' _ \
	"$MESH_RIFTGATE" up --foreground --config "$MESH_DIR/p1.toml" >>"$log" 2>&1 &
pid=$!; LAB_PIDS+=("$pid")
check "hard 512, max_peers 100: up" lab_wait 20 "up" grep -q " is up\| keeps retrying\|connected to" "$log"
check "hard 512, max_peers 100: no warning" sh -c "! grep -q 'open file limit' '$log'"
lab_stop "$pid" TERM 15
[ "$fails" -eq 0 ]
