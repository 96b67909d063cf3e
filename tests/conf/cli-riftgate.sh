#!/usr/bin/env bash
# riftgate CLI end to end (the real binary): help and usage, init/check/genkey/pubkey, and every
# malformed flag, config or key giving exactly one error line and exit 1, never a crash and
# never a partial file. Runs in a private temp dir with its own XDG_CONFIG_HOME.
set -u
rg=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/xdg HOME=$tmp/home RIFTGATE_CONF_DIR=$tmp/etc
unset RIFTGATE_TOKEN
n=0; fail=0
ok() { n=$((n + 1)); }
bad() { n=$((n + 1)); fail=$((fail + 1)); echo "FAIL: $*"; }

# run NAME WANT_RC CMD...: runs with stdin from /dev/null, keeps out/err, checks the exit code
run() {
	local name=$1 want=$2; shift 2
	"$@" </dev/null >"$tmp/out" 2>"$tmp/err"; rc=$?
	if [ "$rc" = "$want" ]; then ok; else bad "$name: exit $rc, want $want; stderr: $(head -c 300 "$tmp/err")"; fi
}
# one_line NAME: stderr is exactly one line starting with "riftgate: "
one_line() {
	local lines; lines=$(wc -l <"$tmp/err")
	if [ "$lines" = 1 ] && grep -q '^riftgate: ' "$tmp/err"; then ok; else bad "$1: want one 'riftgate:' line, got: $(cat "$tmp/err")"; fi
}

# --- help and usage ---
run "no args" 2 "$rg"; grep -q '^Usage: riftgate' "$tmp/err" && ok || bad "no args: no usage"
run "--help" 0 "$rg" --help
for c in genkey pubkey init check up down status invite join; do
	grep -q "^  $c: " "$tmp/out" && ok || bad "--help lacks $c"
done
run "help" 0 "$rg" help
run "unknown command" 2 "$rg" frobnicate
grep -q "Invalid subcommand: \`frobnicate'" "$tmp/err" && grep -q '^Usage:' "$tmp/err" && ok || bad "unknown command message"
run "unknown option" 2 "$rg" --frob genkey
run "-v genkey" 0 "$rg" -v genkey
run "--verbose -v genkey" 0 "$rg" --verbose -v genkey
for c in genkey pubkey init check; do
	run "$c --help" 0 "$rg" "$c" --help
	grep -q "^Usage: riftgate $c" "$tmp/out" && ok || bad "$c --help: no usage"
done

