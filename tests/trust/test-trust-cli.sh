#!/usr/bin/env bash
# Membership on the command line with the real binary (no network, no root): init
# --new-network, ticket invites, join without the admin, one name/address per device, check,
# devices list and revoke, rotate. Usage: test-trust-cli.sh RIFTGATE
set -euo pipefail
rg=$(readlink -f "$1")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export XDG_CONFIG_HOME=$tmp/xdg
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect_fail() { local what=$1; shift; if "$@" >out 2>err; then bad "$what succeeded"; else ok "$what refused: $(tail -1 err)"; fi; }

# 1: the admin device creates the network.
"$rg" init --name admin --server ws://127.0.0.1:9 --token t0k --address 10.10.0.1/24 \
	--network home --new-network --config "$tmp/admin.toml" >init.out
grep -q '^Fingerprint: SHA256:' init.out && ok "fingerprint printed" || bad "no fingerprint"
fpr=$(sed -n 's/^Fingerprint: //p' init.out)
[ "$(stat -c %a admin.trust/network.key)" = 600 ] && ok "network.key 0600" || bad "network.key mode"
[ "$(stat -c %a admin.trust)" = 700 ] && ok "trust dir 0700" || bad "trust dir mode"
"$rg" check --config "$tmp/admin.toml" >check.out && grep -q 'certificate: valid' check.out \
	&& ok "admin cert valid" || bad "admin check: $(cat check.out)"

# 2: an invite carries a ticket, never the network key; the admin goes away (files moved).
"$rg" invite --config "$tmp/admin.toml" --name bob --address 10.10.0.7/24 --expires 1h >bob.tok 2>/dev/null
seed=$(cat admin.trust/network.key)
if grep -qF -- "$seed" bob.tok; then bad "network key in the token"; else ok "no network key in the token"; fi
mv admin.trust admin.away
"$rg" join --config "$tmp/bob.toml" - <bob.tok >join.out
grep -qF "$fpr" join.out && ok "join prints the anchor fingerprint" || bad "join fingerprint: $(cat join.out)"
"$rg" check --config "$tmp/bob.toml" >check.out && grep -q 'made from an invite ticket' check.out \
	&& ok "bob's cert valid without the admin" || bad "bob check: $(cat check.out)"
[ ! -e bob.trust/network.key ] && ok "bob holds no network key" || bad "network key on bob"
mv admin.away admin.trust

# 3: the ticket binds name and address: join may not change them.
"$rg" invite --config "$tmp/admin.toml" --name carol --expires 1h >carol.tok 2>/dev/null
expect_fail "join --name on a ticket" "$rg" join --config "$tmp/carol.toml" --name mallory - <carol.tok
expect_fail "join --address on a ticket" "$rg" join --config "$tmp/carol.toml" --address 10.10.0.9/24 - <carol.tok
[ ! -e carol.toml ] && ok "nothing written" || bad "carol.toml written"

# 4: one name, one address per device in the registry.
expect_fail "second invite for bob" "$rg" invite --config "$tmp/admin.toml" --name bob
expect_fail "invite for bob's address" "$rg" invite --config "$tmp/admin.toml" --name dave --address 10.10.0.7/24
expect_fail "invite without --name" "$rg" invite --config "$tmp/admin.toml"
expect_fail "invite from a non-admin" "$rg" invite --config "$tmp/bob.toml" --name eve
# Picked addresses avoid every registry address: fill a /29 (6 hosts: admin, bob=.7 is outside).
"$rg" init --name adm2 --server ws://127.0.0.1:9 --token t0k --address 10.20.0.1/29 \
	--network small --new-network --config "$tmp/small.toml" >/dev/null
for n in d2 d3 d4 d5 d6; do
	"$rg" invite --config "$tmp/small.toml" --name $n >/dev/null 2>&1 || bad "invite $n"
