#!/usr/bin/env bash
# Worker hub vs native riftgate-hub (bench/worker.mjs) -> bench/results/worker.md.
#   bash bench/worker.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
RG_BUILD_ROOT=$(cd "${1:?build dir}" && pwd)
RG_SOURCE_ROOT=$src
export RG_BUILD_ROOT RG_SOURCE_ROOT
[ -x "$RG_BUILD_ROOT/src/cli/riftgate-hub" ] || { echo "bench/worker: riftgate-hub not built in $RG_BUILD_ROOT"; exit 1; }
. "$src/tests/worker/setup.sh"
RG_CLANG_VERSION=$(${CLANG:-clang} --version | sed -n '1s/.*version \([0-9.]*\).*/\1/p')
export RG_CLANG_VERSION
mkdir -p "$src/bench/results"
timeout 300 node "$src/bench/worker.mjs" "$RG_BUILD_ROOT" "$src/bench/results/worker.md"
