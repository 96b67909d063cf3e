#!/usr/bin/env bash
# Long NAT resilience checks (minutes; not in CI's 'nat' suite): two agents behind a full-cone and a
# port-restricted NAT, then
#  1. the hub is down for 60 s: the tunnel carries pings the whole time and is still up after
#  2. one agent is SIGSTOPped for 60 s (its peer sees consent loss), then SIGCONT: the tunnel
#     recovers (within 60 s) and carries traffic again
# Usage (root): bash tests/soak/nat-outages.sh [BUILD_DIR]   (make soak passes the release build)
# Env: NAT_OUTAGE_S (default 60).
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${1:-${RG_BUILD_ROOT:-$src/build}}
outage=${NAT_OUTAGE_S:-60}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
. "$src/tests/lab/nat.sh"

work=$(mktemp -d /tmp/rgnt-soak.XXXXXX)
passes=0 fails=0
ok() { echo "ok: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
report() { [ "$fails" -gt 0 ] && mesh_dump_logs; echo "nat soak: $passes passed, $fails failed"; rm -rf "$work"; }
mesh_setup "$build" "$work" rgnt-sk rgn5
lab_on_cleanup report
NAT_DIR="$work/nat"
nat_init
NAT_TURN_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
nat_turn_start "$NAT_TURN_SECRET" || { bad "coturn starts"; exit 1; }
nat_site 1 full-cone
nat_site 2 port-restricted
nat_hub_start 8080 || { bad "hub starts"; exit 1; }
for i in 1 2; do nat_write_config "$i" 8080 rest; mesh_peer_start "$i" -v; done
nat_wait_up 1 2 90 && nat_wait_up 2 1 30 || { bad "tunnel up"; exit 1; }
ok "tunnel up ($(nat_peer_type 1 2))"

# 1. hub down
nat_hub_stop 8080
echo "hub stopped for $outage s at $(date -u +%T)"
lost=0 sent=0 end=$((SECONDS + outage))
while [ "$SECONDS" -lt "$end" ]; do
	sent=$((sent + 1))
	lab_ping p1 "$(nat_tun_ip 2)" || lost=$((lost + 1))
	sleep 1
done
echo "pings during the hub outage: $((sent - lost))/$sent"
[ "$lost" -le 2 ] && ok "tunnel carried traffic while the hub was down ($lost of $sent lost)" ||
	bad "$lost of $sent pings lost while the hub was down"
mesh_is_up 1 2 && mesh_is_up 2 1 && ok "both agents still report the peer up" || bad "tunnel dropped with the hub"
nat_hub_start 8080 || bad "hub restarts"
lab_wait 60 "agents rejoin the hub" bash -c "grep -c 'event=join' '$MESH_DIR/hub8080.log' | grep -q '^[2-9]'" &&
	ok "agents rejoined the hub" || bad "agents did not rejoin the hub"
lab_ping p1 "$(nat_tun_ip 2)" && ok "traffic after the hub is back" || bad "no traffic after the hub is back"

# 2. SIGSTOP one agent
pid=${MESH_PID[2]}
kill -STOP "$pid"
echo "agent 2 stopped for $outage s at $(date -u +%T)"
sleep "$outage"
kill -CONT "$pid"
t0=$SECONDS
if lab_wait 60 "traffic after SIGCONT" lab_ping p1 "$(nat_tun_ip 2)"; then
	ok "tunnel recovered $((SECONDS - t0)) s after SIGCONT"
else
	bad "no traffic 60 s after SIGCONT"
fi
nat_wait_up 1 2 30 && nat_wait_up 2 1 30 && ok "both agents report the peer up" || bad "peer not up after SIGCONT"
if grep -l "ERROR: AddressSanitizer\|runtime error:" "$MESH_DIR"/p*.log 2>/dev/null; then
	bad "sanitizer report in an agent log"
else
	ok "no sanitizer reports"
fi
[ "$fails" -eq 0 ]
