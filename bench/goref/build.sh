#!/usr/bin/env bash
# Build goref (the Go reference tunnel: wireguard-go + pion data channels) into
# BUILD_DIR/bench/goref/goref and print its path. Uses the usual Go caches; modules come from
# the Go module proxy, pinned by go.mod/go.sum (-mod=readonly). No cgo.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: build.sh BUILD_DIR}
mkdir -p "$build/bench/goref"
out=$(cd "$build/bench/goref" && pwd)
command -v go >/dev/null || { echo "goref/build.sh: 'go' not found on PATH" >&2; exit 1; }
# Without HOME (some CI runners) Go has no default caches: keep them in the build dir.
if [ -z "$(go env GOCACHE 2>/dev/null)" ] || [ -z "$(go env GOMODCACHE 2>/dev/null)" ]; then
	export GOCACHE=$out/go-cache GOMODCACHE=$out/go-mod GOPATH=$out/go-path
fi
exec 9>"$out/.build.lock"
flock -w 600 9 || { echo "goref/build.sh: timed out waiting for another build" >&2; exit 1; }
cd "$here"
if ! CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -o "$out/goref.new" . >"$out/build.log" 2>&1; then
	echo "goref/build.sh: go build FAILED:" >&2
	cat "$out/build.log" >&2
	exit 1
fi
mv -f "$out/goref.new" "$out/goref"
echo "$out/goref"
