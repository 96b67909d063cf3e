#!/usr/bin/env bash
# End-to-end through the Worker hub: two `riftgate up` agents in network namespaces find each
# other through the Worker (Miniflare, inside the lab's hub namespace at 10.98.0.1:8080, network
# "lab") and ping over the tunnel. Then the hub sits idle past the Durable Object eviction (~10 s;
# the agents' WebSocket pings must not keep it awake), peer2 is killed and restarted, and must
# find peer1 through the hub state rebuilt from the socket attachments. Namespaces: rgwk-XXXX-*,
# interfaces rgwkXXXX[ab] (XXXX from the pid).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/setup.sh"
src=$RG_SOURCE_ROOT
build=$RG_BUILD_ROOT
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgwk-e2e.XXXXXX)
. "$src/tests/lab/check.sh"

mesh_setup "$build" "$work" rgwk rgwk
lab_on_cleanup 'if [ "$fails" -gt 0 ]; then mesh_dump_logs; fi; rm -rf "$work"'

mesh_build 2
sed -i 's#/connect"$#/connect/lab"#' "$MESH_DIR"/p*.toml
grep -q '/connect/lab"' "$MESH_DIR/p1.toml" || { bad "config points at /connect/lab"; exit 1; }
lab_bg hub "$MESH_DIR/hub.log" node "$here/serve.mjs" --host 10.98.0.1 --port "$MESH_HUB_PORT" \
	--token "$MESH_TOKEN"
MESH_HUB_PID=$LAB_LAST_PID
if ! lab_wait 60 "worker listening" lab_tcp_listening hub "$MESH_HUB_PORT"; then
	bad "Worker hub starts in the lab"
	cat "$MESH_DIR/hub.log"
	exit 1
fi

for i in 1 2; do mesh_peer_start "$i" -v; done
t0=$SECONDS
check "peers meet through the Worker hub" mesh_wait_all 120
echo "mesh up after $((SECONDS - t0)) s"
check "ping peer1 -> peer2" lab_exec p1 ping -c 3 -i 0.2 -W 3 -q "$(mesh_tun_ip 2)"
check "ping peer2 -> peer1" lab_exec p2 ping -c 3 -i 0.2 -W 3 -q "$(mesh_tun_ip 1)"

# Idle hub: the Durable Object is evicted; tunnels do not need it.
woke_before=$(grep -c "woke with" "$MESH_DIR/hub.log")
sleep "${RG_HIBERNATE_IDLE_S:-14}"
check "tunnel up while the hub sleeps" lab_exec p1 ping -c 2 -i 0.2 -W 3 -q "$(mesh_tun_ip 2)"
mesh_peer_stop 2 KILL
mesh_peer_start 2 -v
t0=$SECONDS
check "restarted peer2 reaches peer1 through the woken hub" mesh_wait_up 2 1 90
check "peer1 reaches restarted peer2" mesh_wait_up 1 2 60
echo "peer2 rejoined after $((SECONDS - t0)) s"
woke_after=$(grep -c "woke with" "$MESH_DIR/hub.log")
grep "woke with" "$MESH_DIR/hub.log" | tail -n 2
check "the Durable Object hibernated and was rebuilt from attachments" test "$woke_after" -gt "$woke_before"

for i in 1 2; do
	mesh_peer_stop "$i" TERM; rc=$?
	check "peer$i exits cleanly on SIGTERM (rc=$rc)" test "$rc" = 0
done

# The Worker relays WireGuard datagrams (docs/signaling.md §Relay): with relay = "always" every
# datagram goes through the Durable Object, and the tunnel works.
for i in 1 2; do sed -i 's/^auth_token = .*/&\nrelay = "always"/' "$MESH_DIR/p$i.toml"; mesh_peer_start "$i" -v; done
check "ping peer1 -> peer2 through the Worker relay" lab_wait 60 "ping over the relay" lab_ping p1 "$(mesh_tun_ip 2)"
relay_path() { mesh_status 1 --json 2>/dev/null | jq -e '.peers[] | select(.peerId == "peer2") | .path == "relay"' >/dev/null; }
check "status: path relay (relay = always)" relay_path
check "ping peer2 -> peer1 through the Worker relay" lab_exec p2 ping -c 3 -i 0.2 -W 3 -q "$(mesh_tun_ip 1)"
for i in 1 2; do mesh_peer_stop "$i" TERM; done
if grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$work"/p*.log; then
	bad "sanitizer reports in agent logs"
else
	ok "no sanitizer reports"
fi
echo "e2e via worker: $passes passed, $fails failed"
check_counts worker-e2e
[ "$fails" -eq 0 ]