# --- init ---
cfg=$tmp/cfg/sub/config.toml
args=(--name laptop --server ws://127.0.0.1:8080/connect --token t0ken-s3cret --address 10.10.0.2/24)
run "init" 0 "$rg" init "${args[@]}" --config "$cfg"
[ "$(stat -c %a "$cfg")" = 600 ] && ok || bad "init: config mode $(stat -c %a "$cfg")"
[ "$(stat -c %a "$tmp/cfg/sub")" = 700 ] && ok || bad "init: dir mode"
pub=$(sed -n 's/^Public key: //p' "$tmp/out")
priv=$(sed -n 's/^private_key = "\(.*\)"$/\1/p' "$cfg")
[ "${#priv}" = 44 ] && [ "$(printf '%s\n' "$priv" | "$rg" pubkey)" = "$pub" ] && ok || bad "init: printed public key does not match the file's private key"
grep -q 't0ken-s3cret' "$tmp/out" && bad "init echoed the token" || ok
run "check" 0 "$rg" check --config "$cfg"
grep -q "public key: $pub" "$tmp/out" && ok || bad "check: public key"
grep -q "path mtu: probed per peer" "$tmp/out" && ok || bad "check: path mtu default"
cp "$cfg" "$tmp/before"
run "init again" 1 "$rg" init "${args[@]}" --config "$cfg"; one_line "init again"
grep -q -- '--force' "$tmp/err" && ok || bad "init again: no hint about --force"
cmp -s "$cfg" "$tmp/before" && ok || bad "init again changed the file"
run "init --force" 0 "$rg" init "${args[@]}" --config "$cfg" --force
cmp -s "$cfg" "$tmp/before" && bad "init --force did not replace the file" || ok
run "init default path" 0 "$rg" init "${args[@]}"
# as root the default is /etc/riftgate/IFNAME.toml (here $RIFTGATE_CONF_DIR), what the unit reads
if [ "$(id -u)" = 0 ]; then def=$RIFTGATE_CONF_DIR/riftgate0.toml; else def=$XDG_CONFIG_HOME/riftgate/config.toml; fi
[ -f "$def" ] && grep -q "^Wrote $def\$" "$tmp/out" && ok || bad "init: default path $def not used: $(cat "$tmp/out")"
run "check default path" 0 "$rg" check
grep -q "^$def: ok" "$tmp/out" && ok || bad "check: default path $def not used: $(cat "$tmp/out")"
# invite finds the same default config as up and check (as root /etc/riftgate/riftgate0.toml,
# not root's own XDG path)
run "invite default path" 0 "$rg" invite --name newdev
grep -q . "$tmp/out" && ok || bad "invite: no token from the default config $def: $(cat "$tmp/err")"
if [ "$(id -u)" = 0 ]; then
	run "init default path, --interface" 0 "$rg" init "${args[@]}" --interface rgcf-x1
	[ -f "$RIFTGATE_CONF_DIR/rgcf-x1.toml" ] && ok || bad "init as root: IFNAME.toml"
fi
RIFTGATE_TOKEN=envtok run "init token from env" 0 "$rg" init --name a --server wss://h --address fd00::2/64 --config "$tmp/env.toml"
grep -q 'auth_token = "envtok"' "$tmp/env.toml" && ok || bad "init: env token"
run "init iface+mtu" 0 "$rg" init "${args[@]}" --interface rgcf-t0 --mtu 1280 --network lab --config "$tmp/m.toml"
# --network selects the hub network: it goes into a URL that names none (/connect/NAME)
grep -q '^server_url = "ws://127.0.0.1:8080/connect/lab"$' "$tmp/m.toml" && ok || bad "init --network: not in the URL: $(grep server_url "$tmp/m.toml")"
run "init --network into a bare URL" 0 "$rg" init --name a --server wss://h.example:8443 --token t --address 10.0.0.1/24 --network home --config "$tmp/n1.toml"
grep -q '^server_url = "wss://h.example:8443/connect/home"$' "$tmp/n1.toml" && ok || bad "init --network, bare URL: $(grep server_url "$tmp/n1.toml")"
run "init --network equal to the URL's" 0 "$rg" init --name a --server ws://h/connect/home --token t --address 10.0.0.1/24 --network home --config "$tmp/n2.toml"
grep -q '^server_url = "ws://h/connect/home"$' "$tmp/n2.toml" && ok || bad "init --network, same network: URL changed"
run "init --network against the URL's" 1 "$rg" init --name a --server ws://h/connect/other --token t --address 10.0.0.1/24 --network home --config "$tmp/n3.toml"
one_line "init --network against the URL's"; [ ! -e "$tmp/n3.toml" ] && ok || bad "init --network mismatch wrote a file"
sed 's|^server_url = .*|server_url = "ws://127.0.0.1:8080/connect"|' "$tmp/m.toml" >"$tmp/m2.toml"; chmod 600 "$tmp/m2.toml"
run "check: name not in the URL" 0 "$rg" check --config "$tmp/m2.toml"
grep -q "^warning: \[network\] name 'lab' is not sent to the hub: .* default network .*server_url = \"ws://127.0.0.1:8080/connect/lab\"" "$tmp/out" && ok || bad "check: no network warning: $(cat "$tmp/out")"
run "check: default name, bare URL: no warning" 0 "$rg" check --config "$def"
grep -q "^warning:" "$tmp/out" && bad "check warned on a default config" || ok
grep -q '^mtu = 1280$' "$tmp/m.toml" && grep -q '^interface = "rgcf-t0"$' "$tmp/m.toml" && ok || bad "init: --interface/--mtu"

# Every bad flag: one line, exit 1, nothing written (no file, no temp file).
badflags=(
	"missing name|--server ws://h --token t --address 10.0.0.1/24"
	"missing token|--name a --server ws://h --address 10.0.0.1/24"
	"bad name|--name a/b --server ws://h --token t --address 10.0.0.1/24"
	"long name|--name $(printf 'x%.0s' $(seq 65)) --server ws://h --token t --address 10.0.0.1/24"
	"bad server|--name a --server http://h --token t --address 10.0.0.1/24"
	"bad port|--name a --server ws://h:0 --token t --address 10.0.0.1/24"
	"bad address|--name a --server ws://h --token t --address 10.0.0.1"
	"bad prefix|--name a --server ws://h --token t --address 10.0.0.1/40"
	"bad v6|--name a --server ws://h --token t --address fd00:::1/64"
	"empty token|--name a --server ws://h --token= --address 10.0.0.1/24"
	"bad mtu|--name a --server ws://h --token t --address 10.0.0.1/24 --mtu 100"
	"mtu junk|--name a --server ws://h --token t --address 10.0.0.1/24 --mtu 1280x"
	"bad iface|--name a --server ws://h --token t --address 10.0.0.1/24 --interface waytoolongname00"
	"bad network|--name a --server ws://h --token t --address 10.0.0.1/24 --network 'a b'"
	"unknown flag|--name a --server ws://h --token t --address 10.0.0.1/24 --frob"
	"missing value|--name a --server ws://h --token t --address"
	"extra arg|--name a --server ws://h --token t --address 10.0.0.1/24 extra"
)
mkdir -p "$tmp/bad"
for c in "${badflags[@]}"; do
	name=${c%%|*}; eval "set -- ${c#*|}"
	case $name in "unknown flag"|"missing value"|"extra arg"|"missing name"|"missing token") want=2 ;; *) want=1 ;; esac
	run "init $name" $want "$rg" init "$@" --config "$tmp/bad/config.toml"; one_line "init $name"
