#!/usr/bin/env bash
# src/trust/cert.c is compiled into the hub core, so it must build for wasm32-unknown-unknown
# exactly as the Worker builds the hub (-ffreestanding -nostdlib) and import nothing but the
# signature check the host passes in (a function pointer, so no symbol) and memcpy/memset.
set -euo pipefail
clang=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$clang" --target=wasm32-unknown-unknown -std=c17 -O2 -ffreestanding -nostdlib \
	-Wall -Wextra -Werror -I"$src/src" -c "$src/src/trust/cert.c" -o "$tmp/cert.o"
llvm_nm=$(command -v llvm-nm || ls /usr/bin/llvm-nm-* 2>/dev/null | head -1)
if [ -z "$llvm_nm" ]; then echo "no llvm-nm; compiled fine"; exit 0; fi
undef=$("$llvm_nm" -u "$tmp/cert.o" | awk 'NF==2 {print $2}' | sort -u)
bad=$(echo "$undef" | grep -v -x -E 'memcpy|memset|memmove|__stack_pointer|' || true)
echo "undefined symbols: $(echo $undef)"
[ -z "$bad" ] || { echo "trust/cert.c needs outside symbols: $bad"; exit 1; }
echo "trust/cert.c builds freestanding for wasm32"
