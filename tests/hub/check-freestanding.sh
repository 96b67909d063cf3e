#!/usr/bin/env bash
# Builds src/hub for wasm32-unknown-unknown exactly as the Worker does (-nostdlib -ffreestanding)
# and fails if it needs anything from outside except memcpy/memset/memmove (which the host shim
# provides) — i.e. if someone added a libc call or a GLib include to the hub core.
set -euo pipefail
clang=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for f in hub json relay; do
	"$clang" --target=wasm32-unknown-unknown -std=c17 -O2 -ffreestanding -nostdlib \
		-Wall -Wextra -Werror -I"$src/src" -c "$src/src/hub/$f.c" -o "$tmp/$f.o"
done
llvm_nm=$(command -v llvm-nm || ls /usr/bin/llvm-nm-* 2>/dev/null | head -1)
if [ -z "$llvm_nm" ]; then echo "no llvm-nm; compiled fine"; exit 0; fi
undef=$("$llvm_nm" -u "$tmp/hub.o" "$tmp/json.o" "$tmp/relay.o" | awk 'NF==2 {print $2}' | sort -u)
bad=$(echo "$undef" | grep -v -x -E 'memcpy|memset|memmove|__stack_pointer|hub_json_.*|hub_int_.*|hub_relay_.*|' || true)
echo "undefined symbols: $(echo $undef)"
[ -z "$bad" ] || { echo "hub core needs outside symbols: $bad"; exit 1; }
echo "hub core builds freestanding for wasm32"
