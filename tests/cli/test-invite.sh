#!/usr/bin/env bash
# riftgate invite / join with the real binary, no network: a member's config invites, a fresh
# directory joins (stdin, argument, wrapped text), the written config is 0600 and passes
# `riftgate check` with every network field carried over and a new key; refusals (existing
# config, expired, damaged, foreign, other version, bad flags) give one clear line, exit 1 and
# write nothing; address picking stays in the subnet and off reserved and own addresses.
set -u
rg=$(realpath "${1:?usage: test-invite.sh RIFTGATE}")
tmp=$(mktemp -d /tmp/rg-invite.XXXXXX); trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/xdg HOME=$tmp/home
# No agent is reachable here: the run directory is private and empty.
export RIFTGATE_RUN_DIR=$tmp/run
unset RIFTGATE_TOKEN
n=0; fail=0
ok() { n=$((n + 1)); }
bad() { n=$((n + 1)); fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }

# run NAME WANT_RC CMD...: stdin from $tmp/in (empty unless set), keeps out/err
run() {
	local name=$1 want=$2; shift 2
	[ -f "$tmp/in" ] || : >"$tmp/in"
	"$@" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"; rc=$?
	rm -f "$tmp/in"
	if [ "$rc" = "$want" ]; then ok; else bad "$name: exit $rc, want $want; stderr: $(head -c 400 "$tmp/err")"; fi
}
# err_has NAME PATTERN: stderr matches (grep -E)
err_has() { if grep -qE -- "$2" "$tmp/err"; then ok; else bad "$1: stderr lacks /$2/: $(head -c 400 "$tmp/err")"; fi; }
# one_line NAME: stderr is exactly one line starting with "riftgate: "
one_line() {
	if [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q '^riftgate: ' "$tmp/err"; then ok; else bad "$1: want one 'riftgate:' line, got: $(cat "$tmp/err")"; fi
}
# toml FILE SECTION KEY: the raw value of KEY in [SECTION] (first [[turn]] for turn)
toml() { awk -v s="[$2]" -v k="$3" '/^\[/{in_s = ($0 == s)} in_s && $1 == k {sub(/^[^=]*= /, ""); print; exit}' "$1"; }

# The member's config: every network field set.
key=$("$rg" genkey)
member=$tmp/member.toml
(umask 077; cat >"$member" <<-EOT
	[network]
	name = "home"
	server_url = "wss://hub.example.com:8443/connect"
	auth_token = "auth-T0ken-x9"
	turn_secret = "turn-S3cret-q4"
	[device]
	name = "laptop"
	private_key = "$key"
	address = "10.10.0.2/24"
	interface = "rgvm0"
	mtu = 1300
	[stun]
	servers = ["stun:192.0.2.1:3478"]
	[[turn]]
	url = "turn:192.0.2.1:3478?transport=udp"
	username = "u1"
	credential = "Cred-s3cret-7"
	[[turn]]
	url = "turns:relay.example.com:5349?transport=tcp"
	[webrtc]
	ordered = true
	max_retransmits = 3
	path_mtu = 1400
	EOT
)

# --- help ---
run "invite --help" 0 "$rg" invite --help
grep -q '^Usage: riftgate invite' "$tmp/out" && ok || bad "invite --help: no usage"
run "join --help" 0 "$rg" join --help
grep -q '^Usage: riftgate join' "$tmp/out" && ok || bad "join --help: no usage"

# --- invite, then join from stdin ---
run "invite" 0 "$rg" invite --config "$member" --name phone
token=$(cat "$tmp/out")
[ "$(wc -l <"$tmp/out")" = 1 ] && [[ $token == rgi1-* ]] && ok || bad "invite: stdout is not one token line: $(cat "$tmp/out")"
[[ $token =~ ^rgi1-[A-Za-z0-9_-]+$ ]] && ok || bad "invite: token has characters outside base64url"
[ "${#token}" -lt 400 ] && ok || bad "invite: token is ${#token} characters"
err_has "invite stderr: expiry" "expires 20[0-9-]+ [0-9:]+ UTC \(in 1 day\)"
err_has "invite stderr: how to join" "riftgate join -"
err_has "invite stderr: secret" "Keep the token secret"
err_has "invite stderr: what was checked" "Checked: this device's address only; the agent on rgvm0 did not answer"
for s in auth-T0ken-x9 turn-S3cret-q4 Cred-s3cret-7 "$key" "$token"; do
	grep -qF -- "$s" "$tmp/err" && bad "invite stderr shows a secret" || ok
done
addr=$(sed -n 's/^Picked address \([^,]*\),.*/\1/p' "$tmp/err")
[[ $addr =~ ^10\.10\.0\.([0-9]+)/24$ ]] && ok || bad "invite: picked '$addr'"
host=${addr#10.10.0.}; host=${host%/24}
[ "${host:-0}" -ge 1 ] && [ "${host:-0}" -le 254 ] && [ "$host" != 2 ] && ok || bad "invite: picked host $host"

new=$tmp/new/dir/config.toml
echo "$token" >"$tmp/in"
run "join from stdin" 0 "$rg" join --config "$new" --interface rgvn0
[ "$(stat -c %a "$new")" = 600 ] && ok || bad "join: config mode $(stat -c %a "$new")"
[ "$(stat -c %a "$tmp/new/dir")" = 700 ] && ok || bad "join: dir mode"
grep -q "^Ready to join network 'home' (invited by laptop)$" "$tmp/out" && ok || bad "join: headline: $(cat "$tmp/out")"
grep -q "^Device: phone$" "$tmp/out" && grep -q "^Address: $addr$" "$tmp/out" && ok || bad "join: device/address lines"
grep -q "^Next: .*riftgate up --config $(realpath "$new")$" "$tmp/out" && ok || bad "join: next step"
pub=$(sed -n 's/^Public key: //p' "$tmp/out")
priv=$(toml "$new" device private_key | tr -d '"')
[ "$(printf '%s\n' "$priv" | "$rg" pubkey)" = "$pub" ] && ok || bad "join: printed public key does not match the file"
[ "$priv" != "$key" ] && ok || bad "join: reused the inviter's key"
run "check the joined config" 0 "$rg" check --config "$new"
grep -q "network home, device phone, address $addr, interface rgvn0" "$tmp/out" && ok || bad "check: $(cat "$tmp/out")"
grep -q "public key: $pub" "$tmp/out" && ok || bad "check: public key"
# every network field carried over, device-local ones not
for kv in "network name home" "network server_url wss://hub.example.com:8443/connect" \
	"network auth_token auth-T0ken-x9" "network turn_secret turn-S3cret-q4" \
	"stun servers [\"stun:192.0.2.1:3478\"]" "webrtc ordered true" "webrtc max_retransmits 3" "webrtc path_mtu 1400"; do
	set -- $kv
	v=$(toml "$new" "$1" "$2" | tr -d '"')
	[ "$v" = "$(echo "$3" | tr -d '"')" ] && ok || bad "joined $1.$2 = '$v', want '$3'"
done
[ "$(grep -c '^\[\[turn\]\]' "$new")" = 2 ] && ok || bad "joined: two [[turn]] entries"
grep -q '^credential = "Cred-s3cret-7"$' "$new" && grep -q '^url = "turns:relay.example.com:5349?transport=tcp"$' "$new" && ok || bad "joined: turn entries"
grep -q '^mtu' "$new" && bad "joined: the inviter's mtu leaked into the new config" || ok

# --- refusals: one line, exit 1, nothing written ---
cp "$new" "$tmp/before"
echo "$token" >"$tmp/in"
run "join over an existing config" 1 "$rg" join --config "$new"; one_line "existing"
err_has "existing: names the path and --force" "$new already exists \(use --force"
cmp -s "$new" "$tmp/before" && ok || bad "existing: file changed"
echo "$token" >"$tmp/in"
run "join --force" 0 "$rg" join --config "$new" --force
cmp -s "$new" "$tmp/before" && bad "join --force did not replace" || ok

refuse() {	# NAME TOKEN PATTERN
	local name=$1
	printf '%s\n' "$2" >"$tmp/in"
	run "$name" 1 "$rg" join --config "$tmp/refused.toml"; one_line "$name"; err_has "$name" "$3"
	[ -e "$tmp/refused.toml" ] && bad "$name: a config was written" || ok
	ls "$tmp" | grep -q 'refused.toml.tmp' && bad "$name: temp file left" || ok
}
# flip one character in the middle (to another base64url character)
mid=$(( ${#token} / 2 )); c=${token:$mid:1}; [ "$c" = A ] && r=B || r=A
refuse "damaged (one character)" "${token:0:$mid}$r${token:$((mid + 1))}" "damaged \(checksum mismatch\)"
refuse "damaged (cut)" "${token:0:$(( ${#token} - 3 ))}" "damaged"
refuse "damaged (bad character)" "${token:0:20}*${token:21}" "damaged: character 21 is not allowed"
refuse "not a token" "hello world" "not a riftgate invite token"
refuse "other version" "rgi2-${token:5}" "version 2 is not supported"
refuse "empty" "" "no invite token"
run "invite --expires 1s" 0 "$rg" invite --config "$member" --expires 1s
short=$(cat "$tmp/out"); sleep 2
refuse "expired" "$short" "invite token expired at 20[0-9-]+ [0-9:]+ UTC; ask for a new one"

# --- other ways in ---
(cd "$tmp" && "$rg" join "$token" --config rel.toml --name rel </dev/null >"$tmp/out" 2>&1)
grep -q "^Next: .*riftgate up --config $tmp/rel.toml$" "$tmp/out" && ok || bad "join: relative path not made absolute: $(cat "$tmp/out")"
run "join TOKEN as an argument" 0 "$rg" join "$token" --config "$tmp/arg.toml" --name tablet --address 10.10.0.77/24
err_has "argument: history note" "shell history"
grep -q '^name = "tablet"$' "$tmp/arg.toml" && grep -q '^address = "10.10.0.77/24"$' "$tmp/arg.toml" && ok || bad "join overrides"
fold -w 37 <<<"$token" | sed 's/^/  /' >"$tmp/in"
run "join a wrapped, indented token" 0 "$rg" join - --config "$tmp/wrapped.toml"
run "join: bad --name" 1 "$rg" join "$token" --config "$tmp/x.toml" --name 'a b'; one_line "join bad name"
run "join: bad --address" 1 "$rg" join "$token" --config "$tmp/x.toml" --address 10.1.1.1; one_line "join bad address"
run "join: two tokens" 2 "$rg" join "$token" "$token" --config "$tmp/x.toml"
run "join: unknown option" 2 "$rg" join --bogus
run "join: named like the inviter" 1 "$rg" join "$token" --config "$tmp/x.toml" --name laptop
err_has "inviter's name" "inviter's name 'laptop'"
[ -e "$tmp/x.toml" ] && bad "refused joins wrote a config" || ok

# --- invite flags ---
run "invite --no-turn-secret" 0 "$rg" invite --config "$member" --no-turn-secret --address 10.10.0.9/24
err_has "no-turn-secret: says what it left out" "Left out 1 \[\[turn\]\] server that needs the TURN secret"
grep -q "TURN secret" "$tmp/err" && grep -q "hub auth token and TURN" "$tmp/err" && bad "no-turn-secret: still mentions the secret as carried" || ok
cp "$tmp/out" "$tmp/in"
run "join without the TURN secret" 0 "$rg" join --config "$tmp/nts.toml"
grep -q turn_secret "$tmp/nts.toml" && bad "no-turn-secret: secret written" || ok
[ "$(grep -c '^\[\[turn\]\]' "$tmp/nts.toml")" = 1 ] && ok || bad "no-turn-secret: want the one [[turn]] with credentials"
grep -q '^address = "10.10.0.9/24"$' "$tmp/nts.toml" && ok || bad "invite --address not carried"
grep -q '^name = "' "$tmp/nts.toml" && ok || bad "join without a suggested name: no name"

inv_bad() {	# NAME PATTERN ARGS...
	local name=$1 pat=$2; shift 2
	run "invite $name" 1 "$rg" invite --config "$member" "$@"; one_line "invite $name"; err_has "invite $name" "$pat"
	[ -s "$tmp/out" ] && bad "invite $name printed a token" || ok
}
inv_bad "own address" "this device's own address" --address 10.10.0.2/24
inv_bad "network address" "network or broadcast" --address 10.10.0.0/24
inv_bad "broadcast address" "network or broadcast" --address 10.10.0.255/24
inv_bad "no prefix" "must be an IPv4 or IPv6 address with a prefix" --address 10.10.0.9
inv_bad "bad name" "--name must be 1-64" --name 'x/y'
inv_bad "own name" "this device's own name" --name laptop
inv_bad "expires 0s" "--expires must be a duration" --expires 0s
inv_bad "expires without unit" "--expires must be a duration" --expires 5
inv_bad "expires 400d" "--expires must be a duration" --expires 400d
inv_bad "expires 1y" "--expires must be a duration" --expires 1y
run "invite unexpected argument" 2 "$rg" invite --config "$member" extra; one_line "invite extra"; err_has "invite extra" "unexpected argument 'extra'"
run "invite: address outside the subnet is a warning" 0 "$rg" invite --config "$member" --address 10.20.0.5/24
err_has "outside subnet" "warning: 10.20.0.5/24 is not in this network's subnet 10.10.0.0/24"
run "invite --expires 1h30m" 0 "$rg" invite --config "$member" --expires 1h30m
err_has "1h30m" "in 90 minutes"
chmod 644 "$member"
inv_bad "config readable by others" "chmod 600" --name x
chmod 600 "$member"
run "invite: missing config" 1 "$rg" invite --config "$tmp/nope.toml"; one_line "missing config"

# --- address picking in small and IPv6 subnets ---
mkcfg() {	# FILE ADDRESS
	(umask 077; printf '[network]\nname = "n"\nserver_url = "ws://h:1/c"\nauth_token = "t"\n[device]\nname = "d"\nprivate_key = "%s"\naddress = "%s"\n[stun]\nservers = []\n' "$key" "$2" >"$1")
}
mkcfg "$tmp/s30.toml" 10.1.2.1/30
for i in 1 2 3 4 5; do
	run "invite in a /30" 0 "$rg" invite --config "$tmp/s30.toml"
	err_has "/30 picks the only free host" "^Picked address 10.1.2.2/30,"
done
mkcfg "$tmp/s31.toml" 10.1.2.0/31
run "invite in a /31" 1 "$rg" invite --config "$tmp/s31.toml"; one_line "/31"; err_has "/31" "no free address in 10.1.2.0/31; pass --address"
mkcfg "$tmp/v6.toml" fd00:1:2:3::1/64
run "invite in an IPv6 /64" 0 "$rg" invite --config "$tmp/v6.toml" --name v6peer
v6=$(sed -n 's/^Picked address \([^,]*\),.*/\1/p' "$tmp/err")
[[ $v6 == fd00:1:2:3:*/64 ]] && [ "$v6" != "fd00:1:2:3::1/64" ] && [ "$v6" != "fd00:1:2:3::/64" ] && ok || bad "IPv6 pick '$v6'"
cp "$tmp/out" "$tmp/in"
run "join IPv6" 0 "$rg" join --config "$tmp/v6new.toml"
run "check IPv6" 0 "$rg" check --config "$tmp/v6new.toml"
grep -q "device v6peer, address $v6" "$tmp/out" && ok || bad "IPv6 join: $(cat "$tmp/out")"
grep -q '^servers = \[\]$' "$tmp/v6new.toml" && ok || bad "IPv6 join: empty STUN list must stay empty"

echo "cli invite: $((n - fail)) passed, $fail failed"
[ -n "${RG_COUNTS_DIR:-}" ] && mkdir -p "$RG_COUNTS_DIR" && echo "$((n - fail)) $fail" >"$RG_COUNTS_DIR/cli-invite"
[ "$fail" -eq 0 ]