done
[ -z "$(ls -A "$tmp/bad")" ] && ok || bad "failed init left files: $(ls -A "$tmp/bad")"
# Unwritable place: one line, exit 1.
mkdir -p "$tmp/ro"; chmod 500 "$tmp/ro"
if [ "$(id -u)" != 0 ]; then
	run "init unwritable" 1 "$rg" init "${args[@]}" --config "$tmp/ro/config.toml"; one_line "init unwritable"
fi
run "init onto a directory" 1 "$rg" init "${args[@]}" --config "$tmp/ro" --force; one_line "init onto a directory"

# --- malformed configs through check: one line naming file:line:col, exit 1, no secrets ---
good=$(cat "$cfg")
key=$(sed -n 's/^private_key = "\(.*\)"$/\1/p' "$cfg")
i=0
check_bad() {	# name, content, expected substring
	i=$((i + 1)); local f=$tmp/bad-$i.toml
	printf '%s' "$2" >"$f"; chmod 600 "$f"
	run "check $1" 1 "$rg" check --config "$f"; one_line "check $1"
	grep -qF -- "$3" "$tmp/err" && ok || bad "check $1: want '$3' in: $(cat "$tmp/err")"
	grep -qF -- "$key" "$tmp/err" && bad "check $1: echoed the private key" || ok
	grep -qF -- "t0ken-s3cret" "$tmp/err" && bad "check $1: echoed the token" || ok
}
check_bad "toml syntax" "${good/\[device\]/[device}" "$tmp/bad-1.toml:"
check_bad "unknown key" "$good"$'\nbogus = 1\n' "unknown key 'bogus'"
check_bad "short key" "${good/$key/${key:0:40}=}" "device.private_key must be"
check_bad "garbage key" "${good/$key/${key:0:20}*${key:21}}" "device.private_key must be"
check_bad "bad address" "${good/10.10.0.2\/24/10.10.0.2}" "device.address must be"
check_bad "bad url" "${good/ws:\/\//http://}" "network.server_url must be"
check_bad "bad utf8" "${good}"$'\n# \xff\n' "invalid UTF-8"
check_bad "empty file" "" "missing required table [network]"
check_bad "binary" $'\x01\x02\x03' "1:1: expected a key"
check_bad "duplicate" "${good}"$'\n[device]\n' "already defined"
turns=$'\n[[turn]]\nurl = "turns:198.51.100.1:5349"\nusername = "u"\ncredential = "p"\n'
check_bad "ca_file missing" "$good$turns"'ca_file = "/nonexistent/ca.pem"' \
	"turn[0].ca_file: /nonexistent/ca.pem: cannot open"
check_bad "ca_file on turn:" "$good${turns/turns:/turn:}"'ca_file = "/ca.pem"' "only applies to a turns: URL"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=ca \
	-keyout "$tmp/ca-key.pem" -out "$tmp/ca.pem" 2>/dev/null || bad "openssl req"
printf '%s%sca_file = "%s"\n' "$good" "$turns" "$tmp/ca.pem" >"$tmp/ca.toml"; chmod 600 "$tmp/ca.toml"
run "check ca_file" 0 "$rg" check --config "$tmp/ca.toml"
grep -qF "turn turns:198.51.100.1:5349: TLS, certificate checked against $tmp/ca.pem (1 certificate)" \
	"$tmp/out" && ok || bad "check ca_file: $(cat "$tmp/out")"
printf '%s%s' "$good" "$turns" >"$tmp/sys.toml"; chmod 600 "$tmp/sys.toml"
run "check turns: system store" 0 "$rg" check --config "$tmp/sys.toml"
grep -qF "TLS, certificate checked against the system CA store" "$tmp/out" && ok ||
	bad "check turns: system store: $(cat "$tmp/out")"
printf '%s' "$good" >"$tmp/perm.toml"; chmod 644 "$tmp/perm.toml"
run "check 0644" 1 "$rg" check --config "$tmp/perm.toml"; one_line "check 0644"
grep -qF "chmod 600 $tmp/perm.toml" "$tmp/err" && ok || bad "check 0644: no chmod hint"
run "check missing" 1 "$rg" check --config "$tmp/nope.toml"; one_line "check missing"

# --- genkey/pubkey basics (the wg comparison is suite 'keys') ---
run "genkey" 0 "$rg" genkey
k=$(cat "$tmp/out"); [ "${#k}" = 44 ] && ok || bad "genkey length"
printf 'not a key' >"$tmp/nk"
"$rg" pubkey <"$tmp/nk" >"$tmp/out" 2>"$tmp/err"; [ $? = 1 ] && ok || bad "pubkey bad key exit"
one_line "pubkey bad key"
run "genkey extra" 2 "$rg" genkey extra

echo "cli: $((n - fail))/$n checks passed"
[ "$fail" -eq 0 ]