done
expect_fail "invite in a full subnet" "$rg" invite --config "$tmp/small.toml" --name d7
[ "$(grep -c active small.trust/registry)" = 6 ] && ok "6 distinct entries" || bad "registry: $(cat small.trust/registry)"
[ "$(awk '!/^#/ {print $3}' small.trust/registry | sort -u | wc -l)" = 6 ] && ok "6 distinct addresses" || bad "duplicate address"

# 5: devices lists; revoke marks and signs.
"$rg" devices --config "$tmp/admin.toml" >dev.out
grep -q '^bob .*10.10.0.7/24.*active' dev.out && ok "devices lists bob" || bad "devices: $(cat dev.out)"
"$rg" devices revoke bob --config "$tmp/admin.toml" >rev.out 2>/dev/null
[ "$(wc -l <admin.trust/revoked)" = 1 ] && ok "revocation persisted" || bad "revoked file"
"$rg" devices --config "$tmp/admin.toml" | grep -q '^bob .*revoked' && ok "bob revoked" || bad "bob not revoked"
expect_fail "revoke twice" "$rg" devices revoke bob --config "$tmp/admin.toml"
expect_fail "revoke the admin" "$rg" devices revoke admin --config "$tmp/admin.toml"
expect_fail "devices on a member" "$rg" devices --config "$tmp/bob.toml"
# The name and address are free again after revocation.
"$rg" invite --config "$tmp/admin.toml" --name bob --address 10.10.0.7/24 >/dev/null 2>&1 \
	&& ok "re-invite after revoke" || bad "re-invite after revoke"

# 6: an expired invite ticket is refused by join.
"$rg" invite --config "$tmp/admin.toml" --name frank --expires 1s >frank.tok 2>/dev/null
sleep 2
expect_fail "expired invite" "$rg" join --config "$tmp/frank.toml" - <frank.tok

# 7: an unsigned network says so.
"$rg" init --name plain --server ws://127.0.0.1:9 --token t0k --address 10.30.0.1/24 \
	--config "$tmp/plain.toml" | grep -q 'not signed' && ok "unsigned note at init" || bad "no unsigned note"
"$rg" check --config "$tmp/plain.toml" | grep -q 'unsigned network' && ok "check: unsigned" || bad "check unsigned"

# 8: riftgate rotate without an agent: a new key in the config, the rotation beside it, check
# accepts it; the next rotation chains; a config whose key is not the certified one is refused.
cp admin.toml admin.before.toml
"$rg" rotate --config "$tmp/admin.toml" >rot1.out 2>rot1.err && ok "rotate 1" || bad "rotate 1: $(cat rot1.err)"
pub=$(sed -n 's/^private_key = "\(.*\)"/\1/p' admin.toml | "$rg" pubkey)
[ "$pub" = "$(cat rot1.out)" ] && ok "the config holds the printed key" || bad "config key $pub vs $(cat rot1.out)"
[ "$(stat -c %a admin.toml)" = 600 ] && ok "config still 0600" || bad "config mode"
grep -q 'no agent is running' rot1.err && ok "rotate says no agent runs" || bad "rotate: $(cat rot1.err)"
"$rg" check --config "$tmp/admin.toml" >check.out && grep -q 'key rotation: 1' check.out \
	&& ok "check accepts the rotated key" || bad "check after rotate: $(cat check.out)"
"$rg" rotate --config "$tmp/admin.toml" >rot2.out 2>/dev/null && ok "rotate 2" || bad "rotate 2"
"$rg" check --config "$tmp/admin.toml" | grep -q 'key rotation: 2' && ok "rotation 2 chained" || bad "rotation 2"
cp admin.before.toml admin.toml
expect_fail "rotate with a key the rotation replaced" "$rg" rotate --config "$tmp/admin.toml"
expect_fail "check with a key the rotation replaced" "$rg" check --config "$tmp/admin.toml"
expect_fail "rotate in an unsigned network" "$rg" rotate --config "$tmp/plain.toml"

echo "$fails failed"
[ "$fails" -eq 0 ]
