#!/usr/bin/env bash
# bash completion (completions/riftgate.bash) completes commands, options, interfaces and log
# levels; the zsh file parses (when zsh is installed).
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/lab/check.sh"
complete() { :; }	# the file registers itself; not needed here
. "$src/completions/riftgate.bash"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# comp FUNC WORDS...: completions for the last word
comp()
{
	local f=$1; shift
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
	"$f"
	printf '%s\n' "${COMPREPLY[@]}"
}
check "riftgate st -> status" test "$(comp _riftgate riftgate st)" = status
check "riftgate rel -> reload" test "$(comp _riftgate riftgate rel)" = reload
check "riftgate --vers -> --version" test "$(comp _riftgate riftgate --vers)" = --version
check "riftgate -v i -> init invite" test "$(comp _riftgate riftgate -v i | tr '\n' ' ')" = "init invite "
check "init --na -> --name" test "$(comp _riftgate riftgate init --na)" = --name
check "up --f -> --foreground" test "$(comp _riftgate riftgate up --f)" = --foreground
check "up --log-level d -> debug" test "$(comp _riftgate riftgate up --log-level d)" = debug
mkdir "$tmp/run"; : >"$tmp/run/rgcmp0.ctl"; : >"$tmp/run/rgcmp1.ctl"
check "status rg -> running interfaces" \
	test "$(RIFTGATE_RUN_DIR=$tmp/run comp _riftgate riftgate status rg | sort | tr '\n' ' ')" = "rgcmp0 rgcmp1 "
check "reload rg -> running interfaces" \
	test "$(RIFTGATE_RUN_DIR=$tmp/run comp _riftgate riftgate reload rg | sort | tr '\n' ' ')" = "rgcmp0 rgcmp1 "
check "hub --log-level w -> warn" test "$(comp _riftgate_hub riftgate-hub --log-level w)" = warn
if command -v zsh >/dev/null; then
	check "zsh completion parses" zsh -n "$src/completions/_riftgate"
fi
echo "cli completion: $passes passed, $fails failed"
check_counts cli-completion
[ "$fails" -eq 0 ]
