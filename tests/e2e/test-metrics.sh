#!/usr/bin/env bash
# [metrics] listen: the agent's Prometheus text, scraped during a live two-peer mesh, parsed by
# prometheus_client's text parser and checked against `wg show` (transfer, latest handshake);
# an unknown path is 404; a config without [metrics] opens no listener.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null || { echo "SKIP: python3-prometheus-client missing"; exit 77; }

work=$(mktemp -d /tmp/rgag-metrics.XXXXXX)
fails=0
passes=0
ok() { echo "ok: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

mesh_setup "$build" "$work" rgag-x rgx
lab_on_cleanup 'rm -rf "$work"'
mesh_build 2
port=9587
printf '\n[metrics]\nlisten = "127.0.0.1:%s"\n' "$port" >>"$work/p1.toml"
mesh_hub_start || { bad "hub starts"; exit 1; }
mesh_peer_start 1
mesh_peer_start 2
mesh_wait_up 1 2 60 || { bad "peers up"; mesh_dump_logs; exit 1; }
lab_exec p1 ping -c 5 -i 0.2 -q "$(mesh_tun_ip 2)" >/dev/null
key2=$(mesh_pubkey <"$work/p2.key")
out=$(lab_exec p1 /usr/bin/python3 "$src/tests/e2e/check-metrics.py" "http://127.0.0.1:$port/metrics" \
	"$(mesh_ifname 1)" peer2 "$key2" 2>&1)
rc=$?
echo "$out"
passes=$((passes + $(grep -c '^ok:' <<<"$out")))
fails=$((fails + $(grep -c '^FAIL:' <<<"$out")))
check "checker exit 0" test "$rc" = 0
code=$(lab_exec p1 /usr/bin/python3 -c "
import urllib.request, urllib.error
try: urllib.request.urlopen('http://127.0.0.1:$port/nope', timeout=5)
except urllib.error.HTTPError as e: print(e.code)")
check "unknown path: 404 ($code)" test "$code" = 404
check "no listener without [metrics] (peer 2)" \
	bash -c "! ip netns exec $(lab_ns p2) ss -Htln 'sport = :$port' | grep -q ."
lab_exec p1 /usr/bin/python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/metrics').read().decode())" \
	>"$work/metrics.txt" 2>&1
grep '^riftgate_peer_info' "$work/metrics.txt"

echo "e2e metrics: $passes passed, $fails failed"
[ -n "${RG_COUNTS_DIR:-}" ] && mkdir -p "$RG_COUNTS_DIR" && echo "$passes $fails" >"$RG_COUNTS_DIR/e2e-metrics"
[ "$fails" -eq 0 ]
