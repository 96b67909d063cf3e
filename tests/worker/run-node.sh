#!/usr/bin/env bash
# meson entry for the Node tests of the 'worker' suite: setup (npm ci, hub.wasm), then the script.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
exec node "$(dirname "$0")/$1"
