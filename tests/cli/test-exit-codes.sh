#!/usr/bin/env bash
# --version and exit codes of the three binaries (docs/cli.md#exit-codes): 0 ok, 1 error,
# 2 malformed command line, and every malformed command line names the offending word.
# No network, no root. Args: riftgate riftgate-hub riftgate-wg
set -u
rg=$1 hub=$2 wgd=$3
. "$(dirname "$0")/../lab/check.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/xdg HOME=$tmp/home

# want NAME RC PATTERN CMD...: exit code RC, and PATTERN (grep -E) in stdout+stderr
want()
{
	local name=$1 rc=$2 pat=$3; shift 3
	"$@" </dev/null >"$tmp/out" 2>&1; got=$?
	if [ "$got" = "$rc" ] && grep -qE -- "$pat" "$tmp/out"; then
		ok "$name"
	else
		bad "$name: exit $got (want $rc), output: $(head -c 300 "$tmp/out")"
	fi
}

desc=$(git -C "${RG_SOURCE_ROOT:-.}" describe --always --dirty --tags 2>/dev/null || echo '')
for b in "$rg" "$hub" "$wgd"; do
	n=$(basename "$b")
	want "$n --version" 0 "^$n [0-9]+\.[0-9]+\.[0-9]+ \(.+\)$" "$b" --version
	want "$n -V" 0 "^$n [0-9]" "$b" -V
	[ "$(wc -l <"$tmp/out")" = 1 ] && ok "$n -V: one line" || bad "$n -V: $(cat "$tmp/out")"
	# git describe at build time: the commit part of HEAD's describe (a later -dirty is fine).
	if [ -n "$desc" ]; then
		"$b" --version | grep -qF "(${desc%-dirty}" && ok "$n: git describe baked in" ||
			bad "$n: --version says '$("$b" --version)', HEAD is $desc"
	fi
	want "$n --help" 0 "sage" "$b" --help
	want "$n --bogus" 2 "'?--bogus'?" "$b" --bogus
done

# riftgate
want "riftgate: no command" 2 "^Usage:" "$rg"
want "riftgate: unknown command" 2 "frobnicate" "$rg" frobnicate
want "check --conf x" 2 "unknown option '--conf'" "$rg" check --conf x
want "check --config (no value)" 2 "missing the value of '--config'" "$rg" check --config
want "check extra" 2 "unexpected argument 'extra'" "$rg" check extra
want "check missing file" 1 "nope.toml" "$rg" check --config "$tmp/nope.toml"
want "genkey extra" 2 "got 'extra'" "$rg" genkey extra
want "pubkey extra" 2 "got 'extra'" "$rg" pubkey extra
want "status --frob" 2 "unknown option '--frob'" "$rg" status --frob
want "status a b" 2 "unexpected argument 'b'" "$rg" status a b
want "down --frob" 2 "unknown option '--frob'" "$rg" down --frob
want "up --frob" 2 "unknown option '--frob'" "$rg" up --frob
want "up --config (no value)" 2 "missing the value of '--config'" "$rg" up --config
want "init --frob" 2 "'--frob'" "$rg" init --frob
want "init without flags" 2 "needs --name" "$rg" init
want "init bad mtu value" 1 "'100'" "$rg" init --name a --server ws://h --token t \
	--address 10.0.0.1/24 --mtu 100 --config "$tmp/c.toml"
want "join two tokens" 2 "got also 'b'" "$rg" join a b --config "$tmp/j.toml"
want "invite --frob" 2 "'--frob'" "$rg" invite --frob
want "genkey" 0 "^[A-Za-z0-9+/]{43}=$" "$rg" genkey

# riftgate-hub
want "hub --addr (no value)" 2 "--addr needs a value" "$hub" --addr
want "hub bad log level" 1 "got 'loud'" "$hub" --log-level loud
want "hub stray word" 2 "unknown argument 'stray'" "$hub" stray
# SIGHUP (a closed terminal) stops the hub as SIGTERM does: clients told, exit 0 (on loopback)
"$hub" --addr 127.0.0.1:0 >"$tmp/hub.log" 2>&1 &
hp=$!
for i in $(seq 50); do grep -q "listening on" "$tmp/hub.log" && break; sleep 0.1; done
kill -HUP "$hp"; wait "$hp"; rc=$?
check "hub: SIGHUP is a clean stop (exit $rc)" sh -c "[ $rc = 0 ] && grep -q event=stopped '$tmp/hub.log'"

# riftgate-wg
want "wg no IFNAME" 2 "missing IFNAME" "$wgd"
want "wg extra" 2 "unexpected argument 'b'" "$wgd" a b
want "wg --mtu (no value)" 2 "'?--mtu'?" "$wgd" --mtu
want "wg bad mtu value" 1 "got '12'" "$wgd" --mtu 12 x

echo "cli exit codes: $passes passed, $fails failed"
check_counts cli-exit-codes
[ "$fails" -eq 0 ]
