#!/usr/bin/env bash
# Builds the hub core (src/hub) and the glue (worker/wasm) into one freestanding wasm32 module
# with Debian's clang + lld. Used by the tests and by `wrangler deploy` ([build] in wrangler.toml).
#   worker/build-wasm.sh [OUT]      default OUT: worker/src/hub.wasm (what src/worker.mjs imports)
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$here/src/hub.wasm}
cc=${CLANG:-clang}

shopt -s nullglob
hub_sources=("$root"/src/hub/*.c "$root"/src/trust/cert.c)
if [ ${#hub_sources[@]} -eq 0 ]; then
	echo "build-wasm: no hub core sources in $root/src/hub" >&2
	exit 1
fi
command -v wasm-ld >/dev/null || { echo "build-wasm: wasm-ld not found (Debian package lld)" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# --stack-first: a stack overflow traps at address 0 instead of running into the hub's data.
"$cc" --target=wasm32-unknown-unknown -std=c17 -Oz -flto \
	-nostdlib -ffreestanding -fvisibility=hidden \
	-Wall -Wextra -Wshadow -Werror -Wno-missing-field-initializers \
	-I "$root/src" \
	-Wl,--no-entry -Wl,--strip-all -Wl,--gc-sections -Wl,--stack-first -Wl,-z,stack-size=65536 \
	-o "$tmp" "${hub_sources[@]}" "$here/wasm/glue.c" "$here/wasm/b64.c" "$here/wasm/mem.c"
mv "$tmp" "$out"
echo "build-wasm: $out ($(stat -c %s "$out") bytes)"
