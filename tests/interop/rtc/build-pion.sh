#!/usr/bin/env bash
# Build the pion test peer (tests/interop/pion, pion/webrtc v4) into BUILD/tests/interop/pion/
# and print its path. Serialised with flock so parallel tests build it once; `go build` is
# incremental and uses the usual Go caches (GOMODCACHE, GOCACHE), so re-runs take ~1 s. No cgo:
# the peer needs none, and a cold build compiles less.
# Any failure is loud: the Go error goes to stderr and the exit status is non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: build-pion.sh BUILD_DIR}
out=$build/tests/interop/pion
mkdir -p "$out"
if ! command -v go >/dev/null; then
	echo "build-pion.sh: 'go' not found on PATH; cannot build the pion peer" >&2
	exit 1
fi
# Without HOME (some CI runners) Go has no default caches: keep them in the build dir.
if [ -z "$(go env GOCACHE 2>/dev/null)" ] || [ -z "$(go env GOMODCACHE 2>/dev/null)" ]; then
	export GOCACHE=$out/go-cache GOMODCACHE=$out/go-mod GOPATH=$out/go-path
fi
exec 9>"$out/.build.lock"
if ! flock -w 600 9; then
	echo "build-pion.sh: timed out waiting for another pion build" >&2
	exit 1
fi
cd "$here/../pion"
if ! CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -o "$out/pion-peer.new" . >"$out/build.log" 2>&1; then
	echo "build-pion.sh: go build of the pion peer FAILED:" >&2
	cat "$out/build.log" >&2
	exit 1
fi
mv -f "$out/pion-peer.new" "$out/pion-peer"
echo "$out/pion-peer"
