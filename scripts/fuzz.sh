#!/usr/bin/env bash
# Runs every fuzz-* executable of a -Dfuzz=true build for SECONDS each, starting from
# fuzz/corpus/<name>/ (crash inputs kept there become regression cases). A target that finds a
# crash fails; the input is left in fuzz/crashes/. Writes a count line to COUNTS_DIR if given.
set -u
build=${1:-build-fuzz}; secs=${2:-60}; counts=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
pass=0; fail=0
mkdir -p "$root/fuzz/crashes"
export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for bin in "$build"/fuzz/fuzz-*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue	# skip meson's *.p object dirs
	name=$(basename "$bin"); name=${name#fuzz-}
	corpus="$root/fuzz/corpus/$name"; work=$(mktemp -d)
	mkdir -p "$corpus"
	dict=(); [ -f "$root/fuzz/$name.dict" ] && dict=(-dict="$root/fuzz/$name.dict")
	if "$bin" "${dict[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$root/fuzz/crashes/$name-" -print_final_stats=0 "$work" "$corpus" \
		>"$work.log" 2>&1; then
		echo "fuzz: $name: clean for ${secs}s ($(grep -c . <(ls "$work")) new inputs)"
		pass=$((pass + 1))
	else
		echo "fuzz: $name: FAILED"; tail -40 "$work.log"
		fail=$((fail + 1))
	fi
	rm -rf "$work" "$work.log"
done
echo "fuzz: $pass passed, $fail failed"
[ -n "$counts" ] && mkdir -p "$counts" && echo "$pass $fail" > "$counts/fuzz-smoke"
[ "$fail" -eq 0 ]
