#!/usr/bin/env bash
# Every option a binary's --help names, and every option the bash completion offers, is
# documented in that binary's man page source (docs/man/*.scd), so the pages cannot fall
# behind the flags. Usage: test-manpages.sh RIFTGATE RIFTGATE_HUB RIFTGATE_WG
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/lab/check.sh"
rg=$1 hub=$2 wgd=$3

# options_of TEXT: the long options a usage text offers, one per line: those in [brackets]
# and those opening a line of the option list ("  --opt" or "  -o, --opt"); wrapped prose
# that merely mentions another command's option does not count
options_of()
{
	grep -oE -- '^ {2}(-[a-zA-Z]+, )?--[a-z][a-z0-9-]*|\[--[a-z][a-z0-9-]*' |
		grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

# documented PAGE OPTION: the page names the option in bold (*--opt*) somewhere
documented() { grep -qF -- "*$2*" "$src/docs/man/$1.scd"; }

check_page()
{
	local page=$1 what=$2 opts=$3 o n=0
	for o in $opts; do
		n=$((n + 1))
		check "$page documents $o ($what)" documented "$page" "$o"
	done
	counted=$n
}

# the extraction finds the option lists at all (else every check above would pass vacuously)
check_page riftgate-hub.8 "--help" "$("$hub" --help 2>&1 | options_of)"
check "riftgate-hub --help: 20 or more options found ($counted)" test "$counted" -ge 20
check_page riftgate-wg.8 "--help" "$("$wgd" --help 2>&1 | options_of)"
check "riftgate-wg --help: options found ($counted)" test "$counted" -ge 3
check_page riftgate.8 "--help" "$("$rg" --help 2>&1 | options_of)"
# every subcommand riftgate --help lists, with its own --help
cmds=$("$rg" --help 2>&1 | sed -n 's/^  \([a-z]*\): .*/\1/p')
check "riftgate --help lists subcommands" test -n "$cmds"
for c in $cmds; do
	check_page riftgate.8 "riftgate $c --help" "$("$rg" "$c" --help 2>&1 | options_of)"
	[ "$c" = up ] && check "riftgate up --help: options found ($counted)" test "$counted" -ge 4
done
check_page riftgate.8 "bash completion" \
	"$(sed -n '/^_riftgate()/,/^}/p' "$src/completions/riftgate.bash" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)"
check_page riftgate-hub.8 "bash completion" \
	"$(sed -n '/^_riftgate_hub()/,/^}/p' "$src/completions/riftgate.bash" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)"
echo "cli manpages: $passes passed, $fails failed"
check_counts cli-manpages
[ "$fails" -eq 0 ]
