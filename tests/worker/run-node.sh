#!/usr/bin/env bash
# meson entry for the Node tests of the 'worker' suite: setup (npm ci, hub.wasm), then
# `node tests/worker/SCRIPT ARGS...`.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
script=$1
shift
exec node "$(dirname "$0")/$script" "$@"
