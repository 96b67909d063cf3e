#!/usr/bin/env bash
# riftgate invite --qr: the terminal QR code, turned back into an image, decodes (zbarimg) to
# exactly the token printed below it; the token alone still works with `join`.
set -u
rg=$(realpath "${1:?usage: test-qr.sh RIFTGATE}")
here=$(cd "$(dirname "$0")" && pwd)
command -v zbarimg >/dev/null || { echo "SKIP: zbarimg (zbar-tools) missing"; exit 77; }
tmp=$(mktemp -d /tmp/rg-qr.XXXXXX); trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/xdg HOME=$tmp/home RIFTGATE_RUN_DIR=$tmp/run
n=0; fail=0
check() { local what=$1; shift; n=$((n + 1)); if "$@"; then echo "ok: $what"; else fail=$((fail + 1)); echo "FAIL: $what"; fi; }

key=$("$rg" genkey)
(umask 077; cat >"$tmp/member.toml" <<-EOT
	[network]
	name = "home"
	server_url = "wss://hub.example.org/connect/home"
	auth_token = "tok-$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
	turn_secret = "$(head -c 24 /dev/urandom | base64)"
	[device]
	name = "laptop"
	private_key = "$key"
	address = "10.10.0.1/24"
	[stun]
	servers = []
	[[turn]]
	url = "turn:turn.example.org:3478"
	EOT
)
out=$("$rg" invite --config "$tmp/member.toml" --name phone --qr 2>"$tmp/err"); rc=$?
check "invite --qr exits 0 ($(head -c 200 "$tmp/err"))" test "$rc" = 0
if [ "$rc" = 0 ] && grep -q "built without libqrencode" "$tmp/err"; then
	echo "SKIP: built without libqrencode"; exit 77
fi
token=$(echo "$out" | tail -n 1)
check "the last line is the token" grep -qE '^[A-Za-z0-9_-]{40,}' <<<"$token"
check "a QR code is printed above it" test "$(echo "$out" | wc -l)" -gt 20
echo "$out" | python3 "$here/qr-decode.py" "$tmp/qr.pgm"
dec=$(zbarimg --quiet --raw "$tmp/qr.pgm" 2>"$tmp/zerr")
check "zbarimg decodes the QR code ($(head -c 200 "$tmp/zerr"))" test -n "$dec"
check "it decodes to the token" test "$dec" = "$token"
out2=$("$rg" invite --config "$tmp/member.toml" --name phone 2>/dev/null)
check "without --qr only the token" test "$(echo "$out2" | wc -l)" = 1
mkdir -p "$tmp/new"
echo "$dec" | XDG_CONFIG_HOME=$tmp/new "$rg" join - >"$tmp/join.out" 2>&1
check "the decoded token joins" test -f "$tmp/new/riftgate/config.toml"
echo "cli qr: $((n - fail)) passed, $fail failed"
[ -n "${RG_COUNTS_DIR:-}" ] && mkdir -p "$RG_COUNTS_DIR" && echo "$((n - fail)) $fail" >"$RG_COUNTS_DIR/cli-qr"
[ "$fail" -eq 0 ]
