#!/usr/bin/env bash
# riftgate up/down/status as a person uses them: daemon mode reports before detaching (hub
# unreachable = warning, rejected token = error and exit 1), a second `up` on the same interface
# is refused, `down` stops the daemon, status without an agent, config mode and non-root errors.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"

work=$(mktemp -d /tmp/rgag-cli.XXXXXX)
fails=0
passes=0
ok() { echo "ok: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect WHAT RC PATTERN CMD...: exit status RC and PATTERN (grep -E) in the output
expect()
{
	local what=$1 want=$2 pat=$3 out rc; shift 3
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" = "$want" ] && echo "$out" | grep -qE "$pat"; then
		ok "$what"
	else
		bad "$what (rc=$rc, want $want, /$pat/): $out"
	fi
}

mesh_setup "$build" "$work" rgag-c rgc
if1=$(mesh_ifname 1)
lab_on_cleanup 'lab_exec p1 "$MESH_RIFTGATE" down $if1 >/dev/null 2>&1; rm -rf "$work"'
mesh_build 2
rg() { lab_exec p1 "$MESH_RIFTGATE" "$@"; }

expect "status without an agent" 1 "not up" rg status
expect "down without an agent" 1 "not up" rg down
expect "up: hub unreachable is a warning, daemon detaches" 0 \
	"warning: hub .* unreachable.*keeps retrying" rg up --config "$work/p1.toml"
expect "status of the daemon" 0 "hub: ws://10.98.0.1:8080/connect \(disconnected\)" rg status $if1
expect "a second up is refused" 1 "already up on $if1" rg up --config "$work/p1.toml"
expect "down stops the daemon" 0 "$if1 is down" rg down
if lab_exec p1 ip link show $if1 >/dev/null 2>&1; then bad "interface gone"; else ok "interface gone"; fi

mesh_hub_start || { bad "hub starts"; exit 1; }
expect "up: connected" 0 "$if1 is up \(mtu [0-9]+\), connected" rg up --config "$work/p1.toml"
expect "status --json" 0 '"hubConnected" : true' rg status --json
expect "down by name" 0 "$if1 is down" rg down $if1

sed 's/^auth_token = .*/auth_token = "wrong"/' "$work/p2.toml" >"$work/bad.toml"
chmod 600 "$work/bad.toml"
expect "up: rejected token is an error" 1 "hub rejected token.*auth_token" rg up --config "$work/bad.toml"
expect "up --foreground: rejected token" 1 "hub rejected token" rg up --foreground --config "$work/bad.toml"
chmod 644 "$work/bad.toml"
expect "up: config readable by others" 1 "chmod 600" rg up --config "$work/bad.toml"
expect "up: missing config" 1 "." rg up --config "$work/nope.toml"
expect "up: unknown option" 2 "unknown option .--bogus." rg up --bogus
expect "up --help" 0 "foreground" rg up --help
if command -v setpriv >/dev/null; then
	expect "up as non-root" 1 "must run as root" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$MESH_RIFTGATE" up
fi
echo "e2e cli: $passes passed, $fails failed"
[ -n "${RG_COUNTS_DIR:-}" ] && mkdir -p "$RG_COUNTS_DIR" && echo "$passes $fails" >"$RG_COUNTS_DIR/e2e-cli"
[ "$fails" -eq 0 ]
