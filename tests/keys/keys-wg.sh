#!/usr/bin/env bash
# riftgate genkey/pubkey against the real `wg` (wireguard-tools): same keys both ways, same
# refusals (message text after the program name, and exit code) for malformed input.
set -u
rg=$1
wg=$(command -v wg) || { echo "keys-wg: FAIL: wg (wireguard-tools) not installed"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; n=0
check() { n=$((n + 1)); if [ "$1" = "$2" ]; then :; else echo "FAIL $3: '$1' != '$2'"; fail=$((fail + 1)); fi; }

for i in 1 2 3 4 5 6 7 8; do
	k=$("$rg" genkey)
	check "$(printf '%s\n' "$k" | "$wg" pubkey)" "$(printf '%s\n' "$k" | "$rg" pubkey)" "our genkey #$i"
	check "${#k}" 44 "genkey length"
	k=$("$wg" genkey)
	check "$(printf '%s\n' "$k" | "$rg" pubkey)" "$(printf '%s\n' "$k" | "$wg" pubkey)" "wg genkey #$i"
done
# A key that is not clamped: both clamp before multiplying.
k=$(printf '\377%.0s' $(seq 32) | base64 -w0)
check "$(printf '%s' "$k" | "$rg" pubkey)" "$(printf '%s' "$k" | "$wg" pubkey)" "unclamped key"

good=$("$wg" genkey)
# name|stdin bytes (printf format)
cases=(
	"empty|"
	"short|abc"
	"43 chars|${good:0:43}"
	"no padding|${good:0:43}A"
	"trailing garbage|${good} x"
	"trailing newline+spaces|${good}\n \t\n"
	"trailing NULs|${good}\0\0"
	"leading space| ${good}"
	"non-base64|${good:0:20}!!${good:22}"
	"unused bits set|${good:0:42}B="
	"NUL inside|${good:0:10}\0${good:11}"
	"two keys|${good}\n${good}\n"
	"CRLF|${good}\r\n"
)
for c in "${cases[@]}"; do
	name=${c%%|*}; input=${c#*|}
	printf "$input" > "$tmp/in"
	"$wg" pubkey < "$tmp/in" > "$tmp/wo" 2> "$tmp/we"; wrc=$?
	"$rg" pubkey < "$tmp/in" > "$tmp/ro" 2> "$tmp/re"; rrc=$?
	check "$rrc" "$wrc" "exit code: $name"
	check "$(cat "$tmp/ro")" "$(cat "$tmp/wo")" "stdout: $name"
	check "$(sed 's/^[^:]*: //' "$tmp/re")" "$(sed 's/^[^:]*: //' "$tmp/we")" "stderr: $name"
done

# Extra arguments are refused by both (wg exits 1; riftgate's usage errors are 2 in all three
# binaries, docs/cli.md#exit-codes).
"$wg" genkey extra >/dev/null 2>&1; wrc=$?; "$rg" genkey extra >/dev/null 2>&1; rrc=$?
check "$rrc $wrc" "2 1" "genkey extra argument"
"$wg" pubkey extra </dev/null >/dev/null 2>&1; wrc=$?; "$rg" pubkey extra </dev/null >/dev/null 2>&1; rrc=$?
check "$rrc $wrc" "2 1" "pubkey extra argument"

# umask: writing a key to a world-readable file warns, like wg; with umask 077 it is silent.
(umask 022; "$wg" genkey > "$tmp/wk" 2> "$tmp/we"; "$rg" genkey > "$tmp/rk" 2> "$tmp/re")
check "$(cat "$tmp/re")" "$(cat "$tmp/we")" "world-readable warning"
[ -s "$tmp/re" ] || { echo "FAIL: no warning for a world-readable file"; fail=$((fail + 1)); }
(umask 077; "$rg" genkey > "$tmp/rk2" 2> "$tmp/re2")
check "$(cat "$tmp/re2")" "" "no warning with umask 077"
check "$(stat -c %a "$tmp/rk2")" 600 "umask 077 file mode"

echo "keys-wg: $((n - fail))/$n checks passed"
[ "$fail" -eq 0 ]
