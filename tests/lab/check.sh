# Pass/fail bookkeeping for the lab's test scripts (source it after lab.sh).
#   ok WHAT / bad WHAT         record one result, with a timestamp
#   check WHAT CMD...          run CMD, record ok or bad
#   CHECK_BUDGET_S=N           optional: past N seconds of the script (bash SECONDS), check records
#                              "out of time" and exits 1, so a broken run still reports below
#                              meson's timeout and keeps its logs
#   check_counts NAME          write "PASSED FAILED" to $RG_COUNTS_DIR/NAME for the CI summary
passes=0
fails=0
ok() { echo "$(date -u +%T) ok: $*"; passes=$((passes + 1)); }
bad() { echo "$(date -u +%T) FAIL: $*"; fails=$((fails + 1)); }
check()
{
	local what=$1; shift
	if [ -n "${CHECK_BUDGET_S:-}" ] && [ "$SECONDS" -gt "$CHECK_BUDGET_S" ]; then
		bad "out of time before: $what"
		exit 1
	fi
	if "$@"; then ok "$what"; else bad "$what"; fi
}
check_counts()
{
	[ -n "${RG_COUNTS_DIR:-}" ] || return 0
	mkdir -p "$RG_COUNTS_DIR" && echo "$passes $fails" >"$RG_COUNTS_DIR/$1"
}
