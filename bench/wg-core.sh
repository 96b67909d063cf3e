#!/usr/bin/env bash
# WireGuard core hot path on one core (bench/wg-core.c): 1420-byte packets encrypted by one
# in-memory device and decrypted by another; no network. Pinned to one CPU when possible.
#   bench/wg-core.sh [BUILD_DIR]     (make bench passes the release build dir)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=$(cd "${1:-$src/build-release}" && pwd)
bin=$build/tests/wg/bench-wg-core
secs=${BENCH_SECONDS:-3}
[ -x "$bin" ] || { echo "wg-core.sh: $bin missing (meson compile -C $build)" >&2; exit 1; }
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
out=$("${pin[@]}" "$bin" "$secs" 1420)
echo "$out"
mkdir -p "$src/bench/results"
{
	echo "# wg-core micro-benchmark ($(date -u +%Y-%m-%dT%H:%MZ))"
	echo
	echo "Command: \`make bench\` (bench/wg-core.sh $(basename "$build")) ($(nproc) cores, $(uname -m))"
	echo
	echo "$out" | sed "s/^/    /"
} > "$src/bench/results/wg-core.md"
