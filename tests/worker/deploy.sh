#!/usr/bin/env bash
# `wrangler deploy --dry-run` of worker/ exactly as a user deploys it: wrangler runs the [build]
# command (worker/build-wasm.sh -> worker/src/hub.wasm) and bundles, offline, without login.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
out=$RG_WORKER_OUT/dist
rm -rf "$out"
cd "$RG_WORKER_DIR"
log=$RG_WORKER_OUT/deploy.log
if ! timeout 120 npx --no-install wrangler deploy --dry-run --outdir "$out" >"$log" 2>&1; then
	cat "$log"
	echo "worker-deploy: wrangler deploy --dry-run failed"
	exit 1
fi
cat "$log"
wasm=$(find "$out" -name '*hub.wasm' | head -n1)
[ -n "$wasm" ] || { echo "worker-deploy: no hub.wasm in $out"; exit 1; }
[ -s "$out/worker.js" ] || { echo "worker-deploy: no worker.js in $out"; exit 1; }
cmp -s "$wasm" "$RG_WORKER_DIR/src/hub.wasm" || { echo "worker-deploy: bundled wasm differs from the built one"; exit 1; }
grep -q 'HubRoom' "$log" || { echo "worker-deploy: Durable Object binding missing"; exit 1; }
echo "worker-deploy: ok, hub.wasm $(stat -c %s "$wasm") bytes, worker.js $(stat -c %s "$out/worker.js") bytes"
