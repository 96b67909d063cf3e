#!/usr/bin/env bash
# Sourced by every test of the 'worker' suite: checks Node, installs the npm packages from the
# committed lockfile (npm ci, cached in worker/node_modules until the lockfile changes) and builds
# hub.wasm into the build dir. Serialized with flock, since meson runs the suite's tests in parallel.
: "${RG_SOURCE_ROOT:?run through meson test}" "${RG_BUILD_ROOT:?run through meson test}"
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false NO_COLOR=1 CI=${CI:-true}
RG_WORKER_DIR=$RG_SOURCE_ROOT/worker
RG_WORKER_OUT=$RG_BUILD_ROOT/worker
RG_HUB_WASM=$RG_WORKER_OUT/hub.wasm
export RG_WORKER_DIR RG_WORKER_OUT RG_HUB_WASM
mkdir -p "$RG_WORKER_OUT"

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
	echo "worker: Node >= 20 required (wrangler 4, miniflare 4); found $(node --version 2>&1)" >&2
	exit 1
fi

(
	flock -w 600 9 || { echo "worker: setup lock timed out" >&2; exit 1; }
	want=$(sha256sum "$RG_WORKER_DIR/package-lock.json" | cut -d' ' -f1)
	have=$(cat "$RG_WORKER_DIR/node_modules/.riftgate-lock-sha256" 2>/dev/null || true)
	if [ "$want" != "$have" ]; then
		echo "worker: npm ci in $RG_WORKER_DIR"
		(cd "$RG_WORKER_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2 || exit 1
		echo "$want" > "$RG_WORKER_DIR/node_modules/.riftgate-lock-sha256"
	fi
	bash "$RG_WORKER_DIR/build-wasm.sh" "$RG_HUB_WASM" || exit 1
) 9>"$RG_WORKER_OUT/.setup.lock" || exit 1
