#!/usr/bin/env bash
# docs/troubleshooting.md stays in step with the source: every peer failure kind the agent sets
# (peer_fail_kind, last_error_kind) and every hub failure kind (sig_client_failure_name) has a
# row, and every kind the document lists still exists in the source.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
doc=$src/docs/troubleshooting.md
n=0 fail=0
peer=$( { grep -oE 'peer_fail_kind\(p, "[a-z-]+"' "$src/src/agent/peer.c" | grep -oE '"[a-z-]+"';
	  grep -oE 'last_error_kind = "[a-z-]+"' "$src/src/agent/peer.c" | grep -oE '"[a-z-]+"'; } |
	tr -d '"' | sort -u)
hub=$(sed -n '/sig_client_failure_name/,/^}/p' "$src/src/signal/client.c" | grep -oE '\] = "[a-z]+"' |
	grep -oE '"[a-z]+"' | tr -d '"' | sort -u)
# the rows of the tables headed "| kind |" (other tables, such as the direct path's states, are
# not failure kinds)
kinds=$(awk '/^\| kind \|/ { t = 1; next } !/^\|/ { t = 0 } t' "$doc" |
	grep -oE '^\| `[a-z-]+` \|' | grep -oE '[a-z-]+' | sort -u)
for k in $peer $hub; do
	n=$((n + 1))
	grep -qx "$k" <<<"$kinds" || { echo "FAIL: kind $k has no row in docs/troubleshooting.md"; fail=$((fail + 1)); }
done
for k in $kinds; do
	n=$((n + 1))
	grep -qx "$k" <<<"$peer"$'\n'"$hub" || { echo "FAIL: docs/troubleshooting.md lists kind $k, the source does not"; fail=$((fail + 1)); }
done
[ "$n" -gt 15 ] || { echo "FAIL: only $n kinds found (grep patterns stale?)"; fail=$((fail + 1)); }
echo "troubleshooting kinds: $((n - fail)) passed, $fail failed"
[ -n "${RG_COUNTS_DIR:-}" ] && mkdir -p "$RG_COUNTS_DIR" && echo "$((n - fail)) $fail" >"$RG_COUNTS_DIR/cli-troubleshooting"
[ "$fail" -eq 0 ]
